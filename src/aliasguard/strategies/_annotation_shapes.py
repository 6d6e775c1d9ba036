"""Shapes drawn for an annotation's dims, consistent with an axis memo, under ``@checked``'s rules.

Named, fixed, ``_``, ``...``, ``*batch``, ``#`` broadcast and symbolic axes are read as
`aliasguard.checked` and jaxtyping read them; the memo binds each named axis to one size, so that
the arguments of one call agree.
"""

from __future__ import annotations

import math
import typing
from typing import Any, Final, TypeAlias

from hypothesis import reject, strategies as st
from hypothesis.errors import InvalidArgument

from .._jaxtyping_compat import (
    ANONYMOUS,
    BROADCAST_FIXED,
    BROADCAST_NAMED,
    FIXED,
    NAMED,
    ArraySpec,
    SymbolicAxisError,
    Variadic,
    symbolic_names,
    symbolic_size,
)

#: Axis bindings: a named axis (``"b"``) to its size, a named variadic axis (``"*batch"``) to its
#: shape.
Memo: TypeAlias = dict[str, int | tuple[int, ...]]

#: Axis sizes: an empty axis about one draw in nine; shrinks toward 1, the plainest size.
_SIDES: Final = st.sampled_from((1, 2, 3, 4, 2, 3, 1, 4, 0))
#: The axes of an unconstrained shape (``...``, a bare ``np.ndarray``), and of a new ``*batch``.
_FREE_AXES: Final = 3
#: The most elements one drawn array may have. Drawn axes stay at 4 or less; only sizes an
#: annotation fixes ("100000 100000") can pass this, and drawing them would exhaust memory.
MAX_DRAWN_ELEMENTS: Final = 1 << 24
_VARIADIC_AXES: Final = 2


def check_memo(memo: object) -> None:
    """Refuse a ``memo=`` that is not axis bindings (see `Memo`)."""
    if not isinstance(memo, dict):
        raise InvalidArgument(
            f"from_annotation(memo={memo!r}) is not a dict: it takes axis bindings such as "
            "{'b': 3, '*batch': (2, 5)}. Pass a dict, or None for a fresh one per draw."
        )
    for key, value in typing.cast("dict[object, object]", memo).items():
        variadic = isinstance(key, str) and key.startswith("*")
        if variadic and isinstance(value, tuple):
            sizes = typing.cast("tuple[object, ...]", value)
            good = all(isinstance(size, int) and size >= 0 for size in sizes)
        else:
            good = isinstance(key, str) and isinstance(value, int) and value >= 0
        if not good:
            raise InvalidArgument(
                f"from_annotation(memo=...) binds {key!r} to {value!r}: a named axis takes a "
                "size (int >= 0) and a '*name' variadic axis a tuple of them. Fix that entry."
            )


def _bound_size(memo: Memo, name: str) -> int | None:
    bound = memo.get(name)
    return bound if isinstance(bound, int) else None


def _draw_dim(draw: st.DrawFn, kind: int, argument: Any, memo: Memo) -> int:
    """One axis's size, under ``@checked``'s rules (and jaxtyping's): see `_checking._axes`."""
    if kind == FIXED:
        return int(argument)
    if kind == BROADCAST_FIXED:
        return draw(st.sampled_from((int(argument), 1)))
    if kind == ANONYMOUS:
        return draw(_SIDES)
    bound = _bound_size(memo, argument)
    if kind == NAMED:
        if bound is None:
            bound = memo[argument] = draw(_SIDES)
        return bound
    assert kind == BROADCAST_NAMED
    if bound is not None:
        return draw(st.sampled_from((bound, 1)))
    size = draw(_SIDES)
    if size != 1:  # "#b" of size 1 binds nothing: it broadcasts against any b
        memo[argument] = size
    return size


def _draw_symbolic(draw: st.DrawFn, expression: str, memo: Memo) -> int:
    """A symbolic axis (``"b+1"``): its names bound first (drawn when unbound), then evaluated."""
    if "{" in expression:
        raise InvalidArgument(
            f"from_annotation() cannot draw the axis {expression!r}: it names the call's "
            "arguments (an f-string axis), which a drawn value does not have. Pass a strategy "
            "of your own for this parameter."
        )
    for name in symbolic_names(expression):
        if _bound_size(memo, name) is None:
            memo[name] = draw(_SIDES)
    sizes = {name: value for name, value in memo.items() if isinstance(value, int)}
    try:
        size: object = symbolic_size(expression, sizes, None)
    except SymbolicAxisError as error:
        raise InvalidArgument(
            f"from_annotation() cannot evaluate the axis {expression!r} ({error}): symbolic axes "
            "combine axis names with arithmetic, like 'b+1'. Correct the annotation."
        ) from None
    if not isinstance(size, int) or size < 0:
        reject()  # "b-1" with b = 0: these sizes admit no array
    return size


def _draw_variadic(draw: st.DrawFn, variadic: Variadic, memo: Memo) -> tuple[int, ...]:
    axes = st.lists(_SIDES, max_size=_VARIADIC_AXES).map(tuple)
    if variadic.name is None:
        return draw(axes)
    key = "*" + variadic.name
    bound = memo.get(key)
    if not isinstance(bound, tuple):
        bound = memo[key] = draw(axes)
    if not variadic.broadcastable:
        return bound
    # "*#batch": a shape that broadcasts to the bound one, which every other use agrees with.
    dropped = draw(st.integers(0, len(bound)))
    return tuple(1 if draw(st.booleans()) else size for size in bound[dropped:])


def draw_annotated_shape(draw: st.DrawFn, spec: ArraySpec, memo: Memo) -> tuple[int, ...]:
    if spec.prefix is None:  # np.ndarray, torch.Tensor: any shape
        return tuple(draw(st.lists(_SIDES, max_size=_FREE_AXES)))
    dims = spec.prefix + spec.suffix
    sizes: dict[int, int] = {}
    # Symbolic axes go last, so that "b+1" can use a b bound anywhere in the same annotation.
    for index, (kind, argument) in enumerate(dims):
        if kind in (NAMED, FIXED, ANONYMOUS, BROADCAST_NAMED, BROADCAST_FIXED):
            sizes[index] = _draw_dim(draw, kind, argument, memo)
    for index, (_, argument) in enumerate(dims):
        if index not in sizes:
            sizes[index] = _draw_symbolic(draw, str(argument), memo)
    ordered = [sizes[index] for index in range(len(dims))]
    middle = () if spec.variadic is None else _draw_variadic(draw, spec.variadic, memo)
    split = len(spec.prefix)
    shape = (*ordered[:split], *middle, *ordered[split:])
    if math.prod(shape) > MAX_DRAWN_ELEMENTS:  # only fixed sizes get here: drawn ones are small
        raise InvalidArgument(
            f"from_annotation() cannot draw {spec.description}: its fixed sizes make "
            f"{math.prod(shape):,} elements, over the {MAX_DRAWN_ELEMENTS:,} that keep a test's "
            "memory bounded. Draw this argument yourself (overrides=) or test with smaller sizes."
        )
    return shape
