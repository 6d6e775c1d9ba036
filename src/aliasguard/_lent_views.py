"""Read-only views of NumPy arrays lent through ``Shared`` wrappers, made once per wrapper.

A ``Shared`` NumPy argument reaches the callee as a read-only view whose memory comes from a
read-only buffer export, so that the callee cannot set ``flags.writeable`` back. Making that export
costs more than the rest of a call's checks, and a wrapper passed call after call lends the same
array each time: the export (the *root*) and the ``Shared`` that lends it are kept per wrapper.

Safety of the cache:

- it is keyed by the wrapper, whose value never changes, and dies with it (a weak reference's
  callback drops the entry); the root holds the array (through the export), which the wrapper holds anyway, so the cache
  never keeps an array alive longer than its wrapper;
- the array's shape, strides and dtype can be reassigned in place, and so can the root's (the
  callee holds it): each call compares the root's with the array's;
- its data pointer can move only by ``ndarray.resize``, which NumPy refuses for an array that has a
  weak reference: the entry holds one for as long as it lives.
"""

from __future__ import annotations

import typing
import weakref
from typing import Any, Final

import numpy as np

from ._wrappers import Shared, make_shared

__all__ = ["ROOTS", "lend_read_only", "same_geometry"]

_Array = np.ndarray[Any, Any]


#: id(wrapper) -> (weak reference to the wrapper, weak reference to its array, the root, the lent
#: wrapper). A plain tuple: the generated call path reads it inline. The array's weak reference is
#: held so that NumPy refuses to resize (move) the array; the wrapper's drops the entry.
_Entry = tuple[weakref.ref[Shared[Any]], weakref.ref[_Array], _Array, Shared[Any]]

ROOTS: Final[dict[int, _Entry]] = {}


def _exported_root(array: _Array) -> _Array | None:
    """A read-only array over a read-only buffer export of ``array``; None where NumPy has none."""
    try:
        root = np.asarray(memoryview(typing.cast("Any", array)).toreadonly())
        return root if root.dtype == array.dtype else root.view(array.dtype)
    except (ValueError, TypeError, NotImplementedError):
        pass  # dtypes the buffer protocol lacks (ml_dtypes'): through same-size integers
    try:
        bits = array.view(f"u{array.itemsize}")
        return np.asarray(memoryview(typing.cast("Any", bits)).toreadonly()).view(array.dtype)
    except (ValueError, TypeError, NotImplementedError):
        return None


def _forget(key: int) -> typing.Callable[[object], None]:
    def forget(_: object) -> None:
        ROOTS.pop(key, None)

    return forget


def same_geometry(root: _Array, array: _Array) -> bool:
    """Whether ``root`` still views ``array`` as it is now (either can be reshaped in place)."""
    return root.shape == array.shape and root.strides == array.strides and root.dtype == array.dtype


def lend_read_only(wrapper: Shared[Any], array: _Array) -> Shared[Any] | None:
    """A ``Shared`` of a read-only view of ``array`` (``wrapper``'s value) that the callee cannot
    make writable; None when no such view can be made (the general path decides then).

    For a ``Shared`` (not an ``Owned``, which can be moved) the lent wrapper is kept in `ROOTS`
    and lent again while its view still matches the array.
    """
    key = id(wrapper)
    entry = ROOTS.get(key)
    if entry is not None and entry[0]() is wrapper and same_geometry(entry[2], array):
        return entry[3]
    root = _exported_root(array)
    if root is None or not same_geometry(root, array):
        return None
    lent = make_shared(root, None)
    if wrapper.__class__ is Shared:
        try:
            array_reference = weakref.ref(array)
        except TypeError:
            return lent  # no weak reference: nothing would stop a resize, so nothing is kept
        ROOTS[key] = (weakref.ref(wrapper, _forget(key)), array_reference, root, lent)
    return lent
