"""Where `aliasguard.checked` and jaxtyping disagree: on purpose (`DELIBERATE`), or not yet (`TO_FIX`).

Keys are a case (``"test_array.py::test_any/f_any"``: every call of it) or one call
(``"aliasguard issue/broadcast_symbolic((3,1))"``, as `Case.call_id` spells it). Every call not listed
must agree with jaxtyping in every mode; a `TO_FIX` entry is an expected failure that fails once it
agrees (remove the entry then); a `DELIBERATE` one states the verdict aliasguard gives instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Final

from .harness import LIBRARIES, MODES, Call, Case, Library, Mode, Verdict


@dataclasses.dataclass(frozen=True)
class Difference:
    """How aliasguard's verdict differs from jaxtyping's, and why.

    Attributes:
        reason: why (for `DELIBERATE`: the reason a user would accept; for `TO_FIX`: the cause).
        verdict: aliasguard's verdict, for a deliberate difference.
        libraries: the libraries it applies to (all by default).
        modes: the modes it applies to (all by default).
    """

    reason: str
    verdict: Verdict | None = None
    libraries: tuple[Library, ...] = LIBRARIES
    modes: tuple[Mode, ...] = MODES


_GENERATOR = Difference(
    "refused when decorated: a generator's body runs after the call returns, on each next(), so "
    "the borrow and exclusivity checks that bracket a call would see none of it; decorate the "
    "plain function that iterates it",
    verdict="refuses",
)

DELIBERATE: Final[Mapping[str, Difference]] = {
    "test_generators.py::test_generators_simple/gen": _GENERATOR,
    "test_generators.py::test_generators_dont_modify_same_annotations/g": _GENERATOR,
    "test_decorator.py::test_property/j1": Difference(
        "`@checked` above `@property` is refused: a property object is not a function and has no "
        "one signature to check; put `@checked` below `@property`, on the getter (test_property/j2)",
        verdict="refuses",
    ),
    "aliasguard issue/unparsable_string": Difference(
        "a string annotation that is not a Python expression is refused when the signature is "
        "compiled, naming the annotation: jaxtyping and beartype skip it silently, which leaves "
        "a parameter unchecked that its author meant to check",
        verdict="refuses",
    ),
    "test_decorator.py::test_stringified_multiple_varaidic/foo": Difference(
        "an annotation with two variadic axes (`*foo *bar`) is refused when the signature is "
        "compiled, as jaxtyping itself refuses it unquoted; quoted, jaxtyping cannot build it and "
        "checks nothing",
        verdict="refuses",
    ),
    "test_decorator.py::test_local_stringified_annotation/f": Difference(
        "a string annotation naming a class local to the decorating function is resolved from "
        "that scope and checked (1 is not a LocalFoo); jaxtyping cannot resolve it and leaves "
        "the parameter unchecked",
        verdict="rejects",
    ),
}

#: Differences not yet resolved: each an expected failure, removed once it agrees.
TO_FIX: Final[Mapping[str, Difference]] = {}


def difference(
    table: Mapping[str, Difference], case: Case, call: Call, library: Library, mode: Mode
) -> Difference | None:
    """The entry of ``table`` for this call, library and mode, if any."""
    entry = table.get(case.call_id(call)) or table.get(f"{case.source}/{case.name}")
    if entry is None or library not in entry.libraries or mode not in entry.modes:
        return None
    return entry


__all__ = ["DELIBERATE", "MODES", "TO_FIX", "Difference", "difference"]
