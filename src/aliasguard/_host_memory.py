"""Fresh host memory for `own()`'s tensors: torch's own allocation, backed by huge pages.

A tensor must own its storage through torch's allocator to be resizable: ``out=`` into a tensor of
the wrong size resizes it, and a ``torch.from_numpy`` tensor refuses the resize after torch has
already changed its shape, leaving a tensor that reads past its memory. torch's allocator does not
ask the kernel for transparent huge pages, so every 4 KiB page of a large new tensor faults on first
touch, which makes large copies several times slower than into NumPy's memory (NumPy asks for huge
pages). Asking for them here, before anything touches the memory, gives torch's memory the same
speed, and the tensor stays torch's own.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import os
import sys
from collections.abc import Callable
from typing import Final

import torch

from ._conversion_messages import own_out_of_memory

#: Smaller allocations gain nothing from huge pages (NumPy asks from 4 MiB up).
HUGE_PAGE_MIN_BYTES: Final = 1 << 22
_HUGE_PAGE: Final = 1 << 21
#: ``MADV_HUGEPAGE`` from Linux's ``<sys/mman.h>``.
_MADV_HUGEPAGE: Final = 14


def _load_madvise() -> Callable[[int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None  # huge pages by madvise are a Linux feature
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        madvise = libc.madvise
    except (OSError, AttributeError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    return madvise


_madvise: Final = _load_madvise()


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not POSIX, or not reported
        return None


_PHYSICAL_MEMORY: Final = _physical_memory()


def refuse_more_than_physical_memory(shape: tuple[int, ...], dtype: object, itemsize: int) -> None:
    """Raise `MemoryError` before allocating a copy larger than the machine's memory.

    Where the kernel overcommits, such an allocation succeeds and the copy into it is killed by
    the out-of-memory killer, the whole process with it; refusing first gives the same clear
    error on every machine.

    Raises:
        MemoryError: ``shape`` of ``itemsize``-byte elements does not fit in physical memory.
    """
    nbytes = math.prod(shape) * itemsize
    if _PHYSICAL_MEMORY is not None and nbytes > _PHYSICAL_MEMORY:
        raise MemoryError(own_out_of_memory(shape, dtype, nbytes, _PHYSICAL_MEMORY))


def _ask_for_huge_pages(address: int, nbytes: int) -> None:
    """Advise the kernel to back the whole 2 MiB pages inside ``[address, address + nbytes)``.

    Only advice: where the kernel has huge pages off, or refuses, the memory works as before.
    """
    start = (address + _HUGE_PAGE - 1) & ~(_HUGE_PAGE - 1)
    stop = (address + nbytes) & ~(_HUGE_PAGE - 1)
    if _madvise is not None and stop > start:
        _madvise(start, stop - start, _MADV_HUGEPAGE)


def empty_host_tensor(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """An uninitialised, C-contiguous CPU tensor in torch's own (resizable) memory.

    Large ones are advised onto huge pages before their first touch.

    Raises:
        MemoryError: the system refused the memory; the message says how much and what to do.
    """
    refuse_more_than_physical_memory(shape, dtype, dtype.itemsize)
    try:
        tensor = torch.empty(shape, dtype=dtype)
    except RuntimeError:  # with a valid shape and dtype, only the allocation can fail
        nbytes = math.prod(shape) * dtype.itemsize
        raise MemoryError(own_out_of_memory(shape, dtype, nbytes)) from None
    if tensor.nbytes >= HUGE_PAGE_MIN_BYTES:
        _ask_for_huge_pages(tensor.data_ptr(), tensor.nbytes)
    return tensor
