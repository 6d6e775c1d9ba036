"""`from_annotation`: values of jaxtyping annotations, and of `Shared`/`Owned` around them.

An annotation is compiled once into `_Target` alternatives (wrapper kind, library, admissible dtypes,
the dims spec that ``@checked`` itself reads); each draw then picks an alternative, a dtype, a shape
consistent with an axis memo, and a value in a hard layout, drawn by `aliasguard.strategies.arrays`
and `aliasguard.strategies.tensors`.
"""

from __future__ import annotations

import math
import typing
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import numpy as np
import torch
from hypothesis import reject, strategies as st
from hypothesis.errors import InvalidArgument

from .._annotation_compat import is_class, ndarray_scalar_type, union_members
from .._annotations import KIND_NAMES, is_array_annotation, wrapper_parts
from .._convert import own, share
from .._dtypes import DtypeInfo, numpy_dtype_of, resolve_dtype
from .._jaxtyping_compat import (
    ANONYMOUS,
    BROADCAST_FIXED,
    BROADCAST_NAMED,
    FIXED,
    NAMED,
    ArraySpec,
    SymbolicAxisError,
    Variadic,
    numpy_dtype_name,
    spec_of,
    symbolic_names,
    symbolic_size,
)
from .._wrappers import Owned, Shared, is_ndarray
from ._arrays import arrays
from ._dtype_tables import ARRAY_DTYPES, TENSOR_DTYPES, DtypeSpec, plainest_first
from ._tensors import tensors

#: Axis bindings: a named axis (``"b"``) to its size, a named variadic axis (``"*batch"``) to its
#: shape.
Memo: TypeAlias = "dict[str, int | tuple[int, ...]]"

# ----------------------------------------------------------------------------------------------
# Tables

#: The layouts drawn for a value handed over as it is (a bare parameter, or ``Shared(value)``): the
#: hard ones that real pipelines meet. Every one applies to every dtype, so no dtype is ever left
#: without a layout. `arrays` and `tensors` draw the exotic rest (byte-swapped, unaligned, sparse,
#: lazy conjugate or negative bits, requires-grad) when asked.
_ARRAY_LAYOUTS: Final = (
    "contiguous",
    "strided",
    "fortran",
    "negative-strides",
    "zero-strides",
    "read-only",
    "memmap",
)
_TENSOR_LAYOUTS: Final = ("contiguous", "strided", "transposed", "zero-strides", "storage-offset")
#: The layouts `aliasguard.share` aliases without a copy (it refuses negative strides).
_SHAREABLE_ARRAY_LAYOUTS: Final = (
    "contiguous",
    "strided",
    "fortran",
    "zero-strides",
    "read-only",
    "memmap",
)

#: Axis sizes: an empty axis about one draw in nine; shrinks toward 1, the plainest size.
_SIDES: Final = st.sampled_from((1, 2, 3, 4, 2, 3, 1, 4, 0))
#: The axes of an unconstrained shape (``...``, a bare ``np.ndarray``), and of a new ``*batch``.
_FREE_AXES: Final = 3
#: The most elements one drawn array may have. Drawn axes stay at 4 or less; only sizes an
#: annotation fixes ("100000 100000") can pass this, and drawing them would exhaust memory.
MAX_DRAWN_ELEMENTS: Final = 1 << 24
_VARIADIC_AXES: Final = 2

_LIBRARIES: Final = ("torch", "numpy")
# share() and own() of a value whose library is drawn at run time (their overloads need it known).
_share_any: Callable[[Any], Shared[Any]] = share
_own_any: Callable[[Any], Owned[Any]] = own
_COMPLEX_HALF_WARNING: Final = "ComplexHalf support is experimental"


# ----------------------------------------------------------------------------------------------
# Compiling annotations


