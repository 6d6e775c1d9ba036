"""The tested-configurations page names the bounds pyproject.toml declares, and every leg."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "configurations.md"


def test_the_page_names_the_declared_bounds_and_every_leg() -> None:
    if sys.version_info < (3, 11):
        pytest.skip("tomllib arrived in Python 3.11")
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    legs = tomllib.loads((ROOT / ".ci" / "configurations.toml").read_text(encoding="utf-8"))
    page = PAGE.read_text(encoding="utf-8")
    assert f"Python `{project['requires-python']}`" in page
    for requirement in project["dependencies"]:
        assert f"`{requirement}`" in page, f"{requirement} is not on {PAGE.name}"
    for leg in legs["leg"]:
        assert f"| {leg['name']} |" in page, f"leg {leg['name']} is not on {PAGE.name}"
