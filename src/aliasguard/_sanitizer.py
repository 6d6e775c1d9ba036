"""`sanitize`: stop torch writes into memory lent out by `share`, before they happen.

A borrow made by `share` is read-only by contract, and torch cannot enforce it (torch has no
read-only tensors). While `sanitize` is active, a `TorchDispatchMode` looks at every aten op on
the thread: ops whose schema writes nothing cost one dict lookup; for the rest, each written
argument (``Tensor(a!)`` in the schema: the ``self`` of in-place ops, ``out=``) is checked against
the borrows that are alive and against itself (elements that overlap each other). A violation
raises `AliasingError` before the kernel runs, so nothing is modified.

Borrows are registered through `aliasguard._convert.set_borrow_hook`, installed while any
sanitizer is active in the process, so `share` pays one global lookup when none is. A borrow lives
as long as the value it handed out: ``share(a).value`` and the views that record it as their base.
The registry is process-wide; the dispatch mode, like every torch mode, is per thread.
"""

from __future__ import annotations

import bisect
import collections
import functools
import inspect
import itertools
import os
import sys
import threading
import traceback
import types
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, ParamSpec, TypeVar, cast, final, overload

import numpy as np
import torch

from . import _torch_compat
from ._convert import set_borrow_hook
from ._errors import AliasingError
from ._memory import extent_of, shares_memory
from ._numpy_locks import Locks, is_read_only_refusal, release_everything
from ._python_compat import add_note
from ._wrappers import Owned, Shared, is_ndarray, set_wrapper_hook