@dataclass(frozen=True)
class _Target:
    """One way to satisfy an annotation: a wrapper kind around one array annotation.

    ``dtypes`` maps each library the annotation admits to its drawable dtypes, most plain first.
    """

    wrapper: str | None  # "Shared", "Owned", or None for a bare array
    spec: ArraySpec
    dtypes: tuple[tuple[str, tuple[DtypeInfo, ...]], ...]
    text: str  # the annotation as written, for messages

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints strategies' arguments field by field, tables included: keep it short.
        printer.text(repr(self))


@dataclass(frozen=True)
class Compiled:
    """An annotation compiled for drawing: alternatives, plus whether ``None`` is one of them."""

    targets: tuple[_Target, ...]
    optional: bool
    others: tuple[object, ...]  # non-array union members, drawn by Hypothesis's from_type

    def __repr__(self) -> str:
        texts = [target.text for target in self.targets]
        texts += [_annotation_text(other) for other in self.others]
        return " | ".join(texts + (["None"] if self.optional else []))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _annotation_text(annotation: object) -> str:
    if is_class(annotation):
        text = repr(annotation) if annotation.__module__ == "aliasguard" else annotation.__name__
        return text.removeprefix("aliasguard.")
    return repr(annotation)


def _admits(scalar_type: type | None, info: DtypeInfo) -> bool:
    if scalar_type is None:
        return True  # Any, a TypeVar: every dtype
    dtype = numpy_dtype_of(info)
    return dtype is not None and issubclass(dtype.type, scalar_type)


def _library_dtypes(
    spec: ArraySpec, annotation: object, restriction: frozenset[str] | None
) -> tuple[tuple[str, tuple[DtypeInfo, ...]], ...]:
    classes = spec.array_class if isinstance(spec.array_class, tuple) else (spec.array_class,)
    scalar_type = ndarray_scalar_type(annotation)
    found: list[tuple[str, tuple[DtypeInfo, ...]]] = []
    for library in _LIBRARIES:
        value_class = torch.Tensor if library == "torch" else np.ndarray
        if not any(issubclass(value_class, cls) for cls in classes):
            continue
        names = TENSOR_DTYPES if library == "torch" else ARRAY_DTYPES
        infos: list[DtypeInfo] = []
        for name in plainest_first(names):
            info = resolve_dtype(name)
            assert info is not None, f"{name} is in aliasguard's dtype table"
            if restriction is not None and name not in restriction:
                continue
            if library == "torch":
                if spec.torch_dtypes is not None and info.torch not in spec.torch_dtypes:
                    continue
            else:
                dtype = numpy_dtype_of(info)
                allowed = spec.numpy_dtype_names
                if dtype is None or (
                    allowed is not None and numpy_dtype_name(dtype) not in allowed
                ):
                    continue
                if not _admits(scalar_type, info):
                    continue
            infos.append(info)
        if infos:
            found.append((library, tuple(infos)))
    return tuple(found)


def _compile_payload(
    wrapper: str | None, payload: object, restriction: frozenset[str] | None, text: str
) -> list[_Target]:
    members = union_members(payload)
    if members is not None:
        return [
            target
            for member in members
            for target in _compile_payload(wrapper, member, restriction, text)
        ]
    if payload is typing.Any:
        payload = np.ndarray | torch.Tensor
    try:
        spec = spec_of(payload)
    except TypeError as error:
        msg = (
            f"from_annotation() cannot draw {text}: {error} Use np.ndarray, torch.Tensor or a "
            "jaxtyping annotation of one (Float[Tensor, 'b c']), or pass a strategy of your own."
        )
        raise InvalidArgument(msg) from None
    dtypes = _library_dtypes(spec, payload, restriction)
    if not dtypes:
        wanted = "" if restriction is None else f" among dtypes={sorted(restriction)}"
        msg = (
            f"from_annotation() cannot draw {text}: no NumPy or torch dtype that aliasguard "
            f"converts satisfies {spec.description}{wanted}. Widen the annotation or the dtypes, "
            "or pass a strategy of your own."
        )
        raise InvalidArgument(msg)
    return [_Target(wrapper, spec, dtypes, text)]


