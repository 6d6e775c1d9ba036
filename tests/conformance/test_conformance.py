"""`@aliasguard.checked` gives jaxtyping's verdict on jaxtyping's own test cases, in every mode.

Each call of each case (cases.py) runs under ``jaxtyped(typechecker=beartype)``, live, and under
`aliasguard.checked` bare, with ``Shared[...]`` and with ``Owned[...]`` annotations and arguments.
jaxtyping must give the verdict its own test states (so the translation is faithful), and aliasguard
jaxtyping's, except where differences.py says otherwise.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

# The cases and jaxtyping's verdicts are those of the release they were translated from: older
# releases refuse some of them (two variadic axes in a quoted annotation, for one).
pytest.importorskip("jaxtyping", minversion="0.3.11")

from .cases import ALL_CASES
from .differences import DELIBERATE, TO_FIX, difference
from .harness import Call, Case, Library, Mode, Outcome, run
from .page import render

PAGE = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"

# The verdicts of @checked alone: the sanitizer patches torch and NumPy functions that these
# calls never reach, and would only slow each of them down.
pytestmark = pytest.mark.aliasguard_unsanitized


@functools.cache
def oracle(case: Case, call: Call, library: Library) -> Outcome:
    return run(case, call, library, "bare", "jaxtyping")


def _calls() -> Iterator[tuple[Case, Call, Library]]:
    for case in ALL_CASES:
        for call in case.calls:
            for library in case.libraries:
                yield case, call, library


def _runs() -> Iterator[object]:
    for case, call, library in _calls():
        for mode in case.modes:
            to_fix = difference(TO_FIX, case, call, library, mode)
            marks = [pytest.mark.xfail(reason=to_fix.reason, strict=True)] if to_fix else []
            yield pytest.param(
                case, call, library, mode, id=f"{case.call_id(call)}[{library}-{mode}]", marks=marks
            )


@pytest.mark.parametrize(
    ("case", "call", "library"),
    [
        pytest.param(case, call, library, id=f"{case.call_id(call)}[{library}]")
        for case, call, library in _calls()
    ],
)
def test_jaxtyping_gives_the_verdict_its_test_states(
    case: Case, call: Call, library: Library
) -> None:
    outcome = oracle(case, call, library)
    assert outcome.verdict == call.expect, (
        f"jaxtyping {outcome.verdict} where {case.source} expects it to {call.expect}: "
        f"{outcome.error}"
    )


@pytest.mark.parametrize(("case", "call", "library", "mode"), list(_runs()))
def test_checked_gives_jaxtypings_verdict(
    case: Case, call: Call, library: Library, mode: Mode
) -> None:
    expected = oracle(case, call, library)
    outcome = run(case, call, library, mode, "aliasguard")
    deliberate = difference(DELIBERATE, case, call, library, mode)
    if deliberate is not None:
        assert outcome.verdict == deliberate.verdict != expected.verdict, (
            f"aliasguard {outcome.verdict} ({outcome.error}), jaxtyping {expected.verdict}; "
            f"differences.py documents aliasguard's verdict as {deliberate.verdict}: "
            f"{deliberate.reason}"
        )
        return
    assert outcome.verdict == expected.verdict, (
        f"aliasguard {outcome.verdict} ({outcome.error}) where jaxtyping {expected.verdict} "
        f"({expected.error})"
    )


def test_every_listed_difference_names_a_case() -> None:
    names = {f"{case.source}/{case.name}" for case in ALL_CASES}
    names |= {case.call_id(call) for case in ALL_CASES for call in case.calls}
    listed = set(DELIBERATE) | set(TO_FIX)
    assert listed <= names, f"no such case: {sorted(listed - names)}"
    assert not set(DELIBERATE) & set(TO_FIX), "a difference is either deliberate or to fix"


def test_call_ids_are_unique() -> None:
    ids = [case.call_id(call) for case in ALL_CASES for call in case.calls]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_the_page_is_what_the_suite_states() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        f"{PAGE.name} differs from the suite: run `python -m tests.conformance.page --write` and "
        "review the diff"
    )
