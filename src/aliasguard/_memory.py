"""Where an array or tensor lives in memory, and whether two of them overlap.

Storage identity is the wrong key for aliasing (two ``torch.from_numpy(a)`` calls share memory but not
storage), so everything here works on address ranges: first the bounding byte ranges, which settle
most questions in O(1), then NumPy's exact overlap solver on zero-copy NumPy "ghosts" of the memory
layouts, bounded in work so that adversarial strides cannot hang the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, NamedTuple, cast

import numpy as np
import torch

from . import _torch_compat
from ._wrappers import is_ndarray, is_tensor, unwrap

#: Work bound handed to ``np.shares_memory``. Past it the answer is "may overlap" (True). The solver
#: needs at most a few thousand steps for the strides of real views; adversarial ones can take seconds.
MAX_OVERLAP_WORK: Final = 100_000


class Extent(NamedTuple):
    """The bytes an array or tensor can touch: ``[start, stop)`` on ``device``.

    ``start == stop`` means the value touches no memory (empty, or a meta tensor).
    """

    device: tuple[str, int]
    start: int
    stop: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]  # in bytes
    itemsize: int


_HOST: Final = ("cpu", -1)
# NumPy's stubs admit only the sentinel work bounds -1 and 0; any positive bound is valid at run time.
_numpy_shares_memory: Callable[..., bool] = np.shares_memory


def _device_key(value: np.ndarray[Any, Any] | torch.Tensor) -> tuple[str, int]:
    if isinstance(value, np.ndarray) or value.device.type == "cpu":
        return _HOST
    index = cast("int | None", value.device.index)  # None for "cuda" without an index
    return (value.device.type, -1 if index is None else index)


def _extent_from_layout(
    device: tuple[str, int],
    address: int,
    shape: tuple[int, ...],
    strides: tuple[int, ...],
    itemsize: int,
) -> Extent:
    if address == 0 or 0 in shape:
        return Extent(device, 0, 0, shape, strides, itemsize)
    start = stop = address
    for size, stride in zip(shape, strides, strict=True):
        reach = (size - 1) * stride
        if reach < 0:
            start += reach
        else:
            stop += reach
    return Extent(device, start, stop + itemsize, shape, strides, itemsize)


def _as_numpy_sees_it(array: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``array`` as a plain ndarray view: the memory NumPy itself reads through it.

    A subclass can override ``__array_interface__`` (or ``shape``, ``strides``) in Python and name
    other memory than its own; NumPy's C code never asks those overrides, and neither do we.
    """
    if type(array) is np.ndarray:
        return array
    return np.ndarray.view(array, np.ndarray)


def extent_of(value: np.ndarray[Any, Any] | torch.Tensor) -> Extent:
    """The memory a strided array or tensor can touch.

    Raises:
        TypeError: ``value`` is a tensor of a non-strided layout (use its component tensors).
    """
    if isinstance(value, np.ndarray):
        value = _as_numpy_sees_it(value)
        address = value.__array_interface__["data"][0]
        return _extent_from_layout(_HOST, address, value.shape, value.strides, value.itemsize)
    if value.layout != torch.strided:
        raise TypeError(
            f"extent_of() needs a strided tensor, got layout {value.layout}: non-strided tensors "
            "have several buffers. Pass each of them instead."
        )
    key = _device_key(value)
    if value.device.type == "meta":
        return Extent(key, 0, 0, tuple(value.shape), tuple(value.stride()), value.element_size())
    itemsize = value.element_size()
    return _extent_from_layout(
        key,
        value.data_ptr(),
        tuple(value.shape),
        tuple(stride * itemsize for stride in value.stride()),
        itemsize,
    )


def _ghost_array(extent: Extent, address: int) -> np.ndarray[Any, Any]:
    """A NumPy array over a tensor's memory layout, for NumPy's overlap solver.

    NumPy builds it from the address without reading the memory, so device addresses work too.
    """
    interface: dict[str, object] = {
        "version": 3,
        "shape": extent.shape,
        "strides": extent.strides,
        "typestr": f"|V{extent.itemsize}",
        "data": (address, True),
    }
    return np.asarray(_InterfaceHolder(interface))


class _InterfaceHolder:
    __slots__ = ("__array_interface__",)

    def __init__(self, interface: dict[str, object]) -> None:
        self.__array_interface__ = interface


def _buffers(value: object) -> list[np.ndarray[Any, Any] | torch.Tensor]:
    """The strided buffers behind ``value``: itself, or the tensors a sparse or wrapper tensor holds."""
    value = unwrap(value)
    if is_ndarray(value):
        return [_as_numpy_sees_it(cast("Any", value))]  # narrowed from object: no dtype known
    if is_tensor(value):
        if type(value) is not torch.Tensor:
            inner = _torch_compat.wrapped_tensors(value)
            if inner is not None:
                # A subclass may hold tensors besides memory of its own: compare both.
                outer = [] if _is_opaque(value) else [value]
                return outer + [buffer for tensor in inner for buffer in _buffers(tensor)]
        if value.layout == torch.strided and not value.is_nested:
            return [value]
        components = _torch_compat.component_tensors(value)
        if components == [value]:
            return [value]  # opaque layout (nested, mkldnn): compared by device only
        return [buffer for component in components for buffer in _buffers(component)]
    raise TypeError(
        f"shares_memory() takes NumPy arrays, torch tensors or Shared/Owned wrappers, got "
        f"{type(value).__name__}: only those have memory to compare. Convert it with np.asarray first."
    )


