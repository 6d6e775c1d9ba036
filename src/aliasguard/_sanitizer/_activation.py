"""Turning the checks on and off: `sanitize`, the `Sanitizer` it returns, and what entering it
installs.

The dispatch mode, like every torch mode, is per thread: each thread counts how deep it is in
sanitizers, and its outermost entry pushes the mode. The hooks that record borrows (``share()``,
``Shared()``) and the patched raw routes are process-wide: they are installed when the first
thread enters a sanitizer and removed when the last one leaves, so that code outside any
sanitizer pays one global lookup.
"""

from __future__ import annotations

import functools
import threading
import types
from collections.abc import Callable
from typing import Final, ParamSpec, TypeVar, final, overload

from .._convert import set_borrow_hook
from .._describing import body_runs_later, function_name
from .._numpy_locks import release_everything
from .._wrappers import set_wrapper_hook
from ._dispatch import SanitizerMode
from ._lenders import record_share, record_shared_wrapper
from ._owner_writes import explain_refused_write
from ._raw_aliases import enter_raw, exit_raw
from ._raw_routes import install, uninstall

_P = ParamSpec("_P")
_R = TypeVar("_R")


@final
class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.depth = 0
        self.mode: SanitizerMode | None = None


_THREAD: Final = _ThreadState()
_hook_lock: Final = threading.Lock()
#: Threads inside a sanitizer. `@checked`'s generated call paths read it on every call, as a
#: module attribute (a function call would cost them more than the rest of their checks).
active_threads = 0


def is_active() -> bool:
    """Whether a sanitizer is active on some thread (borrows are recorded process-wide then)."""
    return active_threads > 0


def _acquire_hook() -> None:
    global active_threads  # noqa: PLW0603  # process-wide count of threads inside sanitize()
    with _hook_lock:
        if active_threads == 0:
            set_borrow_hook(record_share)
            set_wrapper_hook(record_shared_wrapper)
            install()
        active_threads += 1


def _release_hook() -> None:
    global active_threads  # noqa: PLW0603
    with _hook_lock:
        active_threads -= 1
        if active_threads == 0:
            set_borrow_hook(None)
            set_wrapper_hook(None)
            uninstall()
            # Borrows outlive the sanitizer, but the owner's arrays are writable again outside it.
            release_everything()


def _enter() -> None:
    state = _THREAD
    if state.depth == 0:
        _acquire_hook()
        mode = SanitizerMode()
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
        raise RuntimeError("sanitize() was exited more often than entered on this thread.")
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
            exit_raw()
        _exit()

    def __call__(self, function: Callable[_P, _R], /) -> Callable[_P, _R]:
        """Run every call of ``function`` under this sanitizer."""
        if body_runs_later(function):
            raise TypeError(
                f"sanitize() cannot check {function_name(function)}: it is a "
                "coroutine or generator function, whose body runs after the call returns, outside "
                "the sanitizer. Use `with aliasguard.sanitize():` inside its body instead."
            )

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