def compile_annotation(annotation: object, restriction: frozenset[str] | None) -> Compiled:
    members = union_members(annotation)
    alternatives = members if members is not None else (annotation,)
    targets: list[_Target] = []
    others: list[object] = []
    optional = False
    for member in alternatives:
        if member is type(None) or member is None:
            optional = True
            continue
        text = _annotation_text(member)
        parts = wrapper_parts(member)
        if parts is not None:
            targets += _compile_payload(KIND_NAMES[parts[0]], parts[1], restriction, text)
        elif is_array_annotation(member):
            targets += _compile_payload(None, member, restriction, text)
        else:
            others.append(member)
    if not targets:
        msg = (
            f"from_annotation() draws array annotations, got {_annotation_text(annotation)}: it "
            "names no np.ndarray, torch.Tensor, jaxtyping, Shared or Owned type. Use "
            "hypothesis.strategies.from_type() for other types."
        )
        raise InvalidArgument(msg)
    return Compiled(tuple(targets), optional, tuple(others))


def resolve_restriction(
    function: str, dtypes: DtypeSpec | Iterable[DtypeSpec] | None
) -> frozenset[str] | None:
    if dtypes is None:
        return None
    specs: list[object] = (
        [dtypes] if isinstance(dtypes, str | np.dtype | torch.dtype | type) else list(dtypes)
    )
    names: set[str] = set()
    for spec in specs:
        try:
            info = resolve_dtype(spec)
        except TypeError:
            info = None
        if info is None:
            msg = (
                f"{function}(dtypes=...) got {spec!r}: aliasguard converts no such dtype. Pass "
                "names from aliasguard.strategies.TENSOR_DTYPES, such as 'float32'."
            )
            raise InvalidArgument(msg)
        names.add(info.name)
    if not names:
        msg = f"{function}(dtypes=[]) got no dtypes: nothing could be drawn. Pass None for all."
        raise InvalidArgument(msg)
    return frozenset(names)


def _check_memo(memo: object) -> None:
    if not isinstance(memo, dict):
        msg = (
            f"from_annotation(memo={memo!r}) is not a dict: it takes axis bindings such as "
            "{'b': 3, '*batch': (2, 5)}. Pass a dict, or None for a fresh one per draw."
        )
        raise InvalidArgument(msg)
    for key, value in typing.cast("dict[object, object]", memo).items():
        variadic = isinstance(key, str) and key.startswith("*")
        if variadic and isinstance(value, tuple):
            sizes = typing.cast("tuple[object, ...]", value)
            good = all(isinstance(size, int) and size >= 0 for size in sizes)
        else:
            good = isinstance(key, str) and isinstance(value, int) and value >= 0
        if not good:
            msg = (
                f"from_annotation(memo=...) binds {key!r} to {value!r}: a named axis takes a "
                "size (int >= 0) and a '*name' variadic axis a tuple of them. Fix that entry."
            )
            raise InvalidArgument(msg)


# ----------------------------------------------------------------------------------------------
# Shapes


def _bound_size(memo: Memo, name: str) -> int | None:
    bound = memo.get(name)
    return bound if isinstance(bound, int) else None


def _draw_dim(draw: st.DrawFn, kind: int, argument: Any, memo: Memo) -> int:
    """One axis's size, under ``@checked``'s rules (and jaxtyping's): see `_checking._match_dims`."""
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
        msg = (
            f"from_annotation() cannot draw the axis {expression!r}: it names the call's "
            "arguments (an f-string axis), which a drawn value does not have. Pass a strategy "
            "of your own for this parameter."
        )
        raise InvalidArgument(msg)
    for name in symbolic_names(expression):
        if _bound_size(memo, name) is None:
            memo[name] = draw(_SIDES)
    sizes = {name: value for name, value in memo.items() if isinstance(value, int)}
    try:
        size: object = symbolic_size(expression, sizes, None)
    except SymbolicAxisError as error:
        msg = (
            f"from_annotation() cannot evaluate the axis {expression!r} ({error}): symbolic axes "
            "combine axis names with arithmetic, like 'b+1'. Correct the annotation."
        )
        raise InvalidArgument(msg) from None
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


