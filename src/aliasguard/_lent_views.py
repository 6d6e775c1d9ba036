"""Read-only views of NumPy arrays lent through ``Shared`` wrappers, made once per wrapper.

A ``Shared`` NumPy argument reaches the callee as a read-only view whose memory comes from a
read-only buffer export, so that the callee cannot set ``flags.writeable`` back. Making that export
costs more than the rest of a call's checks, and a wrapper passed call after call lends the same
array each time: the export (the *root*) and the ``Shared`` that lends it are kept on the wrapper.

Safety of what is kept:

- it lives in the wrapper's ``_lent`` slot, and the wrapper's value never changes: it dies with the
  wrapper, and the root holds the array (through the export), which the wrapper holds anyway, so
  it never keeps an array alive longer than its wrapper;
- the array's shape, strides and dtype can be reassigned in place, and so can the root's (the
  callee holds it): each call compares the root's with the array's;
- its data pointer can move only by ``ndarray.resize``, which NumPy refuses for an array that has a
  weak reference: the kept entry holds one.
"""

from __future__ import annotations

import typing
import weakref
from collections.abc import Callable
from typing import Any, Final

import numpy as np

from ._wrappers import Shared, make_shared

_Array = np.ndarray[Any, Any]

#: (the root, the lent wrapper, a weak reference to the array). A plain tuple: the generated call
#: path reads it inline. The weak reference is held so that NumPy refuses to resize (move) the array.
Kept = tuple[_Array, Shared[Any], weakref.ref[_Array]]

_set_kept: Final[Callable[[object, object], None]] = Shared.__dict__["_lent"].__set__


def kept_view(wrapper: Shared[Any]) -> Kept | None:
    """What is kept on ``wrapper`` for lending, or None."""
    try:
        return typing.cast("Kept", wrapper._lent)  # pyright: ignore[reportPrivateUsage]
    except AttributeError:
        return None


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


def read_only_view(array: _Array) -> _Array:
    """A view of ``array`` that cannot be made writable again: its memory is a read-only export.

    A subclass (a masked array, a memmap) keeps its class and what rides on it (the mask) in a
    plain read-only view instead, which its holder could make writable again: the buffer export
    would hand the callee a bare ndarray with another meaning. So does a dtype with no buffer
    export at all.
    """
    root = _exported_root(array) if type(array) is np.ndarray else None
    if root is not None:
        return root
    view = array.view()
    view.flags.writeable = False
    return view


def same_geometry(root: _Array, array: _Array) -> bool:
    """Whether ``root`` still views ``array`` as it is now (either can be reshaped in place)."""
    return root.shape == array.shape and root.strides == array.strides and root.dtype == array.dtype


def lend_read_only(wrapper: Shared[Any], array: _Array) -> Shared[Any] | None:
    """A ``Shared`` of a read-only view of ``array`` (``wrapper``'s value) that the callee cannot
    make writable; None when no such view can be made (the general path decides then).

    For a ``Shared`` (not an ``Owned``, which can be moved) the lent wrapper is kept on it and
    lent again while its view still matches the array.
    """
    if type(array) is not np.ndarray:
        return None  # a subclass keeps its class in the general path's view
    kept = kept_view(wrapper)
    if kept is not None and same_geometry(kept[0], array):
        return kept[1]
    root = _exported_root(array)
    if root is None or not same_geometry(root, array):
        return None
    lent = make_shared(root, None)
    if type(wrapper) is Shared:
        try:
            array_reference = weakref.ref(array)
        except TypeError:
            return lent  # no weak reference: nothing would stop a resize, so nothing is kept
        _set_kept(wrapper, (root, lent, array_reference))
    return lent
