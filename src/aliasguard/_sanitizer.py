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
from ._wrappers import Owned, Shared

__all__ = ["Sanitizer", "sanitize"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: Innermost frames of a share() call site kept for the error message (aliasguard's own excluded).
STACK_LIMIT: Final = 6

#: Layouts torch calls TOO_HARD are enumerated exactly up to this many elements; past it they are
#: let through, as torch itself does.
MAX_ENUMERATED_ELEMENTS: Final = 1 << 16

_PACKAGE_DIRECTORY: Final = os.path.dirname(os.path.abspath(__file__)) + os.sep
_STRIDED: Final = torch.strided
_has_internal_overlap: Final = _torch_compat.has_internal_overlap
_OVERLAP_YES: Final = _torch_compat.INTERNAL_OVERLAP_YES

_Value = np.ndarray[Any, Any] | torch.Tensor
#: ``(filename, line, function)``, innermost last; source lines are read only to format an error.
_Frame = tuple[str, int, str]
_WrittenArguments = tuple[tuple[int, str, bool], ...]


# ----------------------------------------------------------------------------------------------
# The registry of live borrows


_BORROW_ORDER: Final = itertools.count()


@final
class _Borrow:
    """One live borrow: the bytes it covers, a weak reference to its value, where it was made."""

    __slots__ = ("description", "order", "reference", "stack", "start", "stop")

    def __init__(self, start: int, stop: int, description: str, stack: list[_Frame]) -> None:
        self.start = start
        self.stop = stop
        self.description = description
        self.stack = stack
        self.reference: weakref.ReferenceType[_Value] | None = None
        #: When it was made, relative to the other borrows: the newest one is the likelier culprit.
        self.order = next(_BORROW_ORDER)

    def value(self) -> _Value | None:
        return None if self.reference is None else self.reference()


@final
class _BorrowRegistry:
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
        self._borrows: list[_Borrow] = []
        # The longest live borrow's length: a borrow reaching into [start, stop) starts after
        # start - longest.
        self._longest = 0
        #: How many live borrows have each length: the longest is found again when it dies.
        self._lengths: collections.Counter[int] = collections.Counter()
        self._dead: collections.deque[_Borrow] = collections.deque()

    def __len__(self) -> int:
        return len(self._borrows)

    @property
    def live(self) -> list[_Borrow]:
        """The registry's own list (not a copy), for a lock-free emptiness test on the hot path."""
        return self._borrows

    def add(self, value: _Value, stack: list[_Frame]) -> None:
        extent = extent_of(value)
        if extent.start == extent.stop:
            return  # an empty value lends no bytes
        borrow = _Borrow(extent.start, extent.stop, _describe(value), stack)
        borrow.reference = weakref.ref(value, functools.partial(self._collected, borrow))
        with self._lock:
            self._purge()
            index = bisect.bisect_right(self._keys, (borrow.start, borrow.order))
            self._starts.insert(index, borrow.start)
            self._keys.insert(index, (borrow.start, borrow.order))
            self._borrows.insert(index, borrow)
            self._lengths[borrow.stop - borrow.start] += 1
            self._longest = max(self._longest, borrow.stop - borrow.start)

    def candidates(self, start: int, stop: int) -> list[_Borrow]:
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

    def everything(self) -> list[_Borrow]:
        with self._lock:
            if self._dead:
                self._purge()
            return list(self._borrows)

    def _collected(self, borrow: _Borrow, _reference: object) -> None:
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


_REGISTRY: Final = _BorrowRegistry()
_LIVE_BORROWS: Final = _REGISTRY.live


def _describe(value: _Value) -> str:
    if isinstance(value, np.ndarray):
        return f"a read-only {value.dtype} NumPy view of shape {value.shape}, of a tensor"
    return f"a {value.dtype} tensor of shape {tuple(value.shape)}"


def _call_site() -> list[_Frame]:
    """The stack of the share() call, innermost last, without aliasguard's own frames."""
    frame = inspect.currentframe()
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIRECTORY):
        frame = frame.f_back
    runners = _runner_directories()
    stack: list[_Frame] = []
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
    """The borrow hook: register each value share() lends while a sanitizer is active."""
    if type(wrapper) is Owned:
        return
    _REGISTRY.add(wrapper.value, _call_site())


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


def _written_arguments(func: _torch_compat.OpOverload[..., Any]) -> _WrittenArguments:
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
        elif isinstance(value, list | tuple):  # Tensor(a!)[]: the _foreach_*_ ops
            items = cast("Sequence[object]", value)
            for index, item in enumerate(items):
                if isinstance(item, torch.Tensor):
                    _check_written(func, f"{name}[{index}]", item)


def _check_written(
    func: _torch_compat.OpOverload[..., Any], name: str, tensor: torch.Tensor
) -> None:
    # The hot path of every write: a few attribute reads when no borrow is live.
    if tensor.is_nested:
        return  # share() never lends nested tensors, and they have no single extent to test
    if tensor.layout is not _STRIDED:  # sparse and friends: no overlap test, exact buffer compare
        if _LIVE_BORROWS:
            _raise_if_borrowed(func, name, tensor, _REGISTRY.everything())
        return
    overlap = _has_internal_overlap(tensor)
    if overlap and (overlap == _OVERLAP_YES or _elements_overlap(tensor)):
        raise AliasingError(
            _overlap_message(func, name, tensor),
            function=_torch_compat.op_name(func),
            parameter=name,
            rule="sanitizer",
        )
    if not _LIVE_BORROWS or not tensor.is_cpu:  # share() lends host memory only
        return
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
        candidates = _REGISTRY.candidates(start, stop)
        if candidates:
            _raise_if_borrowed(func, name, tensor, candidates)


def _raise_if_borrowed(
    func: _torch_compat.OpOverload[..., Any],
    name: str,
    tensor: torch.Tensor,
    candidates: list[_Borrow],
) -> None:
    hit: list[tuple[_Borrow, _Value]] = []
    for borrow in candidates:
        value = borrow.value()  # None once collected: its memory may be anyone's now
        if value is not None and shares_memory(tensor, value):
            hit.append((borrow, value))
    if hit:
        raise AliasingError(
            _borrow_message(func, name, _culprit(tensor, hit)),
            function=_torch_compat.op_name(func),
            parameter=name,
            rule="sanitizer",
        )


def _culprit(tensor: torch.Tensor, hit: list[tuple[_Borrow, _Value]]) -> _Borrow:
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


def _borrow_message(func: _torch_compat.OpOverload[..., Any], name: str, borrow: _Borrow) -> str:
    first = (
        f"{_torch_compat.op_name(func)} would write its argument '{name}' into memory borrowed by "
        f"share() ({borrow.description}), which is read-only by contract: own() a copy "
        "(aliasguard.own(x)) or write into a fresh tensor (the out-of-place op, or x.clone())."
    )
    frames = [traceback.FrameSummary(file, line, function) for file, line, function in borrow.stack]
    call_site = "".join(traceback.StackSummary.from_list(frames).format())
    return (
        f"{first}\nThe borrow was made by share() here (most recent call last):\n{call_site}\n"
        f"{BORROWED_WRITE_EXPLANATION}"
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
            set_borrow_hook(_on_borrow)
        _active_threads += 1


def _release_hook() -> None:
    global _active_threads  # noqa: PLW0603
    with _hook_lock:
        _active_threads -= 1
        if _active_threads == 0:
            set_borrow_hook(None)


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

    It holds no state: entering it twice (nesting, recursion through a decorated function) only
    counts depth on the current thread, and the outermost exit turns the checks off.
    """

    __slots__ = ()

    def __enter__(self) -> Sanitizer:
        _enter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        exc_traceback: types.TracebackType | None,
    ) -> None:
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
        return "aliasguard.sanitize()"


_SANITIZER: Final = Sanitizer()


@overload
def sanitize(function: Callable[_P, _R], /) -> Callable[_P, _R]: ...
@overload
def sanitize() -> Sanitizer: ...
def sanitize(function: Callable[_P, _R] | None = None, /) -> Callable[_P, _R] | Sanitizer:
    """Raise `AliasingError` when torch is about to write into memory lent out by `share`.

    Use it as ``with aliasguard.sanitize():``, or as a decorator (``@aliasguard.sanitize`` or
    ``@aliasguard.sanitize()``). While it is active on a thread, every torch op on that thread that
    would write

    - into memory borrowed by a `share` call made while a sanitizer was active (the in-place ops,
      ``out=``, ``copy_``, item assignment ``t[0] = 1``, writes through views such as
      ``t[1:].mul_(2)``, through ``t.data`` or ``t.detach()``, into the source tensor of a
      ``share(tensor)`` NumPy view, and batch norm's running statistics in training mode), or
    - into a tensor whose elements overlap each other (``expand()``, broadcast views, zero strides)

    raises before the write, so nothing is modified. The message's first line names the op, the
    written argument and the fix; the lines after it give the stack of the ``share()`` call that
    made the borrow, recorded only while a sanitizer is active (``share()`` stays fast otherwise).
    Reads are never flagged, nor are writes into memory that is not borrowed (`own` results are
    never borrows). A borrow stays live while the value it handed out (``share(x).value``, the
    wrapper itself may be dropped) or a view made from that value is alive.

    It cannot see:

    - ops on other threads: torch's dispatch modes are per thread (the registry of borrows is
      process-wide, so enter ``sanitize()`` on each thread that should be checked);
    - writes that never reach torch's dispatcher: NumPy writes into the memory (through
      ``np.asarray(t)`` or the source array itself), C extensions, ctypes or DLPack consumers
      writing through the raw pointer;
    - writes after the borrowed value was collected: an alias made with ``detach()``, ``.data``
      or a second ``torch.from_numpy`` does not keep the borrow alive on its own.

    For those, ``share(tensor)`` hands NumPy a view that cannot be made writable, and
    `aliasguard.checked` in its exhaustive mode compares snapshots of the borrowed memory.
    Overhead: a dict lookup per op that writes nothing; a few microseconds per write.

    Args:
        function: the function to decorate, when used as ``@sanitize`` without parentheses.

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
    if function is None:
        return _SANITIZER
    return _SANITIZER(function)