def _draw_shape(draw: st.DrawFn, spec: ArraySpec, memo: Memo) -> tuple[int, ...]:
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
        msg = (
            f"from_annotation() cannot draw {spec.description}: its fixed sizes make "
            f"{math.prod(shape):,} elements, over the {MAX_DRAWN_ELEMENTS:,} that keep a test's "
            "memory bounded. Draw this argument yourself (overrides=) or test with smaller sizes."
        )
        raise InvalidArgument(msg)
    return shape


# ----------------------------------------------------------------------------------------------
# Values


def _bare(library: str, info: DtypeInfo, shape: tuple[int, ...]) -> st.SearchStrategy[Any]:
    """A value of the library, dtype and shape, in fresh memory, in any ordinary hard layout."""
    if library == "numpy":
        return arrays(dtypes=info.name, shapes=shape, layouts=_ARRAY_LAYOUTS)
    return tensors(dtypes=info.name, shapes=shape, layouts=_TENSOR_LAYOUTS)


def _has_numpy_dtype(info: DtypeInfo) -> bool:
    return info.name in ARRAY_DTYPES


def _fresh_copy(draw: st.DrawFn, value: Any) -> Any:
    """``value`` copied into memory nothing else holds (no base): C order, Fortran order, or (for
    tensors) any permutation of the axes."""
    shape = tuple(value.shape)
    if is_ndarray(value):
        fresh = np.empty(shape, dtype=value.dtype, order=draw(st.sampled_from(("C", "F"))))
        fresh[...] = value
        return fresh
    order = tuple(range(len(shape)))  # outermost axis first
    if len(shape) > 1:
        order = tuple(draw(st.permutations(order)))
    strides = [0] * len(shape)
    step = 1
    for axis in reversed(order):
        strides[axis] = step
        step *= max(shape[axis], 1)
    tensor = typing.cast("torch.Tensor", value)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_COMPLEX_HALF_WARNING, category=UserWarning)
        fresh_tensor = torch.empty_strided(shape, tuple(strides), dtype=tensor.dtype)
        fresh_tensor.copy_(tensor)
    return fresh_tensor


def _owned(draw: st.DrawFn, library: str, info: DtypeInfo, shape: tuple[int, ...]) -> Owned[Any]:
    routes = ["own", "Owned"] if _has_numpy_dtype(info) else ["Owned"]
    if draw(st.sampled_from(routes)) == "own":
        # own() converts between the libraries, from any layout, into fresh C-ordered memory.
        source = draw(_bare("numpy" if library == "torch" else "torch", info, shape))
        return _own_any(source)
    fresh: np.ndarray[Any, Any] | torch.Tensor = _fresh_copy(
        draw, draw(_bare(library, info, shape))
    )
    return Owned(fresh)


def _shared(draw: st.DrawFn, library: str, info: DtypeInfo, shape: tuple[int, ...]) -> Shared[Any]:
    routes = ["share", "Shared", "Owned"] if _has_numpy_dtype(info) else ["Shared", "Owned"]
    route = draw(st.sampled_from(routes))
    if route == "Owned":  # an Owned value is lent wherever a Shared one is expected
        return _owned(draw, library, info, shape)
    if route == "Shared":
        return Shared(draw(_bare(library, info, shape)))
    if library == "torch":
        return _share_any(
            draw(arrays(dtypes=info.name, shapes=shape, layouts=_SHAREABLE_ARRAY_LAYOUTS))
        )
    return _share_any(draw(tensors(dtypes=info.name, shapes=shape, layouts=_TENSOR_LAYOUTS)))


@st.composite
def _target_value(draw: st.DrawFn, target: _Target, memo: Memo) -> Any:
    library, infos = draw(st.sampled_from(target.dtypes))
    info = draw(st.sampled_from(infos))
    shape = _draw_shape(draw, target.spec, memo)
    if target.wrapper == "Owned":
        return _owned(draw, library, info, shape)
    if target.wrapper == "Shared":
        return _shared(draw, library, info, shape)
    return draw(_bare(library, info, shape))


