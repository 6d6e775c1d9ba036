"""The catalogue of reported aliasing bugs: each is real, caught as the docs table says, and its fix
runs clean.

- unguarded, the original code does the damage its report describes (so the entry is a real bug);
- annotated as the docs recommend, under ``sanitize()``, it is stopped before the damage;
- with no annotation, under ``sanitize(raw_routes=True)`` (what ``aliasguard run`` enters), every
  bug whose code crosses the two libraries or overlaps within one op is stopped before the damage,
  and the others are the documented misses;
- the fixed code runs clean both ways (no false positive), and nothing crashes;
- docs/realworld.md states exactly these results.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from realworld.catalogue import BUGS, Bug
from realworld.outcomes import run, summary

pytestmark = pytest.mark.aliasguard_unsanitized  # each mode enters its own sanitizer

PAGE = Path(__file__).parents[2] / "docs" / "realworld.md"
IDS = [bug.key for bug in BUGS]


def test_the_catalogue_holds_at_least_15_distinct_public_reports() -> None:
    assert len(BUGS) >= 15
    assert len({bug.source for bug in BUGS}) == len(BUGS)
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("bug", BUGS, ids=IDS)
def test_the_original_code_does_the_reported_damage(bug: Bug) -> None:
    outcome = run(bug, "unguarded")
    assert outcome.crash is None
    assert outcome.damaged


@pytest.mark.parametrize("bug", BUGS, ids=IDS)
def test_the_annotated_code_is_stopped_before_the_damage(bug: Bug) -> None:
    outcome = run(bug, "annotated")
    assert outcome.crash is None
    assert outcome.caught_before_damage


@pytest.mark.parametrize("bug", BUGS, ids=IDS)
def test_with_no_annotation_every_cross_library_or_overlap_bug_is_stopped(bug: Bug) -> None:
    outcome = run(bug, "none")
    assert outcome.crash is None
    if bug.kind in ("crosses", "overlap"):
        assert outcome.caught_before_damage
        assert not bug.unseen_without_annotations
    else:  # a documented miss: nothing crosses, so nothing is recorded
        assert not outcome.caught
        assert bug.unseen_without_annotations


@pytest.mark.parametrize("bug", BUGS, ids=IDS)
def test_the_fixed_code_runs_clean(bug: Bug) -> None:
    outcome = run(bug, "fixed")
    assert outcome.crash is None
    assert outcome.clean


# ------------------------------------------------------------------------------------------------
# The docs page


def _cell(caught: bool, missed_because: str = "") -> str:
    if caught:
        return "caught before damage"
    return f"missed ({missed_because})" if missed_because else "missed"


def _table_rows() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and re.fullmatch(r"\[.+\]\(https://github\.com/.+\)", cells[1]):
            rows[cells[1]] = cells
    return rows


def test_the_docs_table_states_the_results_the_catalogue_gets() -> None:
    rows = _table_rows()
    assert len(rows) == len(BUGS)
    for bug in BUGS:
        link = f"[{bug.source}](https://github.com/{bug.repository}/issues/{bug.number})"
        assert link in rows, f"{bug.source} is missing from {PAGE.name}"
        _, _, kind, annotated, none, false_positive = rows[link]
        assert kind == bug.kind
        assert annotated == _cell(run(bug, "annotated").caught_before_damage)
        assert none == _cell(run(bug, "none").caught_before_damage, bug.unseen_without_annotations)
        assert false_positive == ("none" if run(bug, "fixed").clean else "yes")


def test_the_docs_summary_states_the_counts() -> None:
    counts = summary(BUGS)
    text = PAGE.read_text(encoding="utf-8")
    stated = re.search(
        r"(\d+) bugs: (\d+) caught before damage with annotations, (\d+) with none[^,]*, "
        r"(\d+) false positives",
        text,
    )
    assert stated is not None
    assert [int(group) for group in stated.groups()] == [
        counts["bugs"],
        counts["annotated"],
        counts["none"],
        counts["false positives"],
    ]
