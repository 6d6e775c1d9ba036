"""The messages of the errors `@checked` raises, built here so the checker reads as logic.

First line: the function, the parameter, the rule, what was found and what was expected (dtype and
shape, never the values). Next lines: the axis bindings with the argument that bound each, and a fix.
Each builder returns the text; the raise site makes the error, with its function, parameter and rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .._annotation_compat import annotation_text
from .._articles import with_article
from .._describing import copy_expression, describe, described, function_name
from .._wrappers import Owned, Shared, is_shared, unwrap_unchecked
from ._slots import Slot


def _annotation_text(slot: Slot) -> str:
    """The slot's annotation as messages show it: ``Shared[Float[Tensor, 'n']] | None``."""
    return annotation_text(slot.hint)


def _where(slot: Slot) -> str:
    return where(slot.name)


def where(path: str) -> str:
    """How a message names a parameter, the return value, or a member of either (``return[0]``)."""
    if path == "return":
        return "the return value"
    if path.startswith(("return[", "return.")):
        return f"the return value's member {path}"
    return f"parameter {path!r}"


_FIXES = {
    "library": "convert it to the annotated library with share() or own()",
    "dtype": "cast a copy with own(x, dtype=...), or widen the annotation's dtype",
    "shape": "pass a value whose axes agree with the axis bindings below, or correct the annotation",
}


# own() casts between plain dtypes only: a structured one is built field by field.
_STRUCTURED_FIX = (
    "make an array of the annotated structured dtype (np.zeros(shape, dtype=...), then fill its "
    "fields), or widen the annotation's dtype"
)


# A strided nested tensor has no shape at all: no value of the same kind can pass.
_NESTED_FIX = (
    "pad it into one tensor (t.to_padded_tensor(0.0)), make it jagged "
    "(torch.nested.nested_tensor(..., layout=torch.jagged)), or annotate it torch.Tensor"
)


def _is_strided_nested(value: object) -> bool:
    inner = unwrap_unchecked(value) if is_shared(value) else value
    return isinstance(inner, torch.Tensor) and inner.is_nested and inner.layout == torch.strided


def _wants_structured(slot: Slot) -> bool:
    # jaxtyping names a structured dtype by its description: "[('a', '<f4'), ...]".
    names = slot.spec.numpy_dtype_names if slot.spec is not None else None
    return bool(names) and all(name.startswith("[") for name in names or ())


def annotation_mismatch(
    function: Callable[..., Any],
    slot: Slot,
    value: object,
    problem: tuple[str, str],
    bindings: list[tuple[str, object, str]],
) -> str:
    rule, detail = problem
    bound = ", ".join(f"{name}={size} (from {owner!r})" for name, size, owner in bindings)
    fix = _FIXES[rule]
    if rule == "dtype" and _wants_structured(slot):
        fix = _STRUCTURED_FIX
    elif rule == "shape" and _is_strided_nested(value):
        fix = _NESTED_FIX
    return (
        f"{function_name(function)}: {_where(slot)} breaks the {rule} rule: got "
        f"{described(value)}, expected {_annotation_text(slot)} ({detail}); fix: "
        f"{fix}.\n"
        f"  axis bindings: {bound or 'none yet'}"
    )


def wrong_kind(function: Callable[..., Any], slot: Slot, value: object) -> str:
    expected = _annotation_text(slot)
    target = "the return" if slot.name.startswith("return") else "the parameter"
    kind = type(value)  # not value.__class__, which an object can fake
    if issubclass(kind, Shared) and not issubclass(kind, Owned):
        found = (
            f"{described(value)} (a borrow): memory someone else holds cannot be handed over "
            f"as owned. Pass own(x) for a fresh copy, or annotate {target} Shared[...]"
        )
    else:
        found = (
            f"a bare {describe(value)}: {target} needs a wrapper that says who owns the "
            "memory. Wrap it with share(x) to lend it, or own(x) to hand over a copy"
        )
    return f"{function_name(function)}: {_where(slot)} breaks the kind rule: expected {expected}, got {found}."


def beartype_violation(
    function: Callable[..., Any], parameter: str, value: object, hint: object
) -> str:

    # beartype's own reason quotes the value's repr, which shows data (array contents, strings):
    # describe the value by its type, dtype and shape instead.
    reason = f"expected {hint!r}, got {described(value)}"
    return (
        f"{function_name(function)}: {where(parameter)} breaks the type rule ({reason}); fix: "
        f"pass a value matching {hint!r}."
    )


def borrow_written(function: Callable[..., Any], parameter: str, value: object, how: str) -> str:
    return (
        f"{function_name(function)}: its Shared parameter {parameter!r} (borrow rule) changed "
        f"while lent: {how} changed this {describe(value)} during the call, which the caller "
        "only lent. If the function wrote it, write into a copy "
        f"({copy_expression(value)}) or annotate the parameter Owned[...]; if another thread did, "
        "do not write memory while it is lent.\n"
        "  The caller's data has already been modified: this error reports the call it changed "
        "during."
    )


def lent_parameters(borrows: list[tuple[Slot, object]]) -> str:
    """The parameter a NumPy borrow error names: the one lent, or each that may have been."""
    names = [slot.name for slot, _ in borrows]
    return names[0] if len(names) == 1 else " or ".join(map(repr, names))