__all__ = ["Sanitizer", "sanitize"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: Innermost frames of a share() call site kept for the error message (aliasguard's own excluded).
STACK_LIMIT: Final = 6

#: Layouts torch calls TOO_HARD are enumerated exactly up to this many elements; past it they are
#: let through, as torch itself does.
MAX_ENUMERATED_ELEMENTS: Final = 1 << 16

_PACKAGE_DIRECTORY: Final = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: Frames a call site skips before the user's: aliasguard's own, and the torch and NumPy code
#: between a raw route and its caller (``np.asarray(t)`` reaches ``Tensor.numpy`` through both).
_LIBRARY_DIRECTORIES: Final = (
    _PACKAGE_DIRECTORY,
    os.path.dirname(os.path.abspath(torch.__file__)) + os.sep,
    os.path.dirname(os.path.abspath(np.__file__)) + os.sep,
)
_STRIDED: Final = torch.strided
_has_internal_overlap: Final = _torch_compat.has_internal_overlap
_OVERLAP_YES: Final = _torch_compat.INTERNAL_OVERLAP_YES

_Value = np.ndarray[Any, Any] | torch.Tensor
#: ``(filename, line, function)``, innermost last; source lines are read only to format an error.
Frame = tuple[str, int, str]
_WrittenArguments = tuple[tuple[int, str, bool], ...]


# ----------------------------------------------------------------------------------------------
# The registry of live borrows


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
        self.reference: weakref.ReferenceType[_Value] | None = None
        #: A weak reference to what the borrow lives as long as, when that is not the value.
        self.anchor: weakref.ReferenceType[Any] | None = None
        #: The value, held for a loan that ends explicitly (values without weak references).
        self.strong: _Value | None = None
        self.locks: Locks | None = None
        #: ``(function, parameter)`` of a ``@checked`` loan: its refusals name the call.
        self.lender: tuple[Callable[..., Any], str] | None = None
        #: For a raw cross-library alias: the NumPy side, and how many references to it the
        #: tensor side itself holds (see `aliasguard._aliases`).
        self.viewer: weakref.ReferenceType[np.ndarray[Any, Any]] | None = None
        self.viewer_held = 0
        #: When it was made, relative to the other borrows: the newest one is the likelier culprit.
        self.order = next(_BORROW_ORDER)

    def value(self) -> _Value | None:
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
        value: _Value,
        stack: list[Frame],
        *,
        made_by: str = "share()",
        anchor: object = None,
        owners: Sequence[np.ndarray[Any, Any]] = (),
        lender: tuple[Callable[..., Any], str] | None = None,
    ) -> Borrow | None:
        """Register a borrow of ``value``'s memory; lock ``owners`` (NumPy arrays) read-only.

        It lives as long as ``anchor`` (``value`` when ``None``), or until `remove` when the
        anchor is ``_EXPLICIT``. Returns ``None`` for an empty value, which lends no bytes.
        """
        extent = extent_of(value)
        if extent.start == extent.stop:
            return None
        borrow = Borrow(extent.start, extent.stop, _describe(value, made_by), stack, made_by)
        borrow.lender = lender
        if owners:
            borrow.locks = _lock_all(owners)
        dead = functools.partial(self._collected, borrow)
        if anchor is _EXPLICIT:
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
_EXPLICIT: Final = object()


def _lock_all(arrays: Sequence[np.ndarray[Any, Any]]) -> Locks:
    locks = Locks.take(arrays[0])
    for array in arrays[1:]:
        locks.extend(Locks.take(array))
    return locks


REGISTRY: Final = BorrowRegistry()
#: Every registry whose entries lock NumPy arrays, for the note on NumPy's refusal (the raw
#: aliases' registry joins when `aliasguard._aliases` is imported).
LOCKING_REGISTRIES: Final = [REGISTRY]
_REGISTRY: Final = REGISTRY  # the name the tests use
_LIVE_BORROWS: Final = REGISTRY.live


def describe_value(value: _Value) -> str:
    """A value's kind, dtype and shape, for messages."""
    return _describe(value, "")


def overlapping_borrows(value: _Value) -> list[Borrow]:
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


#: While raw routes are recorded: the raw alias whose NumPy side still views ``[start, stop)``.
_raw_viewer_finder: Callable[[int, int], Borrow | None] | None = None


def register_raw_viewer_finder(finder: Callable[[int, int], Borrow | None] | None) -> None:
    global _raw_viewer_finder  # noqa: PLW0603  # process-wide, like the raw routes themselves
    _raw_viewer_finder = finder


#: ``(check, live aliases)`` while raw routes are recorded: the dispatch mode hands it each write.
_alias_checker: tuple[Callable[[Any, str, torch.Tensor, int, int], None], list[Borrow]] | None = (
    None
)


def register_alias_checker(
    checker: Callable[[Any, str, torch.Tensor, int, int], None] | None,
    live: list[Borrow] | None = None,
) -> None:
    global _alias_checker  # noqa: PLW0603  # read on every write, so one global slot
    _alias_checker = None if checker is None or live is None else (checker, live)


def _describe(value: _Value, made_by: str) -> str:
    if isinstance(value, np.ndarray):
        if made_by == "share()":
            return f"a read-only {value.dtype} NumPy view of shape {value.shape}, of a tensor"
        return f"a {value.dtype} NumPy array of shape {value.shape}"
    return f"a {value.dtype} tensor of shape {tuple(value.shape)}"


def call_site() -> list[Frame]:
    """The stack of the caller (a share() call, a raw route, a write), innermost last, without
    aliasguard's, torch's and NumPy's frames before it."""
    frame = inspect.currentframe()
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIRECTORIES):
        frame = frame.f_back
    # Outer frames of aliasguard's own (`aliasguard run`) and of runpy call every program.
    runners = (*_runner_directories(), _PACKAGE_DIRECTORY, "<frozen runpy>")
    stack: list[Frame] = []
    while frame is not None and len(stack) < STACK_LIMIT:
        code = frame.f_code
        if not code.co_filename.startswith(runners):
            stack.append((code.co_filename, frame.f_lineno or 0, code.co_name))
        frame = frame.f_back
    stack.reverse()
    return stack


#: The test runners whose frames call every test: the user wants their own frames in the few a
#: message shows.
_RUNNERS: Final = ("_pytest", "pluggy", "unittest")


def _runner_directories() -> tuple[str, ...]:
    """The installed directories of the test runners imported in this process."""
    directories: list[str] = []
    for name in _RUNNERS:
        module = sys.modules.get(name)
        location = getattr(module, "__file__", None)
        if location is not None:
            directories.append(os.path.dirname(os.path.abspath(location)) + os.sep)
    return tuple(directories)


