"""`tensors`: CPU torch tensors of every dtype and layout aliasguard converts, lazy bits included."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from hypothesis import strategies as st

from .._dtypes import DtypeSpec, resolve_dtype
from .._torch_compat import quiet_complex_half
from ._arguments import resolve_dtypes, resolve_layouts, resolve_shapes
from ._dtype_tables import TENSOR_DTYPES
from ._elements import COMPLEX_OF, TORCH_INTEGER_OF_SIZE, Elements, draw_bits, elements_for
from ._layouts import (
    TENSOR_LAYOUTS,
    Plan,
    draw_axes,
    draw_choice,
    draw_permutation,
    draw_shape,
    draw_slices,
    plan_layouts,
)


def _tensor_storage(
    draw: st.DrawFn, elements: Elements, shape: tuple[int, ...], offset: int = 0
) -> torch.Tensor:
    """A contiguous tensor of ``shape`` filled with drawn bits, ``offset`` elements into its storage."""
    info = elements.info
    count = int(np.prod(shape, dtype=np.int64))
    bits = draw_bits(draw, elements, offset + count)
    flat = torch.empty(offset + count, dtype=info.torch)
    integer = torch.uint8 if info.kind == "b" else TORCH_INTEGER_OF_SIZE[elements.component_size]
    signed_bits = bits.view(np.uint8 if info.kind == "b" else f"i{elements.component_size}")
    flat.view(integer).copy_(torch.from_numpy(signed_bits))  # pyright: ignore[reportUnknownMemberType]
    if offset == 0:
        return flat.view(shape)
    return flat[offset:].view(shape)


@st.composite
def _tensor_from_plan(
    draw: st.DrawFn, plan: Plan, shapes: st.SearchStrategy[tuple[int, ...]]
) -> torch.Tensor:
    info, layout, modifiers = draw_choice(draw, plan)
    # A negative-bit float is the imaginary part of a conjugated complex: draw that complex.
    negative = "negative" in modifiers
    build = resolve_dtype(COMPLEX_OF[info.name]) if negative else info
    assert build is not None
    elements = elements_for(build)
    shape = draw_shape(draw, layout, shapes)
    with quiet_complex_half():
        tensor = _tensor_layout(draw, elements, layout, shape)
        if layout == "sparse":
            # Made from a tensor that needs no grad: to_sparse has no complex derivative.
            tensor = tensor.to_sparse()
        if "requires-grad" in modifiers:
            tensor = tensor.detach().requires_grad_()
        if "conjugate" in modifiers:
            tensor = tensor.conj()
        if negative:
            tensor = tensor.conj().imag
    return tensor


def _tensor_layout(
    draw: st.DrawFn, elements: Elements, layout: str, shape: tuple[int, ...]
) -> torch.Tensor:
    if layout in ("contiguous", "empty", "sparse"):
        return _tensor_storage(draw, elements, shape)
    if layout == "storage-offset":
        return _tensor_storage(draw, elements, shape, offset=draw(st.integers(1, 3)))
    if layout == "0-d":
        index = draw(st.integers(0, 2))
        return _tensor_storage(draw, elements, (index + 1,))[index]
    if layout == "transposed":
        order = draw_permutation(draw, len(shape))
        base = _tensor_storage(draw, elements, tuple(shape[axis] for axis in order))
        return base.permute(tuple(order.index(axis) for axis in range(len(shape))))
    if layout == "strided":
        base_shape, slices = draw_slices(draw, shape, gap=True)
        return _tensor_storage(draw, elements, base_shape)[slices]
    # zero-strides
    broadcast = draw_axes(draw, len(shape))
    base_shape = tuple(1 if axis in broadcast else size for axis, size in enumerate(shape))
    base = _tensor_storage(draw, elements, base_shape)
    strides = tuple(0 if axis in broadcast else stride for axis, stride in enumerate(base.stride()))
    return base.as_strided(shape, strides)


def tensors(
    *,
    dtypes: DtypeSpec | Iterable[DtypeSpec] | None = None,
    shapes: st.SearchStrategy[tuple[int, ...]] | tuple[int, ...] | None = None,
    layouts: Iterable[str] | None = None,
) -> st.SearchStrategy[torch.Tensor]:
    """CPU torch tensors of every dtype and layout aliasguard converts, with hard values.

    Each tensor has one shape layout and any subset of the requested modifiers that its dtype can
    take (see `TENSOR_LAYOUTS`). Values are drawn as raw bits, as in `arrays`. A ``negative``
    tensor's stored bits are the drawn ones; the values it reads are their negations.

    Args:
        dtypes: one dtype or several (names, torch dtypes, NumPy dtypes); ``None`` draws from all
            of `TENSOR_DTYPES`, complex32 and the unsigned and float8 types included.
        shapes: a shape or a strategy of shapes; ``None`` draws 1 to 3 dimensions of 1 to 4. The
            ``0-d`` layout ignores it, and ``empty`` sets one axis of the drawn shape to 0.
        layouts: names from `TENSOR_LAYOUTS`; ``None`` draws all of them. When only modifiers are
            named, tensors are contiguous and carry at least one of them.

    Returns:
        A strategy of ``torch.Tensor``.

    Raises:
        hypothesis.errors.InvalidArgument: an unknown dtype or layout, or a layout that none of
            the dtypes can take (``conjugate`` with only real dtypes, say).

    Examples:
        >>> import torch
        >>> from hypothesis import given
        >>> from aliasguard.strategies import tensors
        >>> @given(tensors(dtypes=[torch.complex64], layouts=("conjugate",)))
        ... def test_lazy_conjugate(t):
        ...     assert t.dtype == torch.complex64 and t.is_conj()
        >>> test_lazy_conjugate()
    """
    infos = resolve_dtypes("tensors", dtypes, TENSOR_DTYPES)
    chosen = resolve_layouts("tensors", layouts, TENSOR_LAYOUTS)
    plan = plan_layouts(
        "tensors", infos, chosen, explicit=(dtypes is not None, layouts is not None)
    )
    return _tensor_from_plan(plan, resolve_shapes("tensors", shapes))
