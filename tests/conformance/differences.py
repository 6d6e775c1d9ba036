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
}

_ANY = Difference(
    "`Float[Any, ...]` and `Float[TypeVar, ...]` (any array type): the library rule calls "
    "isinstance() on `typing.Any` or the type variable, and every call raises "
    "`TypeError: typing.Any cannot be used with isinstance()`"
)
_FSTRING = Difference(
    "f-string axes (`{dim}`, `{self.size}`, `{y}`) are read as axis names, never evaluated "
    "against the arguments: the check fails with `axis {dim} refers to an axis no earlier "
    "argument bound`"
)
_BODY_BINDINGS = Difference(
    "the call's axis bindings are not visible inside the body: jaxtyping's isinstance() and a "
    "plain `@beartype` function called from the body see no bindings, where under `jaxtyped` they "
    "see the call's"
)
_UNION = Difference(
    "a union of array annotations (`Float[np.ndarray | Tensor, 'n']`, which jaxtyping turns into "
    "`Float[np.ndarray, 'n'] | Float[Tensor, 'n']`; in the wrapping modes `Shared[A] | Shared[B]`) "
    "is checked member by member with no shared axis memo: `n` is not bound across parameters"
)

TO_FIX: Final[Mapping[str, Difference]] = {
    "test_array.py::test_any/f_any": dataclasses.replace(_ANY, modes=("bare",)),
    "test_array.py::test_any/f_typevar": dataclasses.replace(_ANY, modes=("bare",)),
    "test_array.py::test_deferred_symbolic_good/foo": _FSTRING,
    "test_array.py::test_deferred_symbolic_good/bar": _FSTRING,
    "test_decorator.py::test_default_bindings/f": _FSTRING,
    "aliasguard issue/fstring_argument": _FSTRING,
    "aliasguard issue/fstring_between_axes((2,3), 3)": _FSTRING,
    "test_array.py::test_nested_nojaxtyped/g": _BODY_BINDINGS,
    "test_array.py::test_isinstance/g": _BODY_BINDINGS,
    "aliasguard issue/isinstance_in_body": _BODY_BINDINGS,
    "test_array.py::test_numpy_struct_dtype/f((1,) struct)": Difference(
        "a structured dtype made by `make_numpy_struct_dtype` is not recognised: an array of "
        "exactly that dtype breaks the dtype rule",
        libraries=("numpy",),
    ),
    "aliasguard issue/broadcast_symbolic((3,1))": Difference(
        "a broadcastable symbolic axis (`#n+1`) is compared to its value without the `#`: size 1 "
        "is refused (`axis n+1 is 1 here but evaluates to 4`)"
    ),
    "aliasguard issue/bare_union((3), (4))": _UNION,
    "aliasguard issue/bare_union((3) numpy, (4) torch)": _UNION,
    "test_decorator.py::test_local_stringified_annotation/f": Difference(
        "a string annotation naming a class local to the enclosing function cannot be resolved "
        "from the module's globals: the first call raises TypeError (@checked cannot resolve the "
        "annotations); jaxtyping resolves it from the decorating frame or leaves it unchecked"
    ),
    "test_decorator.py::test_no_type_check/g": Difference(
        "`@typing.no_type_check` above `@checked` does not turn the checks off (below it, it does: "
        "test_no_type_check/f)"
    ),
}


def difference(
    table: Mapping[str, Difference], case: Case, call: Call, library: Library, mode: Mode
) -> Difference | None:
    """The entry of ``table`` for this call, library and mode, if any."""
    entry = table.get(case.call_id(call)) or table.get(f"{case.source}/{case.name}")
    if entry is None or library not in entry.libraries or mode not in entry.modes:
        return None
    return entry


__all__ = ["DELIBERATE", "MODES", "TO_FIX", "Difference", "difference"]
