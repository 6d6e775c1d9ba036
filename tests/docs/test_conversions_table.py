"""The decision tables in docs/conversions.md are what ``aliasguard report --json`` measures here.

The tables sit in the page between ``<!-- report-table: NAME -->`` and ``<!-- end report-table -->``
markers, rendered from the report by `render_tables`. The test measures afresh and compares, so a
torch or NumPy release that changes a route fails here instead of leaving the page stale. The site
build itself never runs torch: it stays fast and gives the same pages on every machine.

When the measurement changes on purpose, regenerate the tables in place and review the diff:

    python tests/docs/test_conversions_table.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from aliasguard._report_cases import INPUTS_BY_NAME
from helpers import run_aliasguard
from versions import installed

PAGE = Path(__file__).resolve().parents[2] / "docs" / "conversions.md"
REPORT_TIMEOUT_SECONDS = 180
TABLES = {"numpy": "ndarray", "torch": "tensor"}  # table name -> input-name prefix
_BLOCK = re.compile(
    r"(<!-- report-table: (?P<name>\w+) -->\n)(?P<table>.*?)(<!-- end report-table -->)", re.DOTALL
)
# Hazards the report notes, as the few words a table cell has room for.
_HAZARD_WORDS = {
    "result is writable although the input is read-only": "**writable**",
    "result is writable with a zero stride": "**writable overlap**",
}


def measure() -> dict[str, Any]:
    """``aliasguard report --json`` on this installation, parsed."""
    completed = run_aliasguard("report", "--json", timeout=REPORT_TIMEOUT_SECONDS)
    completed.check_returncode()
    data: dict[str, Any] = json.loads(completed.stdout)
    return data


def _input_dtype(input_name: str) -> str:
    value = INPUTS_BY_NAME[input_name].build()
    if isinstance(value, np.ndarray):
        return value.dtype.name
    return str(value.dtype).removeprefix("torch.")


def cell_text(cell: dict[str, Any]) -> str:
    """One measured cell in a few words: the outcome, then what went wrong besides."""
    outcome = cell["outcome"]
    if outcome == "raises":
        text = f"raises `{cell['error_type']}`"
    elif outcome == "crashed":
        text = f"**crashes** ({cell['signal'] or 'no signal'})"
    elif outcome == "timed out":
        text = "**hangs**"
    else:
        text = outcome
    notes: list[str] = []
    dtype_out = cell["dtype_out"]
    if dtype_out is not None:
        dtype_out = str(dtype_out).removeprefix("torch.")
        if dtype_out != _input_dtype(cell["input"]):
            notes.append(f"as {dtype_out}")
    if cell["values_lost"]:
        notes.append("**wrong values**" if outcome == "shares" else "**loses values**")
    for hazard in cell["hazards"]:
        if re.match(r"\w*Warning: ", hazard):
            notes.append("warns")
            continue
        words = next(
            (short for prefix, short in _HAZARD_WORDS.items() if hazard.startswith(prefix)), None
        )
        # An unknown hazard is shown whole: the table must never hide what the report saw.
        notes.append(words if words is not None else hazard)
    return ", ".join([text, *notes])


def render_tables(report: dict[str, Any]) -> dict[str, str]:
    """The Markdown tables, one per input library: a row per route, a column per input."""
    tables: dict[str, str] = {}
    for name, prefix in TABLES.items():
        cells = [cell for cell in report["cells"] if cell["input"].startswith(prefix + " ")]
        inputs = list(dict.fromkeys(cell["input"] for cell in cells))
        routes = list(dict.fromkeys(cell["route"] for cell in cells))
        by_key = {(cell["route"], cell["input"]): cell for cell in cells}
        labels = [f"`{name_.removeprefix(prefix + ' ')}`" for name_ in inputs]
        lines = [
            "| route | " + " | ".join(labels) + " |",
            "|---|" + "---|" * len(inputs),
        ]
        for route in routes:
            row = [
                cell_text(by_key[route, input_name]) if (route, input_name) in by_key else "-"
                for input_name in inputs
            ]
            lines.append(f"| `{route}` | " + " | ".join(row) + " |")
        tables[name] = "\n".join(lines) + "\n"
    return tables


def tables_in_page(text: str) -> dict[str, str]:
    return {match.group("name"): match.group("table") for match in _BLOCK.finditer(text)}


def rewrite_page(text: str, tables: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        return match.group(1) + tables[match.group("name")] + match.group(4)

    return _BLOCK.sub(replace, text)


#: The sentence that names the releases the page's tables were measured on.
_MEASURED_ON = re.compile(r"on torch (?P<torch>\d+\.\d+) and\s+NumPy (?P<numpy>\d+\.\d+)")


def measured_on(page: str) -> tuple[str, str]:
    """The (torch, NumPy) releases, as major.minor, that the page says its tables come from."""
    match = _MEASURED_ON.search(page)
    assert match is not None, "conversions.md no longer says which releases it was measured on"
    return match["torch"], match["numpy"]


def installed_releases() -> tuple[str, str]:
    return installed("torch").base_version.rsplit(".", 1)[0], ".".join(
        np.__version__.split(".")[:2]
    )


def with_releases(page: str, releases: tuple[str, str]) -> str:
    torch_release, numpy_release = releases
    return _MEASURED_ON.sub(f"on torch {torch_release} and NumPy {numpy_release}", page, count=1)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return measure()


@pytest.mark.slow
def test_page_tables_are_the_measured_ones(report: dict[str, Any]) -> None:
    text = PAGE.read_text(encoding="utf-8")
    if measured_on(text) != installed_releases():
        torch_release, numpy_release = measured_on(text)
        pytest.skip(f"the tables were measured on torch {torch_release} and NumPy {numpy_release}")
    page = tables_in_page(text)
    measured = render_tables(report)
    assert sorted(page) == sorted(TABLES), "conversions.md lost a report-table marker"
    for name, table in measured.items():
        assert page[name] == table, (
            f"docs/conversions.md's {name} table differs from what `aliasguard report` measures "
            f"now (torch {torch.__version__}, numpy {np.__version__}). If the change is real, "
            f"run `python tests/docs/test_conversions_table.py` and review the diff.\n"
            f"Measured:\n{table}"
        )


def _cell(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "route": "r",
        "input": "ndarray float64",
        "outcome": "copies",
        "dtype_out": "torch.float64",
        "values_lost": False,
        "error_type": None,
        "signal": None,
        "hazards": [],
    }
    return {**base, **fields}


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({}, "copies"),
        (
            {"dtype_out": "torch.float32", "values_lost": True},
            "copies, as float32, **loses values**",
        ),
        ({"outcome": "shares", "values_lost": True}, "shares, **wrong values**"),
        (
            {"outcome": "raises", "dtype_out": None, "error_type": "ValueError"},
            "raises `ValueError`",
        ),
        ({"outcome": "crashed", "dtype_out": None, "signal": "SIGABRT"}, "**crashes** (SIGABRT)"),
        ({"hazards": ["UserWarning: not writable"]}, "copies, warns"),
        ({"hazards": ["something new"]}, "copies, something new"),
    ],
)
def test_cell_text_shows_every_finding(fields: dict[str, Any], text: str) -> None:
    assert cell_text(_cell(**fields)) == text


def test_a_changed_measurement_shows_in_the_page_comparison() -> None:
    original = {"cells": [_cell(route="torch.tensor")]}
    changed = {"cells": [_cell(route="torch.tensor", outcome="shares")]}
    page = rewrite_page(
        "<!-- report-table: numpy -->\nold\n<!-- end report-table -->\n"
        "<!-- report-table: torch -->\n<!-- end report-table -->\n",
        render_tables(original),
    )
    assert tables_in_page(page)["numpy"] == render_tables(original)["numpy"]
    assert tables_in_page(page)["numpy"] != render_tables(changed)["numpy"]


def test_the_page_names_the_releases_it_was_measured_on() -> None:
    page = "measured on torch 2.13 and\nNumPy 2.4. More."
    assert measured_on(page) == ("2.13", "2.4")
    assert measured_on(with_releases(page, ("2.15", "2.5"))) == ("2.15", "2.5")


if __name__ == "__main__":
    rewritten = rewrite_page(PAGE.read_text(encoding="utf-8"), render_tables(measure()))
    PAGE.write_text(with_releases(rewritten, installed_releases()), encoding="utf-8")
    print(f"rewrote the report tables in {PAGE}")