@st.composite
def compiled_values(
    draw: st.DrawFn, compiled: Compiled, memo: Memo | None, *, shared: bool = True
) -> Any:
    """A value of ``compiled``. A ``shared`` memo records the axes the draw binds, so that the
    next draw with it agrees; otherwise each draw binds axes in a copy of its own."""
    choices: list[object] = list(compiled.targets) + list(compiled.others)
    if compiled.optional:
        choices.append(None)
    choice = draw(st.sampled_from(choices))
    if choice is None:
        return None
    if isinstance(choice, _Target):
        if memo is None or not shared:
            memo = {} if memo is None else dict(memo)
        return draw(_target_value(choice, memo))
    return draw(st.from_type(typing.cast("type[Any]", choice)))


def from_annotation(
    annotation: object,
    *,
    memo: Memo | None = None,
    dtypes: DtypeSpec | Iterable[DtypeSpec] | None = None,
) -> st.SearchStrategy[Any]:
    """Values of a jaxtyping annotation, or of ``Shared``/``Owned`` around one.

    The library (NumPy or torch, as the annotation names), the dtype (from the annotation's
    jaxtyping category, among the dtypes aliasguard converts: `TENSOR_DTYPES`, `ARRAY_DTYPES`) and
    the shape (named, fixed, ``_``, ``...``, ``*batch``, ``#`` broadcast and symbolic axes, as
    `aliasguard.checked` and jaxtyping read them) are drawn; the value comes in a hard layout
    (strided, Fortran, flipped, broadcast, transposed, storage offset, read-only, memory-mapped),
    with hard values (NaN payloads, ``-0.0``, subnormals, extremes). Wrapped as the annotation says:

    - ``Shared[...]``: made by `aliasguard.share` from the other library (it aliases its
      ``.source``), a plain ``Shared(value)``, or an ``Owned`` value lent as a borrow;
    - ``Owned[...]``: made by `aliasguard.own` from the other library, or ``Owned(value)`` of a
      fresh C-ordered or permuted copy: either way, memory nothing else holds.

    Optional annotations (``X | None``) draw ``None`` too; unions draw any member.

    Args:
        annotation: ``Float[Tensor, "b c"]``, ``Shared[UInt8[np.ndarray, "h w 3"]]``,
            ``Owned[NDArray[np.float32]]``, ``torch.Tensor``, or a union of those.
        memo: axis sizes to honour, ``{"b": 3, "*batch": (2,)}``; the other axes are drawn
            afresh for each value (the dict is read, never written). To draw several values
            whose axes agree, draw the sizes first and pass them to each, or use
            `call_arguments` on a function annotated with them.
        dtypes: draw only these dtypes (names, NumPy or torch dtypes), among those the annotation
            admits: for functions that support fewer dtypes than their annotation says.

    Returns:
        A strategy of values that satisfy ``isinstance(value, annotation)``.

    Raises:
        hypothesis.errors.InvalidArgument: the annotation names no array type, no dtype aliasguard
            converts fits it (or ``dtypes``), or ``memo`` is malformed.

    Examples:
        >>> from hypothesis import given
        >>> from jaxtyping import Float
        >>> from torch import Tensor
        >>> from aliasguard import Owned
        >>> from aliasguard.strategies import from_annotation
        >>> @given(from_annotation(Owned[Float[Tensor, "b 3"]], memo={"b": 2}))
        ... def test_owned(x):
        ...     assert isinstance(x, Owned[Float[Tensor, "b 3"]]) and x.value.shape == (2, 3)
        >>> test_owned()
    """
    restriction = resolve_restriction("from_annotation", dtypes)
    if memo is not None:
        _check_memo(memo)
        memo = dict(memo)  # a snapshot: a later change to the caller's dict changes nothing here
    return compiled_values(compile_annotation(annotation, restriction), memo, shared=False)
