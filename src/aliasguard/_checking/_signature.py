"""A decorated function's signature, compiled into slots: its annotations read once, not per call.

Each annotated parameter becomes a `Slot` (its wrapper kind and compiled `ArraySpec`, or the
compiled tree of a container); ``*args`` and ``**kwargs`` annotations become one slot each, applied
to every extra argument at the call. Unannotated parameters and ``Any`` are not checked.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from typing import Any

from .._annotations import CONTAINER, OWNED, involves_contract, read, resolved_hints
from .._containers import compile_container
from .._jaxtyping_compat import BROADCAST_SYMBOLIC, SYMBOLIC, ArraySpec
from ._messages import owned_default, unresolvable_annotations
from ._slots import NO_VALUE, Slot


class Signature(typing.NamedTuple):
    slots: tuple[Slot, ...]
    return_slot: Slot | None
    #: Every parameter's default, for the exclusivity and freshness rules.
    defaults: dict[str, object]
    #: The defaults of annotated parameters, checked like passed values when the caller omits them.
    checked_defaults: dict[str, object]
    #: ``*args`` and ``**kwargs`` annotations, applied to each extra argument.
    var_positional: Slot | None
    var_keyword: Slot | None
    #: Keywords that name a parameter; any other keyword (a positional-only parameter's name too)
    #: lands in ``**kwargs``.
    named: frozenset[str]
    #: Some axis is an f-string (``"{dim}"``): each call's arguments are read by name.
    needs_arguments: bool
    #: Some slot holds an ``Owned`` value: each call checks arguments for overlaps.
    needs_overlap: bool


def positional_names(parameters: inspect.Signature) -> list[str]:
    """The names of the parameters a positional argument can fill, in order."""
    return [
        parameter.name
        for parameter in parameters.parameters.values()
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
    ]


def compile_signature(
    function: Callable[..., Any],
    parameters: inspect.Signature,
    local_names: dict[str, Any] | None,
) -> Signature:
    """The slots of ``function``, whose signature is ``parameters``.

    Raises NameError when an annotation names something not defined yet (it may be later), and
    TypeError for annotations no call could satisfy.
    """
    hints = _resolved_hints(function, local_names)
    slots: list[Slot] = []
    defaults: dict[str, object] = {}
    checked_defaults: dict[str, object] = {}
    var_positional = var_keyword = None
    position = 0
    for parameter in parameters.parameters.values():
        hint = hints.get(parameter.name, NO_VALUE)
        annotated = hint is not NO_VALUE and hint is not Any
        if parameter.kind == parameter.VAR_POSITIONAL:
            if annotated:  # each extra positional argument, numbered from its first position
                var_positional = _compile_hint(parameter.name, position, hint)
            continue
        if parameter.kind == parameter.VAR_KEYWORD:
            if annotated:
                var_keyword = _compile_hint(parameter.name, None, hint)
            continue
        index: int | None = None
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            index = position
            position += 1
        if parameter.default is not parameter.empty:
            defaults[parameter.name] = parameter.default
        if not annotated:
            continue
        slot = _compile_hint(parameter.name, index, hint)
        if parameter.kind == parameter.POSITIONAL_ONLY:
            slot = dataclasses.replace(slot, positional_only=True)
        slots.append(slot)
        if parameter.default is not parameter.empty and parameter.default is not None:
            if slot.kind == OWNED:
                raise TypeError(owned_default(function, parameter.name))
            checked_defaults[parameter.name] = parameter.default
    returned = hints.get("return", NO_VALUE)
    return_slot = (
        None if returned is NO_VALUE or returned is Any else _compile_hint("return", None, returned)
    )
    named = frozenset(
        parameter.name
        for parameter in parameters.parameters.values()
        if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
    )
    every = [*slots, *([] if return_slot is None else [return_slot])]
    return Signature(
        tuple(slots),
        return_slot,
        defaults,
        checked_defaults,
        var_positional,
        var_keyword,
        named,
        needs_arguments=any(_uses_arguments(slot.spec) for slot in every),
        needs_overlap=any(_holds_owned(slot) for slot in every),
    )


def _resolved_hints(
    function: Callable[..., Any], local_names: dict[str, Any] | None
) -> dict[str, Any]:
    """The function's annotations, evaluated; a NameError propagates (the name may come later)."""
    try:
        return resolved_hints(function, local_names)
    except NameError:
        raise
    except Exception as error:  # whatever evaluating the user's expression raised
        # ValueError: jaxtyping refusing a quoted annotation it cannot build ("*a *b"); KeyError,
        # ZeroDivisionError...: an expression that fails ("{'a': int}['b']").
        raise TypeError(unresolvable_annotations(function, error)) from None


def _compile_hint(name: str, position: int | None, hint: object) -> Slot:
    reading = read(hint)
    tree = None
    if reading.kind == CONTAINER:
        tree = compile_container(reading.payload, name, _compile_leaf, involves_contract)
    return Slot(name, position, reading.kind, reading.spec, hint, reading.optional, tree=tree)


def _compile_leaf(path: str, hint: object) -> Slot:
    return dataclasses.replace(_compile_hint(path, None, hint), in_container=True)


def _holds_owned(slot: Slot) -> bool:
    """Whether a slot is ``Owned`` or a container with an ``Owned`` leaf (overlap checks needed)."""
    if slot.kind == OWNED:
        return True
    if slot.kind != CONTAINER:
        return False
    pending: list[Any] = [slot.tree]
    while pending:
        tree = pending.pop()
        members = getattr(tree, "members", None)
        if members is None:
            if _holds_owned(tree.slot):
                return True
        else:
            pending.extend(members)
    return False


def _uses_arguments(spec: ArraySpec | None) -> bool:
    """Whether a spec has f-string axes (``"{dim}"``), which read the call's arguments."""
    if spec is None:
        return False
    if spec.members is not None:
        return any(_uses_arguments(member) for member in spec.members)
    dims = (spec.prefix or ()) + spec.suffix
    return any(
        kind in (SYMBOLIC, BROADCAST_SYMBOLIC) and "{" in str(argument) for kind, argument in dims
    )
