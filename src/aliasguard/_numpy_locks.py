"""Read-only flags as locks: NumPy refuses the owner's writes while its memory is borrowed.

NumPy has no hook on writes, but it has a flag that refuses them: ``writeable``. While a borrow of
an array's memory is alive, the array and every array of its ``.base`` chain that aliasguard can
reach are made read-only, so ``a[0] = 7`` raises NumPy's ``ValueError`` before it writes. Each
array carries a count of the locks held on it; the flag comes back when the last one is released.
Flags that were already off when the first lock came are never touched, so they stay off.

Views made from a locked array while it is locked are read-only too (NumPy copies the flag into
a new view), and they stay so after the release: NumPy gives no way to find them again.
"""

from __future__ import annotations

import contextlib
import re
import threading
import weakref
from typing import Any, Final, final

import numpy as np

_Array = np.ndarray[Any, Any]

#: NumPy's refusals of a write into a read-only array (item assignment, ufunc out=, sort, put,
#: shuffle, ...): only these are blamed on a borrow, never another ValueError that happens to say
#: "read-only".
READ_ONLY_ERROR: Final = re.compile(
    r"(?:\w+: )?(?:assignment destination|output array|sort array|partition array|array|"
    r"underlying array|array to be byte-swapped|WRITEBACKIFCOPY base) is read-only"
)


def is_read_only_refusal(error: BaseException) -> bool:
    """Whether ``error`` is NumPy refusing to write into a read-only array."""
    if not isinstance(error, ValueError):
        return False
    # NumPy's message is one line; on Python 3.10 aliasguard's note follows it in the message.
    first_line = str(error).split("\n", 1)[0]
    return READ_ONLY_ERROR.fullmatch(first_line) is not None


@final
class _Held:
    """The locks held on one array: how many, and a weak reference to tell a reused id apart."""

    __slots__ = ("count", "reference")

    def __init__(self, array: _Array) -> None:
        key = id(array)
        self.reference = weakref.ref(array, lambda _: _forget(key, self))
        self.count = 1


def _forget(key: int, entry: _Held) -> None:
    """A locked array was collected: its entry goes, or a later array with its id looks locked."""
    if _HELD.get(key) is entry:
        with _LOCK:
            if _HELD.get(key) is entry:
                del _HELD[key]


#: One entry per array whose flag aliasguard turned off, by ``id``.
_HELD: Final[dict[int, _Held]] = {}
_LOCK: Final = threading.RLock()


def _chain(array: _Array) -> list[_Array]:
    """``array`` and the arrays its ``.base`` chain reaches, the array first."""
    chain = [array]
    base: object = array.base
    while isinstance(base, np.ndarray):
        chain.append(base)
        base = base.base
    return chain


@final
class Locks:
    """The locks one borrow took: released once, by `release`, when the borrow ends.

    It holds its arrays weakly: the borrow's value keeps them alive, and a strong reference here
    would count as a holder where references are counted (`_sanitizer._raw_aliases`).
    """

    __slots__ = ("entries",)

    def __init__(self, entries: list[_Held]) -> None:
        #: The entries counted, compared by identity: after `release_everything` a new lock on the
        #: same array is a new entry, which this borrow's release must not count down.
        self.entries = entries

    @property
    def arrays(self) -> list[_Array]:
        arrays = [entry.reference() for entry in self.entries]
        return [array for array in arrays if array is not None]

    @classmethod
    def take(cls, array: _Array) -> Locks:
        """Make ``array`` and its bases read-only, counting one lock on each that was writable."""
        entries: list[_Held] = []
        with _LOCK:
            for member in _chain(array):
                held = _HELD.get(id(member))
                if held is not None and held.reference() is member:
                    held.count += 1
                elif member.flags.writeable:
                    member.flags.writeable = False
                    held = _HELD[id(member)] = _Held(member)
                else:
                    continue  # read-only before any borrow: it stays so
                entries.append(held)
        return cls(entries)

    def extend(self, other: Locks) -> None:
        self.entries += other.entries
        other.entries = []

    def release(self) -> None:
        """Give back this borrow's locks; an array whose last lock this was becomes writable."""
        entries, self.entries = self.entries, []
        with _LOCK:
            # Bases first: NumPy makes a view writable only while its base is.
            for entry in reversed(entries):
                member = entry.reference()
                if member is None or _HELD.get(id(member)) is not entry:
                    continue  # collected, or released by release_everything() since
                entry.count -= 1
                if entry.count == 0:
                    del _HELD[id(member)]
                    _restore(member)


def _restore(array: _Array) -> None:
    # When its base was made read-only by someone else meanwhile NumPy refuses, and the array
    # stays read-only like its base, which is what a fresh view of that base would be.
    with contextlib.suppress(ValueError):
        array.flags.writeable = True


def is_locked(array: _Array) -> bool:
    """Whether aliasguard holds a lock on ``array`` (not merely: whether it is read-only)."""
    with _LOCK:
        held = _HELD.get(id(array))
        return held is not None and held.reference() is array


def held_locks() -> list[_Array]:
    """The arrays aliasguard holds read-only now (for the error notes and the tests)."""
    with _LOCK:
        arrays = [held.reference() for held in _HELD.values()]
    return [array for array in arrays if array is not None]


def release_everything() -> None:
    """Restore every flag aliasguard turned off: the last sanitizer is exiting."""
    with _LOCK:
        entries = list(_HELD.values())
        _HELD.clear()
        arrays = [held.reference() for held in entries]
        # Bases before their views, whatever order the borrows were made in.
        alive = [array for array in arrays if array is not None]
        alive.sort(key=lambda array: len(_chain(array)))
        for array in alive:
            _restore(array)