def numpy_borrow_written(function: Callable[..., Any], borrows: list[tuple[Slot, object]]) -> str:
    parameter = lent_parameters(borrows)
    named = repr(parameter) if len(borrows) == 1 else parameter
    shown = ", ".join(describe(array) for _, array in borrows)
    return (
        f"{function_name(function)} wrote into its Shared parameter {named} (borrow rule): "
        f"NumPy refused a write into a read-only array while {shown} was lent read-only; "
        "nothing was modified. Write into a copy (x.value.copy()), or annotate the parameter "
        "Owned[...].\n"
        "  NumPy does not say which array it refused: if the write targeted another read-only "
        "array of the function's own, the ValueError chained below is the real error."
    )


def used_after_move(function: Callable[..., Any], parameter: str) -> str:
    return (
        f"{function_name(function)}: parameter {parameter!r} got an Owned handle that was already "
        "moved (move rule): an earlier call to a function taking Owned now owns its memory. "
        "Use the handle that call returned, or pass own(x) earlier to keep a copy."
    )


def not_exclusive(function: Callable[..., Any], parameter: str, value: object) -> str:
    return (
        f"{function_name(function)}: Owned parameter {parameter!r} overlaps another argument's "
        f"memory (exclusivity rule): this {describe(value)} must be the only reference to its "
        "memory. Pass own(...) of one of them so each has its own copy."
    )


def container_mismatch(
    function: Callable[..., Any], path: str, value: object, hint: object, detail: str
) -> str:
    return (
        f"{function_name(function)}: {where(path)} breaks the type rule: expected {hint!r}, "
        f"got {described(value)} ({detail}); fix: pass a value matching {hint!r}."
    )


def not_fresh(
    function: Callable[..., Any], returned: object, argument: str, path: str = "return"
) -> str:
    what = "an Owned value" if path == "return" else f"an Owned value at {path}"
    return (
        f"{function_name(function)} returned {what} that shares memory with argument "
        f"{argument!r} (freshness rule): got {described(returned)}, expected fresh memory. "
        "Return Owned(t.clone()) or own(...), or annotate the return Shared[...].\n"
        "  Typical cause: reshape(), view(), contiguous(), float(), cpu(), np.asarray() and "
        "astype(copy=False) return their input, or a view of it, when nothing needs to change."
    )


def returned_twice(
    function: Callable[..., Any], returned: object, path: str, other_path: str
) -> str:
    return (
        f"{function_name(function)} returned an Owned value at {path} that shares memory with "
        f"the Owned value at {other_path} of the same return (freshness rule): got "
        f"{described(returned)}; two owners of one memory. Return a copy for one of them "
        "(Owned(t.clone()) / Owned(a.copy())), or annotate one member Shared[...]."
    )


def returned_again(function: Callable[..., Any], returned: object, path: str = "return") -> str:
    what = "an Owned value" if path == "return" else f"an Owned value at {path}"
    return (
        f"{function_name(function)} returned {what} that shares memory with a value it "
        f"returned earlier, which is still alive (freshness rule): got {described(returned)}. "
        "Return a fresh copy each call (Owned(buffer.clone()) / own(...)), or annotate the "
        "return Shared[...].\n"
        "  dm_control #34: returned observation buffers were overwritten on the next step."
    )


def deferred_body(function: Callable[..., Any]) -> str:
    return (
        f"@checked cannot check {function_name(function)}: it is a coroutine or generator "
        "function, whose body runs after the call returns, so the aliasing checks would miss it. "
        "Decorate a plain function that awaits or iterates it instead."
    )


def unresolvable_annotations(
    function: Callable[..., Any], error: BaseException, reader: str = "@checked"
) -> str:
    """Why ``reader`` (the decorator, or a strategy that reads the signature) cannot use the
    function's annotations, by what evaluating them raised."""
    name = function_name(function)
    cause = f"({type(error).__name__}: {error})"
    if isinstance(error, NameError):
        return (
            f"{reader} cannot resolve the annotations of {name} {cause}: a string annotation "
            "names something defined neither in the function's module by its first call nor in "
            "a scope around the function before it is decorated. Import the missing name at "
            "module level (not only under TYPE_CHECKING), or define the class before the function "
            "that names it."
        )
    if isinstance(error, SyntaxError):
        return (
            f"{reader} cannot read the annotations of {name} {cause}: a string annotation is "
            "not a Python expression, so it would check nothing. Fix its spelling (a bracket or "
            "quote left open?), or remove the annotation if it was not meant to be checked."
        )
    return (
        f"{reader} cannot evaluate the annotations of {name} {cause}: an annotation's "
        "expression fails when evaluated, so it cannot be checked. Fix the annotation so that "
        "it evaluates to a type (jaxtyping refuses some shape strings, such as two variadic "
        "axes '*a *b')."
    )


def not_a_function(target: object) -> str:
    kind = "class" if isinstance(target, type) else type(target).__name__
    return (
        f"@checked decorates functions and methods, got {with_article(kind)} ({target!r:.60}): it checks one "
        "signature per call. Decorate the function itself (for a class, its methods)."
    )


def owned_default(function: Callable[..., Any], parameter: str) -> str:
    return (
        f"@checked cannot check {function_name(function)}: parameter '{parameter}' is Owned but "
        "has a default value, and a default is one object every call receives, so no call can "
        "own it. Default to None (annotate Owned[...] | None) and make a fresh value inside."
    )
