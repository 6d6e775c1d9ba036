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
import sys
from collections.abc import Callable
from typing import Final

import torch

__all__ = ["HUGE_PAGE_MIN_BYTES", "empty_host_tensor"]

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
    """
    tensor = torch.empty(shape, dtype=dtype)
    if tensor.nbytes >= HUGE_PAGE_MIN_BYTES:
        _ask_for_huge_pages(tensor.data_ptr(), tensor.nbytes)
    return tensor
