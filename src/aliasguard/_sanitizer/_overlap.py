"""Writes whose elements meet: a written tensor's elements that overlap each other, and a written
tensor that partly overlaps one of the op's read arguments.

Both make the result depend on the order the kernel visits elements: several writes land on one
location (``expand()``, broadcast views), or a location is read after it was written
(``b[:, 2:] = b[:, :-2]``, which CPU, CUDA and NumPy answer differently).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

import numpy as np
import torch

from .. import _torch_compat
from .._errors import AliasingError
from .._memory import extent_of, shares_memory
from ._messages import partly_overlapping_write

#: Layouts torch calls TOO_HARD are enumerated exactly up to this many elements; past it they are
#: let through, as torch itself does.
MAX_ENUMERATED_ELEMENTS: Final = 1 << 16

_STRIDED: Final = torch.strided
#: ``(position, name, keyword-only)`` of each argument an op writes.
WrittenArguments = tuple[tuple[int, str, bool], ...]


def check_read_overlap(  # noqa: PLR0917  # the op's own arguments, passed on
    func: _torch_compat.OpOverload[..., Any],
    name: str,
    tensor: torch.Tensor,
    written: WrittenArguments,
    args: Sequence[Any],
    kwargs: Mapping[str, Any] | None,
    index: int | None,
) -> None:
    """Refuse a write whose target partly overlaps one of the op's read arguments.

    The result would depend on the order the kernel visits elements (``b[:, 2:] = b[:, :-2]``
    gives a different answer on CPU, on CUDA and in NumPy). The very same memory, as in
    ``x.add_(x)``, is elementwise and fine. A ``_foreach`` list is compared item by item, as the
    op pairs them.
    """
    if tensor.layout is not _STRIDED or tensor.is_nested:
        return
    try:
        start = tensor.data_ptr()
    except RuntimeError:  # no storage (fake, functional tensors): no bytes to overlap
        return
    if not start:
        return  # meta tensors and empty ones
    stop = 0  # computed on the first read argument that is a tensor
    count = len(args)
    written_positions = [entry[0] for entry in written]
    for position, argument in enumerate(args):
        if position in written_positions:
            continue
        read = argument
        if index is not None and isinstance(argument, list | tuple):
            items = cast("Sequence[object]", argument)
            read = items[index] if index < len(items) else None
        if read is tensor or not isinstance(read, torch.Tensor):
            continue
        if not stop:
            stop = _stop_of(tensor, start)
        _refuse_partial_overlap(func, name, tensor, start, stop, read, position)
    if kwargs:
        for key, argument in kwargs.items():
            if any(key == written_name for _, written_name, _ in written):
                continue
            if isinstance(argument, torch.Tensor) and argument is not tensor:
                if not stop:
                    stop = _stop_of(tensor, start)
                _refuse_partial_overlap(func, name, tensor, start, stop, argument, count)


def _stop_of(tensor: torch.Tensor, start: int) -> int:
    if tensor.is_contiguous():
        return start + tensor.nbytes
    return extent_of(tensor).stop


def _refuse_partial_overlap(  # noqa: PLR0917
    func: _torch_compat.OpOverload[..., Any],
    name: str,
    tensor: torch.Tensor,
    start: int,
    stop: int,
    read: torch.Tensor,
    position: int,
) -> None:
    if read.layout is not _STRIDED or read.is_nested:
        return
    try:
        read_start = read.data_ptr()
    except RuntimeError:
        return
    if not read_start or read_start >= stop:
        return
    if read_start < start and _stop_of(read, read_start) <= start:
        return
    if read_start == start and read.shape == tensor.shape and read.stride() == tensor.stride():
        return  # the same elements: x.add_(x)
    if read.device != tensor.device or not _overlaps(tensor, start, read, read_start):
        return
    raise AliasingError(
        partly_overlapping_write(_torch_compat.op_name(func), name, tensor, read, position),
        function=_torch_compat.op_name(func),
        parameter=name,
        rule="sanitizer",
    )


def _overlaps(tensor: torch.Tensor, start: int, read: torch.Tensor, read_start: int) -> bool:
    """Whether two tensors whose address ranges meet share an element.

    Slices of one tensor (the usual case: ``b[:, 2:]`` and ``b[:, :-2]``) have the same strides,
    and then the question is whether the address difference is a sum of stride steps each within
    the axes' reach, a search of a few candidates per axis. Anything else goes to the general test.
    """
    strides = tensor.stride()
    itemsize = tensor.element_size()
    if read.stride() != strides or read.element_size() != itemsize or 0 in strides:
        return shares_memory(tensor, read)
    difference, remainder = divmod(read_start - start, itemsize)
    if remainder or any(stride < 0 for stride in strides):
        return shares_memory(tensor, read)
    # An element of `read` at index j lies at an element of `tensor` at index i when
    # sum((i - j) * stride) == difference, with 0 <= i < tensor's sizes and 0 <= j < read's.
    axes = sorted(
        zip(
            strides,
            (1 - size for size in read.shape),
            (size - 1 for size in tensor.shape),
            strict=True,
        ),
        reverse=True,
    )
    lows = [0] * (len(axes) + 1)
    highs = [0] * (len(axes) + 1)
    for index in range(len(axes) - 1, -1, -1):
        stride, low, high = axes[index]
        lows[index] = lows[index + 1] + low * stride
        highs[index] = highs[index + 1] + high * stride
    budget = [_OVERLAP_SEARCH_BUDGET]

    def reachable(axis: int, rest: int) -> bool | None:
        if axis == len(axes):
            return rest == 0
        stride, low, high = axes[axis]
        first = max(low, -((highs[axis + 1] - rest) // stride))
        last = min(high, (rest - lows[axis + 1]) // stride)
        for step in range(first, last + 1):
            budget[0] -= 1
            if budget[0] < 0:
                return None  # too many candidates: leave it to the general test
            found = reachable(axis + 1, rest - step * stride)
            if found is None or found:
                return found
        return False

    found = reachable(0, difference)
    return shares_memory(tensor, read) if found is None else found


#: How many candidate steps the same-strides search tries before giving up on speed.
_OVERLAP_SEARCH_BUDGET: Final = 256


def elements_overlap(tensor: torch.Tensor) -> bool:
    """Whether two elements of a strided layout torch calls TOO_HARD share an address.

    Sorted by stride, a layout whose every stride steps past all the smaller axes' reach cannot
    overlap (transposes and slices of dense tensors); the rest are enumerated when small enough.
    """
    strides = tensor.stride()
    if len(strides) == 1:
        return False  # one axis overlaps only through a zero stride, which torch calls YES
    reach = 0
    for stride, size in sorted(zip(strides, tensor.shape, strict=True)):
        if size > 1:
            if stride <= reach:
                break
            reach += (size - 1) * stride
    else:
        return False
    axes = [(stride, size) for stride, size in zip(strides, tensor.shape, strict=True) if size > 1]
    count = tensor.numel()
    if count > MAX_ENUMERATED_ELEMENTS:
        return False  # undecided: let it through, as torch does
    offsets = np.zeros((), dtype=np.int64)
    for stride, size in axes:
        offsets = np.add.outer(offsets, np.arange(size, dtype=np.int64) * stride)
    return bool(np.unique(offsets).size < offsets.size)
