"""Hostile inputs never crash the process, leak a NumPy or torch error, or give a wrong result.

The catalogue (hostile_inputs.py) runs in a subprocess of its own, which forks one child per call:
forking this pytest process would copy its threads and plugins into every child. The reliability
page's counts must be those of this run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_inputs import DOCS_COUNTS, INPUTS, OPERATIONS, Result, failures, render_counts

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the runner forks a child per call")

CATALOGUE = Path(__file__).with_name("hostile_inputs.py")
TIMEOUT_SECONDS = 600


@pytest.fixture(scope="module")
def results() -> list[Result]:
    run = subprocess.run(
        [sys.executable, str(CATALOGUE), "--json"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return [Result(**fields) for fields in json.loads(run.stdout)]


@pytest.mark.slow
def test_every_call_ends_in_a_clean_error_a_correct_result_or_the_inputs_own_crash(
    results: list[Result],
) -> None:
    assert len(results) == len(INPUTS) * len(OPERATIONS)
    assert [
        f"{result.operation} of {result.input}: {result.outcome}: {result.detail}"
        for result in failures(results)
    ] == []


@pytest.mark.slow
def test_only_inputs_that_crash_numpy_itself_crash_and_the_crashes_are_seen(
    results: list[Result],
) -> None:
    crashing = {hostile.name for hostile in INPUTS if hostile.crash_reason is not None}
    crashes = [result for result in results if result.outcome == "crash"]
    assert crashes, "the unmapped-memory input crashes NumPy's own copy: own() of it must crash"
    assert {result.input for result in crashes} <= crashing
    assert all(result.own_crash is not None for result in crashes)


@pytest.mark.slow
def test_the_reliability_page_shows_the_counts_of_this_run(results: list[Result]) -> None:
    # Regenerate with: python tests/faults/hostile_inputs.py --write-docs
    assert DOCS_COUNTS.read_text() == render_counts(results)