def _on_borrow(wrapper: Shared[Any]) -> None:
    """The borrow hook: register each value share() lends while a sanitizer is active.

    The source is the owner: a NumPy source (and its bases) is made read-only while the borrow
    lives, so the owner's writes are refused too.
    """
    if type(wrapper) is Owned:
        return
    source = wrapper.source
    owners = [source] if is_ndarray(source) else []
    REGISTRY.add(wrapper.value, call_site(), owners=owners)


def _on_shared_wrapper(wrapper: Shared[Any]) -> None:
    """The wrapper hook: ``Shared(value)`` lends ``value`` for as long as the wrapper lives.

    This is the producer's borrow (``return Shared(self.buffer)``): the producer may not write the
    buffer again while a consumer still holds the wrapper.
    """
    value: _Value = wrapper.value
    owners = [value] if is_ndarray(value) else []
    REGISTRY.add(value, call_site(), made_by="Shared()", anchor=wrapper, owners=owners)


# ----------------------------------------------------------------------------------------------
# The dispatch mode

#: Each op overload's written arguments, learned from its schema on first sight.
_WRITTEN_BY_OP: Final[dict[_torch_compat.OpOverload[..., Any], _WrittenArguments]] = {}


#: Ops that write arguments their schema does not mark: batch norm updates running_mean and
#: running_var in training mode, though ``native_batch_norm`` declares neither as written.
_BATCH_NORM_WRITES: Final[_WrittenArguments] = (
    (3, "running_mean", False),
    (4, "running_var", False),
)
_UNMARKED_WRITES: Final[dict[str, _WrittenArguments]] = {
    "aten::native_batch_norm": _BATCH_NORM_WRITES,
}
_BATCH_NORM_TRAINING_POSITION: Final = 5
#: The overloads seen so far whose unmarked writes happen only in training mode.
_STATS_UPDATING_OPS: Final[set[_torch_compat.OpOverload[..., Any]]] = set()


def _batch_norm_updates_stats(args: Sequence[Any], kwargs: Mapping[str, Any] | None) -> bool:
    if len(args) > _BATCH_NORM_TRAINING_POSITION:
        return bool(args[_BATCH_NORM_TRAINING_POSITION])
    return bool(kwargs and kwargs.get("training"))


#: Ops that give a tensor other memory (or a new size in it): a NumPy array over the old memory
#: would go on reading bytes the tensor no longer has, possibly freed (pytorch #51849).
_STORAGE_SWAP_OPS: Final = frozenset({"aten::set_", "aten::resize_", "aten::resize_as_"})
#: What `_written_arguments` returns for them: a marker `_check_writes` tells apart by identity,
#: so the hot path of ops that write nothing stays one dict lookup and one truth test.
_STORAGE_SWAP: Final[_WrittenArguments] = ((0, "self", False),)


def _written_arguments(func: _torch_compat.OpOverload[..., Any]) -> _WrittenArguments:
    if _torch_compat.op_name(func).split(".", 1)[0] in _STORAGE_SWAP_OPS:
        return _STORAGE_SWAP
    marked = _torch_compat.written_arguments(func)
    # Every overload (.default, .out) writes the same unmarked arguments.
    unmarked = _UNMARKED_WRITES.get(_torch_compat.op_name(func).split(".", 1)[0])
    if unmarked is None:
        return marked
    _STATS_UPDATING_OPS.add(func)
    return unmarked + marked


def _dispatch(
    mode: _SanitizerMode,
    func: _torch_compat.OpOverload[..., Any],
    types: Sequence[type],
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
) -> Any:
    written = _WRITTEN_BY_OP.get(func)
    if written is None:
        written = _WRITTEN_BY_OP[func] = _written_arguments(func)
    if written:
        _check_writes(func, written, args, kwargs)
    if kwargs:
        return func(*args, **kwargs)
    return func(*args)


#: Whether torch's frame evaluator already keeps torch.compile out of `_dispatch`.
_DISPATCH_NEVER_COMPILED: Final = _torch_compat.never_compiled(_dispatch)