def _is_opaque(value: np.ndarray[Any, Any] | torch.Tensor) -> bool:
    """Whether ``value`` has no address range to compare: its memory is elsewhere or unknown.

    Nested and mkldnn layouts hide their buffers. A tensor without storage (vmap, functional) or
    with address 0 for elements it has (FakeTensor, a wrapper subclass that does not say what it
    wraps) reads memory we cannot see.
    """
    if not isinstance(value, torch.Tensor):
        return False
    if value.layout != torch.strided or value.is_nested:
        return True
    if value.device.type == "meta" or value.numel() == 0:
        return False
    if _torch_compat.is_fake(value):
        return True
    try:
        return value.data_ptr() == 0
    except RuntimeError:
        return True


def _address(value: np.ndarray[Any, Any] | torch.Tensor) -> int:
    if isinstance(value, np.ndarray):
        return cast("int", value.__array_interface__["data"][0])
    return value.data_ptr()


#: Layouts reaching this far are answered "may overlap": NumPy's solver works in int64 and would
#: overflow (numpy's own shares_memory answers wrongly there).
_MAX_SOLVER_REACH: Final = 2**62
#: NumPy arrays have at most 64 dimensions (``NPY_MAXDIMS``); torch tensors may have more.
MAX_NUMPY_DIMS: Final = 64


def _solver_input(
    value: np.ndarray[Any, Any] | torch.Tensor, extent: Extent
) -> np.ndarray[Any, Any] | None:
    """What NumPy's solver compares for ``value``, or ``None`` where NumPy cannot build it.

    A NumPy array goes as it is, and a tensor as a ghost of its layout, unless the layout has axes
    of length one or zero stride: those touch no byte the other axes do not, and dropping them
    keeps ``expand(2**60)`` and more than 64 dimensions within what NumPy can build.
    """
    if 1 not in extent.shape and 0 not in extent.strides:
        if isinstance(value, np.ndarray):
            return value
        if len(extent.shape) <= MAX_NUMPY_DIMS:
            return _ghost_array(extent, value.data_ptr())
    kept = [
        (size, stride)
        for size, stride in zip(extent.shape, extent.strides, strict=True)
        if size != 1 and stride != 0
    ]
    if len(kept) > MAX_NUMPY_DIMS:
        return None
    shape = tuple(size for size, _ in kept)
    strides = tuple(stride for _, stride in kept)
    try:
        return _ghost_array(extent._replace(shape=shape, strides=strides), _address(value))
    except (ValueError, OverflowError):  # a layout NumPy refuses to build
        return None


def _pair_overlaps(
    first: np.ndarray[Any, Any] | torch.Tensor, second: np.ndarray[Any, Any] | torch.Tensor
) -> bool:
    if _is_opaque(first) or _is_opaque(second):
        # No address ranges to compare: on the same device they may overlap, and we say so.
        return _device_key(first) == _device_key(second)
    a, b = extent_of(first), extent_of(second)
    if a.device != b.device or a.start == a.stop or b.start == b.stop:
        return False
    if a.stop <= b.start or b.stop <= a.start:
        return False
    # The bounding ranges intersect; only the exact solver can tell interleaved strides apart.
    if a.stop - a.start >= _MAX_SOLVER_REACH or b.stop - b.start >= _MAX_SOLVER_REACH:
        return True
    left = _solver_input(first, a)
    right = _solver_input(second, b)
    if left is None or right is None:
        return True
    try:
        return _numpy_shares_memory(left, right, max_work=MAX_OVERLAP_WORK)
    except np.exceptions.TooHardError:
        return True  # undecided within the bound: report "may overlap", never hang


def shares_memory(a: object, b: object) -> bool:
    """Whether two arrays or tensors, in any mix, can touch a common byte of memory.

    Views, strides, offsets and zero strides are all accounted for, and the answer is exact wherever
    NumPy's overlap solver decides within `MAX_OVERLAP_WORK` steps. Past that bound (only adversarial
    strides get there) the answer is ``True``, meaning "may overlap": it never hangs and never says
    False for memory that overlaps. Values on different devices never overlap; empty values and meta
    tensors touch no memory. Sparse tensors are compared through their index and value tensors,
    wrapper subclasses (jagged nested tensors, DTensor) through the tensors they hold. Where the
    memory cannot be seen (strided nested tensors, FakeTensors, vmap and functional tensors) or the
    layout is out of NumPy's reach (past 2**62 bytes), the answer on a shared device is ``True``.

    Args:
        a: an ``np.ndarray``, a ``torch.Tensor``, or a `Shared`/`Owned` wrapping one.
        b: likewise.

    Returns:
        ``True`` when a write through one may change what the other reads.

    Raises:
        TypeError: either argument is something else.

    Examples:
        >>> import numpy as np, torch, aliasguard
        >>> a = np.arange(10.0)
        >>> aliasguard.shares_memory(a[::2], torch.from_numpy(a)[1::2])
        False
        >>> aliasguard.shares_memory(a[::2], torch.from_numpy(a)[2:3])
        True
    """
    first, second = _buffers(a), _buffers(b)
    return any(_pair_overlaps(x, y) for x in first for y in second)
