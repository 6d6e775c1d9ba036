"""Ops that give a tensor other memory while a NumPy array still views the old memory.

``set_``, ``resize_`` and moving a storage into shared memory (``share_memory_()``, the
DataLoader's pickling for spawned workers) leave a NumPy view made earlier reading bytes the
tensor no longer has, possibly freed (pytorch #51849). They are refused while such a view lives:
one made by share() of a tensor, or, while raw routes are recorded, by a raw route.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, cast

import torch

from .. import _torch_compat
from .._errors import AliasingError
from .._wrappers import is_ndarray
from ._ledger import LIVE_BORROWS, REGISTRY, Borrow
from ._messages import storage_moved_under_numpy_view

#: Ops that give a tensor other memory (or a new size in it): a NumPy array over the old memory
#: would go on reading bytes the tensor no longer has, possibly freed (pytorch #51849).
STORAGE_SWAP_OPS: Final = frozenset({"aten::set_", "aten::resize_", "aten::resize_as_"})

#: While raw routes are recorded: the raw alias whose NumPy side still views ``[start, stop)``.
_raw_viewer_finder: Callable[[int, int], Borrow | None] | None = None


def register_raw_viewer_finder(finder: Callable[[int, int], Borrow | None] | None) -> None:
    global _raw_viewer_finder  # noqa: PLW0603  # process-wide, like the raw routes themselves
    _raw_viewer_finder = finder


def check_storage_swap(func: _torch_compat.OpOverload[..., Any], args: Sequence[Any]) -> None:
    tensor = args[0] if args else None
    if not isinstance(tensor, torch.Tensor):
        return
    if _torch_compat.op_name(func).startswith("aten::resize"):
        target = args[1] if len(args) > 1 else None
        size = target.shape if isinstance(target, torch.Tensor) else target
        if size is not None and tuple(cast("Sequence[int]", size)) == tuple(tensor.shape):
            return  # the same shape: nothing moves
    refuse_storage_swap(_torch_compat.op_name(func), tensor)


def refuse_storage_swap(operation: str, tensor: torch.Tensor | torch.UntypedStorage) -> None:
    """Raise before ``operation`` gives ``tensor`` (or this storage) other memory while a live NumPy
    array views its current memory: share() of a tensor, or a raw route under raw routes."""
    finder = _raw_viewer_finder
    if not LIVE_BORROWS and finder is None:
        return
    try:
        storage = tensor.untyped_storage() if isinstance(tensor, torch.Tensor) else tensor
        if storage.device.type != "cpu":
            return  # NumPy views host memory only
        start = storage.data_ptr()
        stop = start + storage.nbytes()
    except (RuntimeError, NotImplementedError):
        return
    if start == stop:
        return
    viewer: Borrow | None = None
    for borrow in REGISTRY.candidates(start, stop):
        value = borrow.value()
        if is_ndarray(value) and value.size:
            viewer = borrow
            break
    if viewer is None and finder is not None:
        viewer = finder(start, stop)
    if viewer is None:
        return
    raise AliasingError(
        storage_moved_under_numpy_view(operation, viewer),
        function=operation,
        parameter="self",
        rule="sanitizer",
    )
