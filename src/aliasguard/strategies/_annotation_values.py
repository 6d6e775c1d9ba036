"""`from_annotation`: values of jaxtyping annotations, and of `Shared`/`Owned` around them.

Each draw picks one of the compiled annotation's alternatives, a dtype, a shape consistent with an
axis memo, and a value in a hard layout, drawn by `aliasguard.strategies.arrays` and
`aliasguard.strategies.tensors`, wrapped as the annotation says.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable
from typing import Any, Final

import numpy as np
import torch
from hypothesis import strategies as st

from .._convert import own, share
from .._dtypes import DtypeInfo, DtypeSpec
from .._torch_compat import quiet_complex_half
from .._wrappers import Owned, Shared, is_ndarray
from ._annotation_compiling import Compiled, Target, compile_annotation, resolve_restriction
from ._annotation_shapes import Memo, check_memo, draw_annotated_shape
from ._arrays import arrays
from ._dtype_tables import ARRAY_DTYPES
from ._tensors import tensors

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

# share() and own() of a value whose library is drawn at run time (their overloads need it known).
_share_any: Callable[[Any], Shared[Any]] = share
_own_untyped: Callable[[Any], Owned[Any]] = own


def _bare(library: str, info: DtypeInfo, shape: tuple[int, ...]) -> st.SearchStrategy[Any]:
    """A value of the library, dtype and shape, in fresh memory, in any ordinary hard layout."""
    if library == "numpy":
        return arrays(dtypes=info.name, shapes=shape, layouts=_ARRAY_LAYOUTS)
    return tensors(dtypes=info.name, shapes=shape, layouts=_TENSOR_LAYOUTS)


def _drawable_as_array(info: DtypeInfo) -> bool:
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
    with quiet_complex_half():
        fresh_tensor = torch.empty_strided(shape, tuple(strides), dtype=tensor.dtype)
        fresh_tensor.copy_(tensor)
    return fresh_tensor


def _owned(draw: st.DrawFn, library: str, info: DtypeInfo, shape: tuple[int, ...]) -> Owned[Any]:
    routes = ["own", "Owned"] if _drawable_as_array(info) else ["Owned"]
    if draw(st.sampled_from(routes)) == "own":
        # own() converts between the libraries, from any layout, into fresh C-ordered memory.
        source = draw(_bare("numpy" if library == "torch" else "torch", info, shape))
        return _own_untyped(source)
    fresh: np.ndarray[Any, Any] | torch.Tensor = _fresh_copy(
        draw, draw(_bare(library, info, shape))
    )
    return Owned(fresh)


def _shared(draw: st.DrawFn, library: str, info: DtypeInfo, shape: tuple[int, ...]) -> Shared[Any]:
    routes = ["share", "Shared", "Owned"] if _drawable_as_array(info) else ["Shared", "Owned"]
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
def _target_value(draw: st.DrawFn, target: Target, memo: Memo) -> Any:
    library, infos = draw(st.sampled_from(target.dtypes))
    info = draw(st.sampled_from(infos))
    shape = draw_annotated_shape(draw, target.spec, memo)
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
    if isinstance(choice, Target):
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
        check_memo(memo)
        memo = dict(memo)  # a snapshot: a later change to the caller's dict changes nothing here
    return compiled_values(compile_annotation(annotation, restriction), memo, shared=False)
