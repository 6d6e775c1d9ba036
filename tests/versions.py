"""Release ranges for the facts the suite pins about torch and NumPy themselves.

A fact about a raw route holds for a range of releases. Each such test names the range it was
verified on with `verified_on`; outside it the test is skipped with the range in the reason, and
the behaviour of the releases before it is pinned by a test of its own. The ranges are open
upwards, so a new release that changes a fact fails that one clearly named test.
"""

from __future__ import annotations

import importlib.metadata

import pytest
from packaging.version import Version

__all__ = ["installed", "verified_on"]


def installed(distribution: str) -> Version:
    """The installed release of a distribution (``"torch"``, ``"numpy"``), local tag dropped."""
    return Version(Version(importlib.metadata.version(distribution)).base_version)


def verified_on(
    *, torch: str | None = None, numpy: str | None = None, before: bool = False
) -> pytest.MarkDecorator:
    """Run the test only on the releases the fact was verified on.

    Args:
        torch: the first torch release the fact holds for (``"2.8"``), if it depends on torch.
        numpy: the first NumPy release the fact holds for, if it depends on NumPy.
        before: the test pins the older behaviour instead: it runs where any named release is
            not reached yet.
    """
    floors = {name: Version(floor) for name, floor in (("torch", torch), ("numpy", numpy)) if floor}
    reached = {name: installed(name) >= floor for name, floor in floors.items()}
    runs = not all(reached.values()) if before else all(reached.values())
    if before:
        where = "releases before " + " or ".join(
            f"{name} {floor}" for name, floor in floors.items()
        )
    else:
        where = " and ".join(f"{name} >= {floor}" for name, floor in floors.items())
    found = ", ".join(f"{name} {installed(name)}" for name in floors)
    return pytest.mark.skipif(not runs, reason=f"a fact of {where}; installed: {found}")
