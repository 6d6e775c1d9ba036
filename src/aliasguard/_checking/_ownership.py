"""The rules of ``Owned``: a moved argument is exclusive, the move kills the caller's handle, and
an ``Owned`` return is fresh (it shares no memory with an argument or an earlier return)."""

from __future__ import annotations

import collections
import contextlib
import weakref
from collections.abc import Callable
from typing import Any

from .._describing import function_name
from .._errors import AliasingError
from .._memory import shares_memory
from .._wrappers import MOVED, make_owned, set_value
from ._borrows import memory_of
from ._messages import (
    not_exclusive,
    not_fresh,
    returned_again,
)
from ._slots import Slot

#: ``(slot, the caller's handle, the value moved out of it)`` for each ``Owned`` argument.
Move = tuple[Slot, Any, object]


def argument_memories(
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    positional_names: list[str],
    defaults: dict[str, object],
) -> list[tuple[str, object]]:
    """The memory of every argument, by name (``args[i]`` past the named parameters)."""
    names = positional_names
    everything = [
        (names[index] if index < len(names) else f"args[{index}]", memory_of(value))
        for index, value in enumerate(args)
    ] + [(name, memory_of(value)) for name, value in kwargs.items()]
    # Defaults are arguments too: a mutable default buffer returned as Owned is not fresh.
    passed = set(names[: len(args)]) | set(kwargs)
    everything += [
        (name, memory_of(value)) for name, value in defaults.items() if name not in passed
    ]
    return [(name, memory) for name, memory in everything if memory is not None]


def check_exclusive(
    function: Callable[..., Any], moves: list[Move], memories: list[tuple[str, object]]
) -> None:
    """No moved value overlaps another argument, or is passed twice."""
    for slot, _, inner in moves:
        overlapping = [
            name for name, other in memories if other is not inner and shares_memory(inner, other)
        ]
        duplicates = sum(1 for _, other in memories if other is inner)
        if overlapping or duplicates > 1:
            raise AliasingError(
                not_exclusive(function, slot.name, inner),
                function=function_name(function),
                parameter=slot.name,
                rule="exclusivity",
            )


def callee_arguments(  # noqa: PLR0917  # the call's arguments and what replaces them
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    moves: list[Move],
    replacements: list[tuple[Slot, object]],
    positional_names: list[str],
    defaults: dict[str, object],
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The arguments the callee gets: a fresh handle for each moved value, and ``replacements``.

    Every moved-from handle of the caller dies here.
    """
    new_args = list(args)
    new_kwargs = dict(kwargs)
    # Leaves of containers reach the callee in their rebuilt container (in replacements).
    changes = [
        (slot, make_owned(inner)) for slot, _, inner in moves if not slot.in_container
    ] + replacements
    for _, handle, _ in moves:
        set_value(handle, MOVED)  # the caller's handle dies: the callee now owns the memory
    for slot, new_value in sorted(changes, key=lambda change: change[0].position or 0):
        position = slot.position
        if position is not None and position < len(new_args):
            new_args[position] = new_value
        elif slot.positional_only and position is not None:
            # An omitted positional-only default: it can only be passed by position, so the
            # defaults before it are passed too.
            new_args.extend(defaults[name] for name in positional_names[len(new_args) : position])
            new_args.append(new_value)
        else:
            new_kwargs[slot.name] = new_value
    return tuple(new_args), new_kwargs


def check_not_from_arguments(
    function: Callable[..., Any],
    inner: object,
    memories: list[tuple[str, object]],
    moved_in: list[object],
    path: str,
) -> None:
    """An ``Owned`` return (or member of it, at ``path``) overlaps no argument not moved in."""
    for name, other in memories:
        if any(other is moved for moved in moved_in):
            continue
        if shares_memory(inner, other):
            raise AliasingError(
                not_fresh(function, inner, name, path),
                function=function_name(function),
                parameter=path,
                rule="freshness",
            )


class RecentReturns:
    """The last few ``Owned`` returns of one function (the wrapper and its value), to catch a
    buffer handed out as ``Owned`` twice (dm_control #34: observation buffers overwritten on the
    next step)."""

    __slots__ = ("returns",)

    def __init__(self) -> None:
        self.returns: collections.deque[tuple[weakref.ref[Any], weakref.ref[Any]]] = (
            collections.deque(maxlen=16)
        )

    def check_and_add(
        self,
        function: Callable[..., Any],
        returned: object,
        inner: object,
        moved_in: list[object],
        path: str,
    ) -> None:
        """An Owned return must not be memory an earlier, still-alive Owned return holds.

        Handing on the very wrapper an earlier call returned (a recursive call's result) is one
        handout, not two; a new wrapper around the same memory is the second.
        """
        recent = self.returns
        for entry in list(recent):  # a copy: other threads may change the deque
            wrapper_reference, value_reference = entry
            earlier = value_reference()
            if earlier is None:
                with contextlib.suppress(ValueError):  # another thread removed it first
                    recent.remove(entry)
            elif (
                wrapper_reference() is not returned
                and not any(earlier is moved for moved in moved_in)
                and shares_memory(inner, earlier)
            ):
                raise AliasingError(
                    returned_again(function, inner, path),
                    function=function_name(function),
                    parameter=path,
                    rule="freshness",
                )
        with contextlib.suppress(TypeError):  # values without weak references are not tracked
            recent.append((weakref.ref(returned), weakref.ref(inner)))
