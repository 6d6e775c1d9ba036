"""The raw routes between NumPy and torch, seen while a sanitizer is active.

``torch.from_numpy``, ``Tensor.numpy()`` (and ``np.asarray(tensor)``, which calls it),
``torch.as_tensor``/``torch.asarray`` when they alias, and ``torch.from_dlpack``/
``np.from_dlpack`` are replaced by thin wrappers while any sanitizer is active, and put back
when the last one exits: with no sanitizer, nothing is patched and nothing costs more.

Each wrapper calls the original and then:

- **keeps a borrow a borrow** (under every sanitizer): a tensor made over a read-only array (the
  view a ``@checked`` call lends, an owner locked for a borrow) is registered as a borrow of that
  memory, and an array made over borrowed tensor memory is made read-only;
- **records a cross-library alias** (under ``sanitize(raw_routes=True)``, ``aliasguard run``): a
  torch write into memory that a live NumPy array still views is a finding (see
  `_raw_aliases`), and the NumPy side is made read-only while the tensor side is held
  elsewhere, so a NumPy write into memory a live tensor views is refused by NumPy.

Names bound before the patch (``from torch import from_numpy``) keep the original function.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import torch

from .._numpy_locks import is_locked
from .._torch_compat import quiet_read_only_warning, storage_has_other_tensors
from .._wrappers import is_ndarray
from ._raw_aliases import array_to_tensor, tensor_to_array
from ._storage_swaps import refuse_storage_swap

_lock: Final = threading.Lock()
_installed = 0
#: ``(owner, attribute, original)`` of each patch in place, to put back.
_PATCHES: list[tuple[object, str, Any]] = []
_torch: Any = torch  # the routes, typed loosely: torch's stubs leave them partly unannotated
_numpy: Any = np
#: torch's own ``Tensor.__array__`` code: ``np.asarray(t)`` reaches ``numpy()`` through it.
_ARRAY_CODE: Final = getattr(_torch.Tensor.__array__, "__code__", None)
#: References to a tensor inside the ``numpy()`` wrapper when the tensor is a temporary (nothing
#: outside the call holds it), measured once per installation, directly and through __array__.
_temporary_references = [0, 0]


def _numpy_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def numpy(self: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1)  # pyright: ignore[reportPrivateUsage]  # cheaper than inspect
        through_array = caller.f_code is _ARRAY_CODE
        del caller
        references = sys.getrefcount(self)
        # Before the call: the array it returns holds an alias of the storage.
        shared_storage = storage_has_other_tensors(self)
        array = original(self, *args, **kwargs)
        if _calibrating:
            _temporary_references[through_array] = references
            return array
        held = shared_storage or references > _temporary_references[through_array]
        route = "np.asarray(tensor)" if through_array else "Tensor.numpy()"
        tensor_to_array(self, array, route, held)
        return array

    return numpy


def _from_array_wrapper(original: Callable[..., Any], route: str) -> Callable[..., Any]:
    @functools.wraps(original)
    def from_array(data: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_ndarray(data):
            return original(data, *args, **kwargs)
        array = data
        before = sys.getrefcount(data)
        if array.flags.writeable or not is_locked(array):
            tensor = original(data, *args, **kwargs)
        else:
            # Read-only only because aliasguard locked it: torch's warning about read-only
            # arrays would blame the user for aliasguard's flag.
            with quiet_read_only_warning():
                tensor = original(data, *args, **kwargs)
        # What the new tensor holds of the array (one reference for from_numpy's deleter).
        held_by_tensor = sys.getrefcount(data) - before
        if isinstance(tensor, torch.Tensor):
            array_to_tensor(array, tensor, route, held_by_tensor)
        return tensor

    return from_array


def _numpy_from_dlpack_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def from_dlpack(data: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(data, *args, **kwargs)
        if isinstance(data, torch.Tensor) and is_ndarray(result):
            tensor_to_array(data, result, "np.from_dlpack()", held=True)
        return result

    return from_dlpack


_calibrating = False


def _storage_share_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    """Moving a storage into shared memory gives it new memory: refused while NumPy views the old."""

    @functools.wraps(original)
    def share(self: torch.UntypedStorage, *args: Any, **kwargs: Any) -> Any:
        if not self.is_shared():
            refuse_storage_swap("share_memory_()", self)
        return original(self, *args, **kwargs)

    return share


def _calibrate() -> None:
    """Measure a temporary tensor's references inside the wrapper, both ways of reaching it."""
    global _calibrating  # noqa: PLW0603  # read by the wrapper during these two calls only
    _calibrating = True
    try:
        torch.zeros(1).numpy()
        np.asarray(torch.zeros(1))
    finally:
        _calibrating = False


def _patch(owner: object, attribute: str, replacement: Any) -> None:
    namespace: dict[str, Any] = vars(owner)
    _PATCHES.append((owner, attribute, namespace.get(attribute)))
    setattr(owner, attribute, replacement)


def install() -> None:
    """Patch the raw routes (counted: the last `uninstall` puts them back)."""
    global _installed  # noqa: PLW0603  # process-wide: module attributes are process-wide
    with _lock:
        _installed += 1
        if _installed > 1:
            return
        for name in ("from_numpy", "as_tensor", "asarray", "from_dlpack"):
            _patch(torch, name, _from_array_wrapper(getattr(_torch, name), f"torch.{name}()"))
        _patch(np, "from_dlpack", _numpy_from_dlpack_wrapper(_numpy.from_dlpack))
        _patch(torch.Tensor, "numpy", _numpy_wrapper(_torch.Tensor.numpy))
        # Tensor.share_memory_() and the DataLoader's pickling of tensors for spawned workers
        # both end in one of these two.
        for name in ("_share_fd_cpu_", "_share_filename_cpu_"):
            _patch(
                torch.UntypedStorage,
                name,
                _storage_share_wrapper(getattr(_torch.UntypedStorage, name)),
            )
        _calibrate()


def uninstall() -> None:
    global _installed  # noqa: PLW0603
    with _lock:
        _installed -= 1
        if _installed > 0:
            return
        while _PATCHES:
            owner, attribute, original = _PATCHES.pop()
            if original is None:
                delattr(owner, attribute)  # it was inherited: uncover the base class's
            else:
                setattr(owner, attribute, original)


def is_installed() -> bool:
    return _installed > 0
