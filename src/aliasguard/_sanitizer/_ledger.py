"""The ledger of live borrows: what each one covers, who made it, and how long it lives.

Borrows are kept sorted by start address, so that a write finds the few it may touch by
bisection. The ledger is process-wide (a borrow made on one thread binds writes on every thread);
a borrow leaves it when the value it anchors on is collected, or, for a ``@checked`` loan, when
the call returns.
"""

from __future__ import annotations

import bisect
import collections
import functools
import itertools
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Final, final

import numpy as np
import torch

from .._describing import describe_lent
from .._memory import extent_of, shares_memory
from .._numpy_locks import Locks
from ._call_sites import Frame

#: What a borrow lends: an array or a tensor.
Value = np.ndarray[Any, Any] | torch.Tensor

_BORROW_ORDER: Final = itertools.count()


@final
class Borrow:
    """One live borrow: the bytes it covers, the value lent, who made it and where.

    It lives as long as its anchor: the value itself for ``share()`` (the wrapper may be
    dropped), the wrapper for ``Shared(...)``, the call for a ``@checked`` loan (ended by
    `end_loan`). The NumPy arrays made read-only for it are given back when it dies.
    """

    __slots__ = (
        "anchor",
        "description",
        "lender",
        "locks",
        "made_by",
        "order",
        "reference",
        "stack",
        "start",
        "stop",
        "strong",
        "viewer",
        "viewer_held",
    )

    def __init__(
        self, start: int, stop: int, description: str, stack: list[Frame], made_by: str
    ) -> None:
        self.start = start
        self.stop = stop
        self.description = description
        self.stack = stack
        #: What made the borrow, as the messages name it: ``share()``, ``Shared()``, ...
        self.made_by = made_by
        self.reference: weakref.ReferenceType[Value] | None = None
        #: A weak reference to what the borrow lives as long as, when that is not the value.
        self.anchor: weakref.ReferenceType[Any] | None = None
        #: The value, held for a loan that ends explicitly (values without weak references).
        self.strong: Value | None = None
        self.locks: Locks | None = None
        #: ``(function, parameter)`` of a ``@checked`` loan: its refusals name the call.
        self.lender: tuple[Callable[..., Any], str] | None = None
        #: For a raw cross-library alias: the NumPy side, and how many references to it the
        #: tensor side itself holds (see `aliasguard._sanitizer._raw_aliases`).
        self.viewer: weakref.ReferenceType[np.ndarray[Any, Any]] | None = None
        self.viewer_held = 0
        #: When it was made, relative to the other borrows: the newest one is the likelier culprit.
        self.order = next(_BORROW_ORDER)

    def value(self) -> Value | None:
        if self.strong is not None:
            return self.strong
        return None if self.reference is None else self.reference()


