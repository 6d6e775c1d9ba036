"""`arrays`: NumPy arrays of every dtype and layout aliasguard converts, in fresh or mapped memory."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray  # at run time: typing.get_type_hints(arrays) reads it

from .._dtypes import DtypeSpec, numpy_dtype_of
from .._temp_folders import make_process_folder
from ._arguments import resolve_dtypes, resolve_layouts, resolve_shapes
from ._dtype_tables import ARRAY_DTYPES
from ._elements import Elements, draw_bits, elements_for
from ._layouts import (
    ARRAY_LAYOUTS,
    Plan,
    draw_axes,
    draw_choice,
    draw_shape,
    draw_slices,
    plan_layouts,
)

_memmap_directory: str | None = None


def _memmap_bytes(size: int) -> NDArray[np.uint8]:
    """``size`` writable bytes (at least one) mapped from a fresh file in a per-process temp folder.

    The file is deleted as soon as it is mapped (on POSIX the mapping outlives it); the folder goes
    when the process exits, or, if the process is killed, when the next one makes its folder.
    """
    global _memmap_directory  # noqa: PLW0603 - one folder per process, made on first use
    if _memmap_directory is None or not os.path.isdir(_memmap_directory):
        # Remade if gone: a cleaner that took this process for a dead one must not break it.
        _memmap_directory = str(make_process_folder("strategies"))
    descriptor, name = tempfile.mkstemp(dir=_memmap_directory, suffix=".bin")
    os.close(descriptor)
    mapped = np.memmap(name, dtype=np.uint8, mode="w+", shape=(max(size, 1),))
    with contextlib.suppress(OSError):  # Windows cannot delete a mapped file: the folder goes later
        Path(name).unlink()
    return mapped


def _array_storage(
    draw: st.DrawFn,
    elements: Elements,
    dtype: np.dtype[Any],
    shape: tuple[int, ...],
    *,
    memmap: bool,
    offset: int,
) -> NDArray[Any]:
    """A C-contiguous array of ``shape`` filled with drawn bits, in fresh or mapped memory."""
    count = int(np.prod(shape, dtype=np.int64))
    bits = draw_bits(draw, elements, count)
    component = elements.component_dtype.newbyteorder(
        dtype.byteorder if dtype.byteorder in "<>" else "="
    )
    if not memmap and offset == 0:
        array = np.empty(shape, dtype)
        array.reshape(-1).view(component)[...] = bits
        return array
    size = count * dtype.itemsize
    raw = _memmap_bytes(offset + size) if memmap else np.empty(offset + size, np.uint8)
    region = raw[offset : offset + size]
    region.view(component)[...] = bits
    return region.view(dtype).reshape(shape)


@st.composite
def _array_from_plan(
    draw: st.DrawFn, plan: Plan, shapes: st.SearchStrategy[tuple[int, ...]]
) -> NDArray[Any]:
    info, layout, modifiers = draw_choice(draw, plan)
    elements = elements_for(info)
    dtype = numpy_dtype_of(info)
    assert dtype is not None, f"{info.name} was checked to have a NumPy dtype"
    if "byte-swapped" in modifiers:
        dtype = dtype.newbyteorder()
    memmap = "memmap" in modifiers
    shape = draw_shape(draw, layout, shapes)

    def storage(base_shape: tuple[int, ...], offset: int = 0) -> NDArray[Any]:
        return _array_storage(draw, elements, dtype, base_shape, memmap=memmap, offset=offset)

    array: NDArray[Any]
    if layout in ("contiguous", "empty"):
        array = storage(shape)
    elif layout == "unaligned":
        array = storage(shape, offset=1)
    elif layout == "0-d":
        index = draw(st.integers(0, 2))
        array = storage((index + 1,))[index, ...]
    elif layout == "fortran":
        array = storage(shape[::-1]).T
    elif layout == "strided":
        base_shape, slices = draw_slices(draw, shape, gap=True)
        # [..., ()] keeps a 0-d result an array: plain indexing would give a NumPy scalar.
        array = storage(base_shape)[slices][...]
    elif layout == "negative-strides":
        base_shape, slices = draw_slices(draw, shape)
        flipped = draw_axes(draw, len(shape))
        array = np.flip(storage(base_shape)[slices], axis=flipped) if flipped else storage(shape)
    else:  # zero-strides
        broadcast = draw_axes(draw, len(shape))
        base_shape = tuple(1 if axis in broadcast else size for axis, size in enumerate(shape))
        base = storage(base_shape)
        strides = tuple(
            0 if axis in broadcast else stride for axis, stride in enumerate(base.strides)
        )
        # What np.broadcast_to makes, but with stride 0 on length-1 axes too, and writable unless
        # "read-only" is drawn as well. as_strided goes through __array_interface__ typestrs, which
        # cannot name some ml_dtypes dtypes ("<f1" for float8_e5m2): move raw bytes instead.
        raw = np.dtype((np.void, dtype.itemsize))
        array = np.lib.stride_tricks.as_strided(base.view(raw), shape=shape, strides=strides)
        array = array.view(dtype)
    if "read-only" in modifiers:
        array.flags.writeable = False
    return array


def arrays(
    *,
    dtypes: DtypeSpec | Iterable[DtypeSpec] | None = None,
    shapes: st.SearchStrategy[tuple[int, ...]] | tuple[int, ...] | None = None,
    layouts: Iterable[str] | None = None,
) -> st.SearchStrategy[NDArray[Any]]:
    """NumPy arrays of every dtype and layout aliasguard converts, with hard values.

    Each array has one shape layout and any subset of the requested modifiers (see `ARRAY_LAYOUTS`).
    Values are drawn as raw bits: NaNs with payloads (signalling and quiet, both signs), ``-0.0``,
    subnormals, infinities, the extremes, and Hypothesis's own floats and integers.

    Args:
        dtypes: one dtype or several (names such as ``"bfloat16"``, NumPy dtypes, torch dtypes);
            ``None`` draws from all of `ARRAY_DTYPES`.
        shapes: a shape or a strategy of shapes; ``None`` draws 1 to 3 dimensions of 1 to 4. The
            ``0-d`` layout ignores it, and ``empty`` sets one axis of the drawn shape to 0.
        layouts: names from `ARRAY_LAYOUTS`; ``None`` draws all of them. When only modifiers are
            named, arrays are C-contiguous and carry at least one of them.

    Returns:
        A strategy of ``np.ndarray`` (``np.memmap`` for some memory-mapped ones).

    Raises:
        hypothesis.errors.InvalidArgument: an unknown dtype or layout, or a layout that none of
            the dtypes can take.

    Examples:
        >>> from hypothesis import given
        >>> from aliasguard.strategies import arrays
        >>> @given(arrays(dtypes=["float32"], layouts=("negative-strides",)))
        ... def test_flipped(a):
        ...     assert a.dtype.name == "float32" and min(a.strides) < 0
        >>> test_flipped()
    """
    infos = resolve_dtypes("arrays", dtypes, ARRAY_DTYPES)
    chosen = resolve_layouts("arrays", layouts, ARRAY_LAYOUTS)
    plan = plan_layouts("arrays", infos, chosen, explicit=(dtypes is not None, layouts is not None))
    return _array_from_plan(plan, resolve_shapes("arrays", shapes))