class _SanitizerMode(_torch_compat.TorchDispatchMode):
    """Checks each write before torch performs it; lets everything else through untouched."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # torch's own way (a wrapper around __torch_dispatch__) imports torch._dynamo at the
        # first op, which made the first share() in sanitize() take 1.5 s; `never_compiled`
        # keeps torch.compile out without it.
        return not _DISPATCH_NEVER_COMPILED

    __torch_dispatch__ = _dispatch


def _check_writes(
    func: _torch_compat.OpOverload[..., Any],
    written: _WrittenArguments,
    args: Sequence[Any],
    kwargs: Mapping[str, Any] | None,
) -> None:
    if written is _STORAGE_SWAP:
        _check_storage_swap(func, args)
        return
    if func in _STATS_UPDATING_OPS and not _batch_norm_updates_stats(args, kwargs):
        # Eval mode only reads the running stats.
        written = tuple(entry for entry in written if entry not in _BATCH_NORM_WRITES)
    for position, name, keyword_only in written:
        if keyword_only or position >= len(args):
            value = None if kwargs is None else kwargs.get(name)
        else:
            value = args[position]
        if isinstance(value, torch.Tensor):
            _check_written(func, name, value)
            _check_read_overlap(func, name, value, written, args, kwargs, None)
        elif isinstance(value, list | tuple):  # Tensor(a!)[]: the _foreach_*_ ops
            items = cast("Sequence[object]", value)
            for index, item in enumerate(items):
                if isinstance(item, torch.Tensor):
                    _check_written(func, f"{name}[{index}]", item)
                    _check_read_overlap(
                        func, f"{name}[{index}]", item, written, args, kwargs, index
                    )


def _check_read_overlap(  # noqa: PLR0917  # the op's own arguments, passed on
    func: _torch_compat.OpOverload[..., Any],
    name: str,
    tensor: torch.Tensor,
    written: _WrittenArguments,
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
        _partial_overlap_message(func, name, tensor, read, position),
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


def _check_storage_swap(func: _torch_compat.OpOverload[..., Any], args: Sequence[Any]) -> None:
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
    if not _LIVE_BORROWS and finder is None:
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
        _storage_swap_message(operation, viewer),
        function=operation,
        parameter="self",
        rule="sanitizer",
    )


def _check_written(
    func: _torch_compat.OpOverload[..., Any], name: str, tensor: torch.Tensor
) -> None:
    # The hot path of every write: a few attribute reads when no borrow is live.
    if tensor.is_nested:
        return  # share() never lends nested tensors, and they have no single extent to test
    if tensor.layout is not _STRIDED:  # sparse and friends: no overlap test, exact buffer compare
        if _LIVE_BORROWS:
            _raise_if_borrowed(func, name, tensor, REGISTRY.everything())
        return
    overlap = _has_internal_overlap(tensor)
    if overlap and (overlap == _OVERLAP_YES or _elements_overlap(tensor)):
        raise AliasingError(
            _overlap_message(func, name, tensor),
            function=_torch_compat.op_name(func),
            parameter=name,
            rule="sanitizer",
        )
    aliases = _alias_checker
    if not (_LIVE_BORROWS or (aliases is not None and aliases[1])) or not tensor.is_cpu:
        return  # share() lends host memory only, and NumPy has no other
    if type(tensor) is not torch.Tensor and _torch_compat.is_fake(tensor):
        return  # shapes only: a fake write touches no memory
    try:
        start = tensor.data_ptr()
    except RuntimeError:  # tensors without storage (fake, functional) hold no bytes to compare
        return
    if tensor.is_contiguous():
        stop = start + tensor.nbytes
    else:
        extent = extent_of(tensor)
        start, stop = extent.start, extent.stop
    if start != stop:
        candidates = REGISTRY.candidates(start, stop)
        if candidates:
            _raise_if_borrowed(func, name, tensor, candidates)
        if aliases is not None and aliases[1]:
            aliases[0](func, name, tensor, start, stop)


def _raise_if_borrowed(
    func: _torch_compat.OpOverload[..., Any],
    name: str,
    tensor: torch.Tensor,
    candidates: list[Borrow],
) -> None:
    hit: list[tuple[Borrow, _Value]] = []
    for borrow in candidates:
        value = borrow.value()  # None once collected: its memory may be anyone's now
        if value is not None and shares_memory(tensor, value):
            hit.append((borrow, value))
    loans = [(borrow, value) for borrow, value in hit if borrow.lender is not None]
    if loans:
        loan, lent = max(loans, key=lambda pair: pair[0].order)
        assert loan.lender is not None
        function, parameter = loan.lender
        raise AliasingError(
            _borrow_would_be_written_message(
                function, parameter, lent, _torch_compat.op_name(func)
            ),
            function=_function_name(function),
            parameter=parameter,
            rule="borrow",
        )
    if hit:
        raise AliasingError(
            _borrow_message(func, name, _culprit(tensor, hit)),
            function=_torch_compat.op_name(func),
            parameter=name,
            rule="sanitizer",
        )


def _culprit(tensor: torch.Tensor, hit: list[tuple[Borrow, _Value]]) -> Borrow:
    """The borrow to blame when several cover the written memory (one buffer lent twice).

    The borrow the written tensor is, or is a view of, comes first; otherwise the newest one.
    """
    base = tensor._base
    for borrow, value in hit:
        if value is tensor or (base is not None and value is base):
            return borrow
    return max(hit, key=lambda pair: pair[0].order)[0]


def _elements_overlap(tensor: torch.Tensor) -> bool:
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


# ----------------------------------------------------------------------------------------------
# Messages

#: What a sanitizer error says after its first line when the write hit a borrow.
BORROWED_WRITE_EXPLANATION: Final = """\
A value from share() aliases its source's memory; writing through it changes the source too
(torchvision #680: an in-place Normalize re-normalized the cached dataset every epoch).

    t = aliasguard.share(array).value
    t.sub_(mean)                        # writes into `array`

    t = aliasguard.own(array).value     # a copy: writes stay in `t`
    t = aliasguard.share(array).value
    t = t.sub(mean)                     # out of place: a fresh tensor
"""


def _borrow_message(func: _torch_compat.OpOverload[..., Any], name: str, borrow: Borrow) -> str:
    first = (
        f"{_torch_compat.op_name(func)} would write its argument '{name}' into memory borrowed by "
        f"{borrow.made_by} ({borrow.description}), which is read-only by contract: own() a copy "
        "(aliasguard.own(x)) or write into a fresh tensor (the out-of-place op, or x.clone())."
    )
    frames = [traceback.FrameSummary(file, line, function) for file, line, function in borrow.stack]
    call_site = "".join(traceback.StackSummary.from_list(frames).format())
    return (
        f"{first}\nThe borrow was made by {borrow.made_by} here (most recent call last):\n"
        f"{call_site}\n"
        f"{BORROWED_WRITE_EXPLANATION}"
    )


def _partial_overlap_message(
    func: _torch_compat.OpOverload[..., Any],
    name: str,
    tensor: torch.Tensor,
    read: torch.Tensor,
    position: int,
) -> str:
    return (
        f"{_torch_compat.op_name(func)} would write its argument '{name}' (shape "
        f"{tuple(tensor.shape)}, strides {tensor.stride()}) while reading argument {position} "
        f"(shape {tuple(read.shape)}, strides {read.stride()}), which partly overlaps it: the "
        "result would depend on the order the kernel visits elements (CPU, CUDA and NumPy "
        "disagree). Read from a copy (x[:, 2:] = x[:, :-2].clone()), or write into a fresh tensor.\n"
        "  pytorch #144861: arr[:, 1:] = arr[:, :-1] gives a different answer on CPU and CUDA."
    )


def _storage_swap_message(operation: str, viewer: Borrow) -> str:
    frames = [traceback.FrameSummary(file, line, function) for file, line, function in viewer.stack]
    call_site = "".join(traceback.StackSummary.from_list(frames).format())
    return (
        f"{operation} would give a tensor other memory while a NumPy array made by "
        f"{viewer.made_by} ({viewer.description}) still views its current memory: the array "
        "would go on reading the old bytes, freed or no longer the tensor's. Call it before the "
        "NumPy view is made, or give NumPy a copy (aliasguard.own(t), t.numpy().copy()).\n"
        f"The NumPy view was made by {viewer.made_by} here (most recent call last):\n"
        f"{call_site}"
        "  pytorch #51849: DataLoader workers (spawn) move a tensor to shared memory, and the "
        "array made earlier with tensor.numpy() no longer sees it."
    )


def _overlap_message(
    func: _torch_compat.OpOverload[..., Any], name: str, tensor: torch.Tensor
) -> str:
    return (
        f"{_torch_compat.op_name(func)} would write its argument '{name}' into a tensor whose "
        f"elements overlap each other (shape {tuple(tensor.shape)}, strides {tensor.stride()}, as "
        "made by expand() or broadcasting): one memory location would receive several writes. "
        "Write into a fresh tensor instead (x.clone() first, or the out-of-place op)."
    )


def _borrow_would_be_written_message(
    function: Callable[..., Any], parameter: str, value: _Value, op: str
) -> str:
    """A write into a value a ``@checked`` call lent, refused: said as the call's borrow rule."""
    copy = "x.value.clone()" if isinstance(value, torch.Tensor) else "x.value.copy()"
    return (
        f"{_function_name(function)} would write into its Shared parameter {parameter!r} (borrow "
        f"rule): the in-place op {op} would change this {_lent_value(value)}, which the caller "
        f"only lent. Write into a copy ({copy}), or annotate the parameter Owned[...].\n"
        "  Nothing was modified: sanitize() refused the write before it happened."
    )


def _lent_value(value: _Value) -> str:
    """A lent value as @checked's messages show it (kind, dtype, shape and device)."""
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        try:
            shape = f"of shape {tuple(value.shape)}"
        except RuntimeError:  # a nested tensor of the strided layout has no single shape
            shape = f"(nested, {value.size(0)} tensors)"
        return f"{dtype} Tensor {shape} on {value.device}"
    return f"{value.dtype} ndarray of shape {value.shape}"


def _function_name(function: Callable[..., Any]) -> str:
    """A ``@checked`` function as its messages name it."""
    return f"{getattr(function, '__qualname__', repr(function))}()"


# ----------------------------------------------------------------------------------------------
# Loans of @checked calls, and the note on NumPy's refusals


def is_active() -> bool:
    """Whether a sanitizer is active on some thread (borrows are recorded process-wide then)."""
    return _active_threads > 0


def lend(
    value: _Value,
    function: Callable[..., Any],
    parameter: str,
    owners: Sequence[np.ndarray[Any, Any]],
) -> Borrow | None:
    """Record that a ``@checked`` call borrows ``value``; `end_loan` when the call returns.

    ``owners`` are the caller's arrays, locked read-only for the call. A torch write into a lent
    tensor is refused before it happens, with the error the call itself would report after it.
    """
    return REGISTRY.add(
        value,
        call_site(),
        made_by=f"@checked {_function_name(function)} (argument {parameter!r})",
        anchor=_EXPLICIT,
        owners=owners,
        lender=(function, parameter),
    )


def end_loan(borrow: Borrow) -> None:
    REGISTRY.remove(borrow)


#: How a note of aliasguard's starts, so one error is never explained twice.
_NOTE_PREFIX: Final = "aliasguard: "


def explain_refused_write(error: BaseException | None) -> None:
    """Add a note naming the borrow to NumPy's refusal of a write into an array it locked.

    NumPy's ``ValueError`` does not say which array it refused: the read-only arrays that the
    frames between the handler and the error hold are matched against the locked ones.
    """
    if not isinstance(error, ValueError) or not is_read_only_refusal(error):
        return
    if any(note.startswith(_NOTE_PREFIX) for note in getattr(error, "__notes__", ())):
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
        add_note(error, _refused_write_note(max(blamed, key=lambda borrow: borrow.order)))


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


def _refused_write_note(borrow: Borrow) -> str:
    frames = [traceback.FrameSummary(file, line, function) for file, line, function in borrow.stack]
    call_site = "".join(traceback.StackSummary.from_list(frames).format()).rstrip("\n")
    return (
        f"{_NOTE_PREFIX}NumPy refused this write because the memory is borrowed by "
        f"{borrow.made_by} ({borrow.description}), and aliasguard.sanitize() makes the owner's "
        "arrays read-only while a borrow lives: write into a copy (a.copy(), aliasguard.own(a)), "
        "or let the borrower drop its value (or own() it) before the owner writes.\n"
        f"The borrow was made here (most recent call last):\n{call_site}"
    )


# ----------------------------------------------------------------------------------------------
# sanitize()


@final
class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.depth = 0
        self.mode: _SanitizerMode | None = None


_THREAD: Final = _ThreadState()
_hook_lock: Final = threading.Lock()
_active_threads = 0


def _acquire_hook() -> None:
    global _active_threads  # noqa: PLW0603  # process-wide count of threads inside sanitize()
    with _hook_lock:
        if _active_threads == 0:
            from ._raw_routes import install  # it builds on this module

            set_borrow_hook(_on_borrow)
            set_wrapper_hook(_on_shared_wrapper)
            install()
        _active_threads += 1


def _release_hook() -> None:
    global _active_threads  # noqa: PLW0603
    with _hook_lock:
        _active_threads -= 1
        if _active_threads == 0:
            from ._raw_routes import uninstall

            set_borrow_hook(None)
            set_wrapper_hook(None)
            uninstall()
            # Borrows outlive the sanitizer, but the owner's arrays are writable again outside it.
            release_everything()


def _enter() -> None:
    state = _THREAD
    if state.depth == 0:
        _acquire_hook()
        mode = _SanitizerMode()
        try:
            mode.__enter__()
        except BaseException:
            _release_hook()
            raise
        state.mode = mode
    state.depth += 1


def _exit() -> None:
    state = _THREAD
    if state.depth == 0:
        msg = "sanitize() was exited more often than entered on this thread."
        raise RuntimeError(msg)
    state.depth -= 1
    if state.depth == 0:
        mode, state.mode = state.mode, None
        try:
            if mode is not None:
                mode.__exit__(None, None, None)
        finally:
            _release_hook()


@final
class Sanitizer:
    """What `sanitize` returns: a reusable, reentrant context manager and decorator.

    It holds no state but whether it records raw routes: entering it twice (nesting, recursion
    through a decorated function) only counts depth on the current thread, and the outermost exit
    turns the checks off.
    """

    __slots__ = ("raw_routes",)

    def __init__(self, *, raw_routes: bool = False) -> None:
        self.raw_routes = raw_routes

    def __enter__(self) -> Sanitizer:
        _enter()
        if self.raw_routes:
            from ._aliases import enter_raw  # it builds on this module

            enter_raw()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        exc_traceback: types.TracebackType | None,
    ) -> None:
        # Before _exit(): leaving the last sanitizer gives the locks back, and the note is
        # found through them.
        explain_refused_write(exc_value)
        if self.raw_routes:
            from ._aliases import exit_raw

            exit_raw()
        _exit()

    def __call__(self, function: Callable[_P, _R], /) -> Callable[_P, _R]:
        """Run every call of ``function`` under this sanitizer."""
        deferred = (
            inspect.iscoroutinefunction,
            inspect.isgeneratorfunction,
            inspect.isasyncgenfunction,
        )
        if any(runs_later(function) for runs_later in deferred):
            msg = (
                f"sanitize() cannot check {getattr(function, '__qualname__', function)}(): it is a "
                "coroutine or generator function, whose body runs after the call returns, outside "
                "the sanitizer. Use `with aliasguard.sanitize():` inside its body instead."
            )
            raise TypeError(msg)

        @functools.wraps(function)
        def sanitized(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            with self:
                return function(*args, **kwargs)

        return sanitized

    def __repr__(self) -> str:
        return (
            "aliasguard.sanitize(raw_routes=True)" if self.raw_routes else "aliasguard.sanitize()"
        )


_SANITIZER: Final = Sanitizer()
_RAW_SANITIZER: Final = Sanitizer(raw_routes=True)


@overload
def sanitize(function: Callable[_P, _R], /) -> Callable[_P, _R]: ...
@overload
def sanitize(*, raw_routes: bool = False) -> Sanitizer: ...
def sanitize(
    function: Callable[_P, _R] | None = None, /, *, raw_routes: bool = False
) -> Callable[_P, _R] | Sanitizer:
    """Raise `AliasingError` when torch is about to write into memory lent out by `share`.

    Use it as ``with aliasguard.sanitize():``, or as a decorator (``@aliasguard.sanitize`` or
    ``@aliasguard.sanitize()``). While it is active on a thread, every torch op on that thread that
    would write

    - into memory borrowed by a `share` call made while a sanitizer was active (the in-place ops,
      ``out=``, ``copy_``, item assignment ``t[0] = 1``, writes through views such as
      ``t[1:].mul_(2)``, through ``t.data`` or ``t.detach()``, into the source tensor of a
      ``share(tensor)`` NumPy view, and batch norm's running statistics in training mode), or
    - into a tensor whose elements overlap each other (``expand()``, broadcast views, zero strides)

    raises before the write, so nothing is modified. The owner's NumPy writes are refused too:
    while a borrow lives, the source array of ``share(array)`` and its ``.base`` chain (the array
    of ``Shared(array)``, the caller's array lent to a `checked` call) are read-only, and NumPy's
    ``ValueError`` gets a note naming the borrow as it leaves the sanitized block. The flags
    come back when the last borrow of an array ends or the last sanitizer exits. The message's first line names the op, the
    written argument and the fix; the lines after it give the stack of the ``share()`` call that
    made the borrow, recorded only while a sanitizer is active (``share()`` stays fast otherwise).
    Reads are never flagged, nor are writes into memory that is not borrowed (`own` results are
    never borrows). A borrow stays live while the value it handed out (``share(x).value``, the
    wrapper itself may be dropped) or a view made from that value is alive.

    It cannot see:

    - ops on other threads: torch's dispatch modes are per thread (the registry of borrows is
      process-wide, so enter ``sanitize()`` on each thread that should be checked);
    - writes that never reach torch's dispatcher or NumPy's flags: NumPy views made before the
      borrow, C extensions, ctypes, memoryviews or DLPack consumers writing through the raw
      pointer;
    - writes after the borrowed value was collected: an alias made with ``detach()``, ``.data``
      or a second ``torch.from_numpy`` does not keep the borrow alive on its own.

    For those, ``share(tensor)`` hands NumPy a view that cannot be made writable, and
    `aliasguard.checked` in its exhaustive mode compares snapshots of the borrowed memory.
    Overhead: a dict lookup per op that writes nothing; a few microseconds per write.

    With ``raw_routes=True`` it also sees code that never calls `share`: ``torch.from_numpy``,
    ``Tensor.numpy()``, ``np.asarray(tensor)``, ``torch.as_tensor``/``torch.asarray`` when they
    alias, and ``torch.from_dlpack``/``np.from_dlpack`` are recorded as cross-library aliases
    with their call site. A torch write into memory that a live NumPy array still views raises
    `AliasingError` naming both sites (``rule="cross-library"``); a NumPy write into memory that
    a live tensor held elsewhere views is refused by NumPy (the array is read-only meanwhile).
    ``aliasguard run script.py`` runs a whole program this way. Under every sanitizer, a tensor
    made by a raw route over read-only or borrowed memory stays a borrow.

    Args:
        function: the function to decorate, when used as ``@sanitize`` without parentheses.
        raw_routes: also record the raw routes between the libraries (see above).

    Returns:
        A context manager that is also a decorator, or, given ``function``, the decorated function.

    Raises:
        TypeError: as a decorator, on a generator or ``async`` function: its body runs after the
            call returns, outside the sanitizer.

    Examples:
        >>> import numpy as np, aliasguard
        >>> cache = np.ones(3, dtype=np.float32)
        >>> with aliasguard.sanitize():
        ...     t = aliasguard.share(cache).value
        ...     try:
        ...         t.sub_(0.5)
        ...     except aliasguard.AliasingError as error:
        ...         print(str(error).split(" ")[0])
        aten::sub_.Tensor
        >>> cache
        array([1., 1., 1.], dtype=float32)
    """
    sanitizer = _RAW_SANITIZER if raw_routes else _SANITIZER
    if function is None:
        return sanitizer
    return sanitizer(function)