@final
class BorrowRegistry:
    """Live borrows sorted by start address, so a write finds its candidates by bisection.

    Weak-reference callbacks run wherever the garbage collector does, possibly while this thread
    holds the lock, so they only queue the dead borrow and purge when the lock is free; every
    lookup purges the queue first and skips values that died since.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._starts: list[int] = []
        #: ``(start, order)`` of each borrow, sorted: one exact position per borrow for purging.
        self._keys: list[tuple[int, int]] = []
        #: Sorted like ``_starts``. Read without the lock only to ask whether it is empty.
        self._borrows: list[Borrow] = []
        # The longest live borrow's length: a borrow reaching into [start, stop) starts after
        # start - longest.
        self._longest = 0
        #: How many live borrows have each length: the longest is found again when it dies.
        self._lengths: collections.Counter[int] = collections.Counter()
        self._dead: collections.deque[Borrow] = collections.deque()

    def __len__(self) -> int:
        return len(self._borrows)

    @property
    def live(self) -> list[Borrow]:
        """The registry's own list (not a copy), for a lock-free emptiness test on the hot path."""
        return self._borrows

    def add(
        self,
        value: Value,
        stack: list[Frame],
        *,
        made_by: str = "share()",
        anchor: object = None,
        owners: Sequence[np.ndarray[Any, Any]] = (),
        lender: tuple[Callable[..., Any], str] | None = None,
    ) -> Borrow | None:
        """Register a borrow of ``value``'s memory; lock ``owners`` (NumPy arrays) read-only.

        It lives as long as ``anchor`` (``value`` when ``None``), or until `remove` when the
        anchor is ``EXPLICIT``. Returns ``None`` for an empty value, which lends no bytes, and for
        a tensor with no single address range (nested, sparse, mkldnn layouts), whose writes the
        dispatch cannot place either.
        """
        if isinstance(value, torch.Tensor) and (value.layout != torch.strided or value.is_nested):
            return None
        extent = extent_of(value)
        if extent.start == extent.stop:
            return None
        borrow = Borrow(extent.start, extent.stop, describe_lent(value, made_by), stack, made_by)
        borrow.lender = lender
        if owners:
            borrow.locks = _lock_all(owners)
        dead = functools.partial(self._collected, borrow)
        if anchor is EXPLICIT:
            borrow.strong = value
        elif anchor is None:
            borrow.reference = weakref.ref(value, dead)
        else:
            borrow.reference = weakref.ref(value)
            borrow.anchor = weakref.ref(anchor, dead)
        with self._lock:
            self._purge()
            index = bisect.bisect_right(self._keys, (borrow.start, borrow.order))
            self._starts.insert(index, borrow.start)
            self._keys.insert(index, (borrow.start, borrow.order))
            self._borrows.insert(index, borrow)
            self._lengths[borrow.stop - borrow.start] += 1
            self._longest = max(self._longest, borrow.stop - borrow.start)
        return borrow

    def remove(self, borrow: Borrow) -> None:
        """End a borrow now (a ``@checked`` loan whose call returned)."""
        borrow.strong = None
        self._collected(borrow, None)

    def candidates(self, start: int, stop: int) -> list[Borrow]:
        """The borrows whose byte ranges meet ``[start, stop)``; the exact test is the caller's."""
        with self._lock:
            if self._dead:
                self._purge()
            starts = self._starts
            low = bisect.bisect_right(starts, start - self._longest)
            high = bisect.bisect_left(starts, stop, low)
            if low == high:
                return []
            nearby = self._borrows[low:high]
        return [borrow for borrow in nearby if borrow.stop > start]

    def everything(self) -> list[Borrow]:
        with self._lock:
            if self._dead:
                self._purge()
            return list(self._borrows)

    def _collected(self, borrow: Borrow, _reference: object) -> None:
        # The flags come back at once, not at the next purge: the owner may write right away.
        locks = borrow.locks
        if locks is not None:
            locks.release()
        self._dead.append(borrow)
        if self._lock.acquire(blocking=False):
            try:
                self._purge()
            finally:
                self._lock.release()

    def _purge(self) -> None:
        """Drop the queued dead borrows; the caller holds the lock."""
        lengths = self._lengths
        while self._dead:
            borrow = self._dead.popleft()
            # Borrows of one start are ordered by when they were made: bisect finds this one.
            index = bisect.bisect_left(self._keys, (borrow.start, borrow.order))
            if index < len(self._borrows) and self._borrows[index] is borrow:
                del self._starts[index], self._keys[index], self._borrows[index]
                length = borrow.stop - borrow.start
                lengths[length] -= 1
                if not lengths[length]:
                    del lengths[length]
        if self._longest not in lengths:
            # The bound shrinks with its last borrow, or one large borrow slows every later write.
            self._longest = max(lengths, default=0)


#: The anchor of a borrow that ends when `BorrowRegistry.remove` is called, not when collected.
EXPLICIT: Final = object()


def _lock_all(arrays: Sequence[np.ndarray[Any, Any]]) -> Locks:
    locks = Locks.take(arrays[0])
    for array in arrays[1:]:
        locks.extend(Locks.take(array))
    return locks


REGISTRY: Final = BorrowRegistry()
#: Every registry whose entries lock NumPy arrays, for the note on NumPy's refusal (the raw
#: aliases' registry joins when `aliasguard._sanitizer._raw_aliases` is imported).
LOCKING_REGISTRIES: Final = [REGISTRY]
#: The registry's own list of live borrows: the hot path's lock-free test for "none at all".
LIVE_BORROWS: Final = REGISTRY.live


def overlapping_borrows(value: Value) -> list[Borrow]:
    """The live borrows whose memory ``value`` shares."""
    extent = extent_of(value)
    if extent.start == extent.stop:
        return []
    found: list[Borrow] = []
    for borrow in REGISTRY.candidates(extent.start, extent.stop):
        lent = borrow.value()
        if lent is not None and shares_memory(value, lent):
            found.append(borrow)
    return found
