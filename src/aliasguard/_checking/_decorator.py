"""`@checked` itself: it refuses what it cannot check, compiles a `Checker`, and wraps the function
in the generated call path, or in the general one when the signature needs it."""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import sys
import types
import typing
from collections.abc import Callable
from typing import Any, Final, ParamSpec, TypeVar, overload

from .._describing import body_runs_later
from ._checker import Checker
from ._fast_path import compile_fast_call
from ._messages import deferred_body, not_a_function

#: The attribute `checked` sets on what it returns: the import hook and fuzz() read it to leave
#: (or unwrap) functions that are checked already.
CHECKED_MARK: Final = "__aliasguard_checked__"


def is_checked(function: object) -> bool:
    """Whether ``function`` is what `checked` returned."""
    return bool(getattr(function, CHECKED_MARK, False))


P = ParamSpec("P")
R = TypeVar("R")


@overload
def checked(function: Callable[P, R], /) -> Callable[P, R]: ...
@overload
def checked(*, exhaustive: bool = False) -> Callable[[Callable[P, R]], Callable[P, R]]: ...
def checked(
    function: Callable[P, R] | None = None, /, *, exhaustive: bool = False
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Enforce a function's `Shared`/`Owned` and jaxtyping annotations, and the aliasing contract.

    Each annotated argument and the return value are checked for wrapper kind (a `Shared` where an
    `Owned` is required is an error; an `Owned` lent as a `Shared` is fine), library type, dtype and
    shape, with one axis memo per call (jaxtyping's rules: named, fixed, ``_``, ``...``, ``*batch``,
    ``#`` broadcast, symbolic). Other annotations are checked by beartype. Then, at every call:

    - borrow: a ``Shared`` argument is not written during the call (torch in-place writes, ``out=``,
      writes through views, and NumPy writes, which meet a read-only view);
    - exclusivity: an ``Owned`` argument overlaps no other argument's memory;
    - freshness: an ``Owned`` return overlaps no argument except ``Owned`` ones moved in, and no
      earlier return of the function that is still alive;
    - move: an ``Owned`` passed to an ``Owned`` parameter is moved like a donated buffer: the callee
      gets a fresh handle and the caller's handle raises `AliasingError` on ``.value``.

    Violations raise `AnnotationError` (a ``TypeError``) or `AliasingError` naming the function,
    the parameter and the rule. ``ALIASGUARD_DISABLE=1`` in the environment makes the decorator
    return the function itself.

    Args:
        function: the function to check (``@checked``), or omitted (``@checked(exhaustive=True)``).
        exhaustive: also snapshot every ``Shared`` argument and compare it after the call, which
            catches writes the version counter cannot see (``.data``, a second ``torch.from_numpy``
            of the same memory, NumPy writes through another array). Costs a copy per argument.

    Examples:
        >>> import numpy as np, aliasguard
        >>> from jaxtyping import Float
        >>> from torch import Tensor
        >>> @aliasguard.checked
        ... def scale(x: aliasguard.Shared[Float[Tensor, "n"]]) -> aliasguard.Owned[Float[Tensor, "n"]]:
        ...     return aliasguard.Owned(x.value * 2)
        >>> scale(aliasguard.share(np.ones(3, dtype=np.float32))).value.tolist()
        [2.0, 2.0, 2.0]
    """

    def decorate(target: Callable[P, R]) -> Callable[P, R]:
        return _decorate(target, exhaustive=exhaustive)

    return decorate if function is None else decorate(function)


def _decorate(target: Callable[P, R], *, exhaustive: bool) -> Callable[P, R]:
    if _disabled():
        return target
    if isinstance(target, staticmethod | classmethod):
        # Check the function inside, and keep how the class binds it.
        method = typing.cast("Any", target)
        inner = _decorate(method.__func__, exhaustive=exhaustive)
        rebound = type(method)(inner)
        # One attribute dict for both: typing.no_type_check applied on top of the method
        # then marks the checked function, which reads it at every call.
        with contextlib.suppress(AttributeError, TypeError):
            rebound.__dict__ = inner.__dict__
        return typing.cast("Callable[P, R]", rebound)
    candidate: object = target  # inspected as an object, so checkers keep target's type
    if isinstance(candidate, type) or not (
        inspect.isfunction(candidate)
        or inspect.ismethod(candidate)
        or hasattr(candidate, "__wrapped__")
    ):
        raise TypeError(not_a_function(candidate))
    if body_runs_later(target):
        raise TypeError(deferred_body(target))
    checker = Checker(target, exhaustive=exhaustive, decorating_frame=_decorating_frame())
    # The common signatures get a call path generated for them; it hands anything unusual
    # to checker.call.
    checked_function = compile_fast_call(checker)
    if checked_function is None:
        checked_function = _general_function(checker)
    functools.update_wrapper(checked_function, target)
    # Marks the function, so the import hook never wraps it twice.
    setattr(checked_function, CHECKED_MARK, True)
    return typing.cast("Callable[P, R]", checked_function)


def _general_function(checker: Checker) -> Callable[..., Any]:
    call = checker.call
    function = checker.function

    def general_function(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # pytest opens the traceback at the caller's frame
        if general_function.__dict__.get("__no_type_check__"):
            return function(*args, **kwargs)  # typing.no_type_check applied on top
        return call(args, kwargs)

    return general_function


def _decorating_frame() -> types.FrameType | None:
    """The frame that applied ``@checked``: the first one outside this module."""
    frame: types.FrameType | None = sys._getframe(1)  # pyright: ignore[reportPrivateUsage]  # the only way to see the decorating scope
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    return frame


def _disabled() -> bool:
    return os.environ.get("ALIASGUARD_DISABLE", "") not in ("", "0")
