"""The errors `@checked` raises, built here so the checker reads as logic.

First line: the function, the parameter, the rule, what was found and what was expected (dtype and
shape, never the values). Next lines: the axis bindings with the argument that bound each, and a fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import torch

from ._errors import AliasingError, AnnotationError

if TYPE_CHECKING:
    from ._checking import Slot


def function_name(function: Callable[..., Any]) -> str:
    return f"{getattr(function, '__qualname__', repr(function))}()"


def describe(value: Any) -> str:
    """A value's kind, dtype, shape and device: what an error shows instead of the data."""
    if isinstance(value, torch.Tensor):
        return f"{str(value.dtype).removeprefix('torch.')} Tensor of shape {tuple(value.shape)} on {value.device}"
    from ._wrappers import is_ndarray, is_shared, unwrap_unchecked

    if is_ndarray(value):
        return f"{value.dtype} ndarray of shape {value.shape}"
    if is_shared(value):
        return f"{type(value).__name__} of a {describe(unwrap_unchecked(value))}"
    return type(value).__name__


def _annotation_text(slot: Slot) -> str:
    hint = slot.hint
    if isinstance(hint, type) and hint.__module__ == "aliasguard":
        return repr(hint).removeprefix("aliasguard.")
    return getattr(hint, "__name__", None) or repr(hint)


def _where(slot: Slot) -> str:
    return "the return value" if slot.name == "return" else f"parameter {slot.name!r}"


_FIXES = {
    "library": "convert it to the annotated library with share() or own()",
    "dtype": "cast a copy with own(x, dtype=...), or widen the annotation's dtype",
    "shape": "pass a value whose axes agree with the bindings above, or correct the annotation",
}


def annotation_mismatch(
    function: Callable[..., Any],
    slot: Slot,
    value: object,
    problem: tuple[str, str],
    bindings: list[tuple[str, object, str]],
) -> AnnotationError:
    rule, detail = problem
    bound = ", ".join(f"{name}={size} (from {owner!r})" for name, size, owner in bindings)
    message = (
        f"{function_name(function)}: {_where(slot)} breaks the {rule} rule: got a "
        f"{describe(value)}, expected {_annotation_text(slot)} ({detail}).\n"
        f"  axis bindings: {bound or 'none yet'}\n"
        f"  fix: {_FIXES[rule]}."
    )
    return AnnotationError(
        message, function=function_name(function), parameter=slot.name, rule=rule
    )


def wrong_kind(function: Callable[..., Any], slot: Slot, value: object) -> AnnotationError:
    from ._wrappers import Owned, Shared

    expected = _annotation_text(slot)
    if isinstance(value, Shared) and not isinstance(value, Owned):
        found = (
            "a Shared (a borrow): memory someone else holds cannot be handed over as owned. "
            "Pass own(x) for a fresh copy, or annotate the parameter Shared[...]"
        )
    else:
        found = (
            f"a bare {describe(value)}: the parameter needs a wrapper that says who owns the "
            "memory. Wrap it with share(x) to lend it, or own(x) to hand over a copy"
        )
    message = f"{function_name(function)}: {_where(slot)} breaks the kind rule: expected {expected}, got {found}."
    return AnnotationError(
        message, function=function_name(function), parameter=slot.name, rule="kind"
    )


def beartype_violation(
    function: Callable[..., Any], parameter: str, value: object, hint: object
) -> AnnotationError:
    from beartype.door import die_if_unbearable
    from beartype.roar import BeartypeDoorHintViolation

    try:
        die_if_unbearable(value, cast("Any", hint))
    except BeartypeDoorHintViolation as violation:
        reason = " ".join(str(violation).split())
    else:  # pragma: no cover - is_bearable said no, so die_if_unbearable raises
        reason = "beartype rejected it"
    where = "the return value" if parameter == "return" else f"parameter {parameter!r}"
    message = (
        f"{function_name(function)}: {where} breaks the type rule ({reason}).\n"
        f"  fix: pass a value matching {hint!r}."
    )
    return AnnotationError(
        message, function=function_name(function), parameter=parameter, rule="type"
    )


def borrow_written(
    function: Callable[..., Any], parameter: str, value: object, how: str
) -> AliasingError:
    message = (
        f"{function_name(function)} wrote into its Shared parameter {parameter!r} (borrow rule): "
        f"{how} changed this {describe(value)}, which the caller only lent. "
        "Write into a copy (own(x) or x.value.clone()), or annotate the parameter Owned[...].\n"
        "  The caller's data has already been modified: this error reports the call that did it."
    )
    return AliasingError(
        message, function=function_name(function), parameter=parameter, rule="borrow"
    )


def numpy_borrow_written(function: Callable[..., Any], parameters: list[str]) -> AliasingError:
    parameter = parameters[0] if len(parameters) == 1 else " or ".join(map(repr, parameters))
    named = repr(parameter) if len(parameters) == 1 else parameter
    message = (
        f"{function_name(function)} wrote into its Shared parameter {named} (borrow rule): "
        "a NumPy write hit the read-only view the caller lent; nothing was modified. "
        "Write into a copy (x.value.copy()), or annotate the parameter Owned[...]."
    )
    return AliasingError(
        message, function=function_name(function), parameter=parameter, rule="borrow"
    )


def used_after_move(function: Callable[..., Any], parameter: str) -> AliasingError:
    message = (
        f"{function_name(function)}: parameter {parameter!r} got an Owned handle that was already "
        "moved (move rule): an earlier call to a function taking Owned now owns its memory. "
        "Use the handle that call returned, or pass own(x) earlier to keep a copy."
    )
    return AliasingError(
        message, function=function_name(function), parameter=parameter, rule="move"
    )


def not_exclusive(function: Callable[..., Any], parameter: str, value: object) -> AliasingError:
    message = (
        f"{function_name(function)}: Owned parameter {parameter!r} overlaps another argument's "
        f"memory (exclusivity rule): this {describe(value)} must be the only reference to its "
        "memory. Pass own(...) of one of them so each has its own copy."
    )
    return AliasingError(
        message, function=function_name(function), parameter=parameter, rule="exclusivity"
    )


def not_fresh(function: Callable[..., Any], returned: object, argument: str) -> AliasingError:
    message = (
        f"{function_name(function)} returned an Owned value that shares memory with argument "
        f"{argument!r} (freshness rule): got a {describe(returned)}, expected fresh memory. "
        "Return Owned(t.clone()) or own(...), or annotate the return Shared[...].\n"
        "  Typical cause: reshape(), view(), contiguous(), float(), cpu(), np.asarray() and "
        "astype(copy=False) return their input, or a view of it, when nothing needs to change."
    )
    return AliasingError(
        message, function=function_name(function), parameter="return", rule="freshness"
    )


def unresolvable_annotations(function: Callable[..., Any], error: BaseException) -> str:
    return (
        f"@checked cannot resolve the annotations of {function_name(function)} ({error}): "
        "every name in an annotation must be importable where the function is defined. "
        "Import the missing name at module level (not only under TYPE_CHECKING)."
    )
