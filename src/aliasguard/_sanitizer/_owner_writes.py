"""The owner's side of a borrow: NumPy refuses its writes, and aliasguard says which borrow.

While a borrow lives, the owner's NumPy arrays are read-only (the ledger takes their locks), so
the owner's own writes are refused by NumPy itself. NumPy's ``ValueError`` does not say why the
array is read-only: `explain_refused_write` adds a note naming the borrow and where it was made.
"""

from __future__ import annotations

import types
from typing import Any, cast

import numpy as np

from .._memory import shares_memory
from .._numpy_locks import Locks, is_read_only_refusal
from .._python_compat import add_note
from .._wrappers import is_ndarray
from ._ledger import LOCKING_REGISTRIES
from ._messages import NOTE_PREFIX, owner_write_refused


def explain_refused_write(error: BaseException | None) -> None:
    """Add a note naming the borrow to NumPy's refusal of a write into an array it locked.

    NumPy's ``ValueError`` does not say which array it refused: the read-only arrays that the
    frames between the handler and the error hold are matched against the locked ones.
    """
    if not isinstance(error, ValueError) or not is_read_only_refusal(error):
        return
    if any(note.startswith(NOTE_PREFIX) for note in getattr(error, "__notes__", ())):
        return
    everything = [entry for registry in LOCKING_REGISTRIES for entry in registry.everything()]
    locked = [borrow for borrow in everything if borrow.locks and borrow.locks.arrays]
    if not locked:
        return
    refused = _read_only_arrays_in(error.__traceback__)
    blamed = [
        borrow
        for borrow in locked
        if any(
            shares_memory(array, owner)
            for array in refused
            for owner in cast("Locks", borrow.locks).arrays
        )
    ]
    if not blamed and len(locked) == 1:
        blamed = locked  # the array was out of sight, but only one borrow holds arrays read-only
    if blamed:
        add_note(error, owner_write_refused(max(blamed, key=lambda borrow: borrow.order)))


def _read_only_arrays_in(trace: types.TracebackType | None) -> list[np.ndarray[Any, Any]]:
    """The read-only arrays the traceback's frames hold: locals, and attributes of locals
    (``self.buffer[:] = ...`` refuses an array no local names)."""
    arrays: list[np.ndarray[Any, Any]] = []
    while trace is not None:
        for local in trace.tb_frame.f_locals.values():
            members = [local]
            attributes = getattr(local, "__dict__", None)
            if isinstance(attributes, dict) and not isinstance(local, type):
                members += list(cast("dict[str, object]", attributes).values())
            for member in members:
                if is_ndarray(member) and not member.flags.writeable:
                    arrays.append(member)
        trace = trace.tb_next
    return arrays
