"""Axis matching: a value's dtype and shape against its `ArraySpec`, binding axis sizes in a memo.

jaxtyping's rules, with one memo per call: a named axis binds its size at its first appearance and
every later one must agree; ``_`` and ``...`` match anything; ``*batch`` binds a tuple of sizes
(``*#batch``: any broadcast-compatible one); ``#n`` also accepts 1; a symbolic axis (``"n+1"``,
``"{dim}"``) evaluates against the sizes bound so far, and the call's arguments for f-strings.
Each check returns what is wrong as text (``None`` when nothing is), for the error message.
"""

from __future__ import annotations

import typing
from typing import Any, Final

import numpy as np
import torch

from .._jaxtyping_compat import (
    ANONYMOUS,
    BROADCAST_FIXED,
    BROADCAST_NAMED,
    FIXED,
    NAMED,
    SYMBOLIC,
    ArraySpec,
    SymbolicAxisError,
    numpy_dtype_name,
    symbolic_size,
)
from .._wrappers import is_ndarray, is_tensor
from ._slots import Slot

#: The memo key under which a call's arguments wait for f-string axes ("{dim}"); never an axis name.
ARGUMENTS: Final = "{arguments}"
_Tensor = torch.Tensor


def _match_dims(
    dims: tuple[tuple[int, Any], ...], sizes: tuple[int, ...], memo: dict[str, Any]
) -> str | None:
    # The caller has checked the lengths match; strict=True would cost time on every call.
    for (kind, argument), size in zip(dims, sizes, strict=False):
        if kind == NAMED:
            bound = memo.setdefault(argument, size)
            if bound != size:
                return f"axis {argument} is {size} here but {bound} elsewhere"
        elif kind == FIXED:
            if size != argument:
                return f"an axis is {size} where the annotation fixes {argument}"
        elif kind == ANONYMOUS:
            continue
        elif kind == BROADCAST_NAMED:
            if size != 1:
                bound = memo.setdefault(argument, size)
                if bound != size:
                    return (
                        f"axis {argument} is {size} here but {bound} elsewhere (1 would broadcast)"
                    )
        elif kind == BROADCAST_FIXED:
            if size not in (1, argument):
                return f"an axis is {size} where the annotation allows 1 or {argument}"
        elif kind == SYMBOLIC or size != 1:  # "n+1"; "#n+1" is also met by a size of 1
            names = {key: value for key, value in memo.items() if isinstance(value, int)}
            try:
                expected = symbolic_size(argument, names, memo.get(ARGUMENTS))
            except SymbolicAxisError as error:
                return str(error)
            if size != expected:
                return f"axis {argument} is {size} here but evaluates to {expected}"
    return None


def _match_shape(spec: ArraySpec, shape: tuple[int, ...], memo: dict[str, Any]) -> str | None:
    prefix = spec.prefix
    assert prefix is not None
    variadic = spec.variadic
    if variadic is None:
        if len(shape) != len(prefix):
            return f"rank {len(shape)} where the annotation has {_axes(len(prefix))}"
        return _match_dims(prefix, shape, memo)
    suffix = spec.suffix
    fixed_count = len(prefix) + len(suffix)
    if len(shape) < fixed_count:
        return f"rank {len(shape)} where the annotation needs at least {_axes(fixed_count)}"
    middle = shape[len(prefix) : len(shape) - len(suffix)]
    problem = _match_dims(prefix, shape[: len(prefix)], memo) or _match_dims(
        suffix, shape[len(shape) - len(suffix) :], memo
    )
    if problem is not None or variadic.name is None:
        return problem
    return _match_variadic(variadic.name, variadic.broadcastable, tuple(middle), memo)


def _axes(count: int) -> str:
    return "1 axis" if count == 1 else f"{count} axes"


def _match_variadic(
    name: str, broadcastable: bool, shape: tuple[int, ...], memo: dict[str, Any]
) -> str | None:
    """jaxtyping's rule for ``*name`` (equal shapes) and ``*#name`` (broadcast-compatible)."""
    key = "*" + name
    previous = memo.get(key)
    if previous is None:
        memo[key] = (broadcastable, shape)
        return None
    previous_broadcastable, previous_shape = previous
    if not previous_broadcastable and not broadcastable:
        if shape == previous_shape:
            return None
        return f"axes *{name} are {shape} here but {previous_shape} elsewhere"
    try:
        broadcast = tuple(np.broadcast_shapes(shape, previous_shape))
    except ValueError:
        return f"axes *{name} are {shape} here, which cannot broadcast with {previous_shape}"
    if previous_broadcastable:
        if not broadcastable and broadcast != shape:
            return f"axes *{name} are {shape} here, which {previous_shape} cannot broadcast to"
        memo[key] = (broadcastable, broadcast)
    elif broadcast != previous_shape:
        return f"axes *{name} are {shape} here, which cannot broadcast to {previous_shape}"
    return None


def check_array(spec: ArraySpec, value: Any, memo: dict[str, Any]) -> tuple[str, str] | None:
    """``(rule, detail)`` when ``value`` breaks ``spec``; ``None`` when it matches."""
    if spec.members is not None:
        return _check_union(spec.members, value, memo)
    if not issubclass(type(value), spec.array_class):  # not __class__, which can be faked
        return "library", f"got {type(value).__name__}"
    if type(value) is _Tensor or is_tensor(value):
        dtype = value.dtype
        if spec.torch_dtypes is not None and dtype not in spec.torch_dtypes:
            return "dtype", f"got {dtype}"
        if spec.prefix is None:
            return None
        try:
            shape: tuple[int, ...] = value.shape  # torch.Size is a tuple
        except RuntimeError:  # a nested tensor of the strided layout has no single shape
            return "shape", "a nested tensor with the strided layout has no shape to check"
    elif is_ndarray(value):
        names = spec.numpy_dtype_names
        if names is not None and numpy_dtype_name(value.dtype) not in names:
            return "dtype", f"got {value.dtype}"
        shape = value.shape
    else:
        return None
    if spec.prefix is None:
        return None
    problem = _match_shape(spec, shape, memo)
    return None if problem is None else ("shape", problem)


def _check_union(
    members: tuple[ArraySpec, ...], value: Any, memo: dict[str, Any]
) -> tuple[str, str] | None:
    """A union payload: the first member ``value`` matches binds its axes, as under jaxtyping.

    When none matches, the failure reported is that of the first member of the value's own
    library (a dtype or shape problem says more than "not that library").
    """
    reported: tuple[str, str] | None = None
    for member in members:
        trial = dict(memo)
        problem = check_array(member, value, trial)
        if problem is None:
            memo.update(trial)
            return None
        if reported is None or (reported[0] == "library" and problem[0] != "library"):
            reported = problem
    return reported


def axis_bindings(values: list[tuple[Slot, object]]) -> list[tuple[str, object, str]]:
    """Replay the checks of ``(slot, array)`` that passed, recording which argument bound each
    axis: ``(axis, size, parameter)``; a variadic axis shows its sizes."""
    memo: dict[str, Any] = {}
    owners: list[tuple[str, object, str]] = []
    for slot, inner in values:
        spec = slot.spec
        if spec is None or inner is None or (spec.prefix is None and spec.members is None):
            continue
        before = set(memo)
        if spec.members is not None:
            _check_union(spec.members, inner, memo)
        else:
            _match_shape(spec, tuple(typing.cast("Any", inner).shape), memo)
        for name, bound in memo.items():
            if name not in before:
                shown = bound[1] if name.startswith("*") else bound
                owners.append((name, shown, slot.name))
    return owners
