"""`Checker`: the general call path of `@checked`, for any signature it can compile.

Each call walks the function's slots once, binding axis sizes in one memo per call, and applies
the aliasing contract:

- borrow: a value passed to a ``Shared`` parameter is not written during the call (torch's version
  counter; NumPy values are handed over as read-only views; opt-in snapshots for the rest);
- exclusivity: an ``Owned`` argument overlaps no other argument;
- freshness: an ``Owned`` return overlaps no argument, except ``Owned`` arguments moved in, and
  no earlier return of the function that is still alive;
- move: an ``Owned`` passed to an ``Owned`` parameter is moved, and the caller's handle dies.

The generated call path (`_fast_path`) hands this class every call it does not cover, and every
call whose checks fail, so that the errors are raised here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, Final

import torch

from .._annotations import ARRAY, CONTAINER, OWNED, SHARED
from .._containers import ContainerMismatch, rebuild, walk
from .._describing import function_name
from .._errors import AliasingError, AnnotationError
from .._jaxtyping_compat import shape_memo_entry, shape_memo_stack, sizes_of_entry
from .._memory import shares_memory
from .._sanitizer import end_loan, is_active
from .._torch_compat import version_counter
from .._wrappers import MOVED, Owned, Shared, is_ndarray, is_tensor, make_owned
from ._axes import ARGUMENTS, axis_bindings, check_array
from ._borrows import (
    check_borrows_kept,
    explain_value_error,
    lend_to_sanitizer,
    lent_view,
    memory_of,
    take_snapshots,
)
from ._call_arguments import CallArguments
from ._messages import (
    annotation_mismatch,
    beartype_violation,
    container_mismatch,
    returned_twice,
    unresolvable_annotations,
    used_after_move,
    wrong_kind,
)
from ._ownership import (
    Move,
    RecentReturns,
    argument_memories,
    callee_arguments,
    check_exclusive,
    check_not_from_arguments,
)
from ._scopes import classes_of_receiver, enclosing_names
from ._signature import compile_signature, positional_names
from ._slots import NO_VALUE, Slot

_Tensor = torch.Tensor
_version = version_counter


#: What the argument pass collects for the call: the tensor borrows ``(slot, tensor, version)``,
#: the moves, the replaced arguments, the NumPy borrows and the memory of containers' leaves. A
#: plain tuple of lists, as every call makes one.
_Taken = tuple[
    list[tuple[Slot, torch.Tensor, int]],
    list[Move],
    list[tuple[Slot, object]],
    list[tuple[Slot, object]],
    list[tuple[str, object]],
]


class Checker:
    """The per-call logic for one decorated function."""

    __slots__ = (
        "call_arguments",
        "checked_defaults",
        "defaults",
        "exhaustive",
        "function",
        "local_names",
        "named",
        "needs_arguments",
        "needs_overlap",
        "parameters",
        "positional_names",
        "recent_returns",
        "return_slot",
        "slots",
        "var_keyword",
        "var_positional",
    )

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        exhaustive: bool,
        decorating_frame: types.FrameType | None = None,
    ) -> None:
        self.function = function
        self.exhaustive = exhaustive
        self.local_names: dict[str, Any] | None = None
        self.needs_arguments = False
        self.parameters = inspect.signature(function)  # read once: the compiler and calls share it
        self.positional_names = positional_names(self.parameters)
        self.recent_returns = RecentReturns()
        #: The arguments entry of the memos this checker pushes (see `_call_arguments`).
        self.call_arguments = CallArguments(_CALL_CODE, self.bind_arguments, owner=self)
        self.slots: tuple[Slot, ...] | None = None
        # A string annotation may name a class local to the scopes around the definition, which
        # shadows a module-level one of the same name, as in Python's own scoping; the names those
        # scopes hold now are kept. A name defined later (the method's own class) is tried again
        # at the first call.
        self.local_names = enclosing_names(function, decorating_frame)
        with contextlib.suppress(NameError):
            self._compile()

    def _compile(self) -> None:
        signature = compile_signature(self.function, self.parameters, self.local_names)
        self.return_slot = signature.return_slot
        self.defaults = signature.defaults
        self.checked_defaults = signature.checked_defaults
        self.var_positional = signature.var_positional
        self.var_keyword = signature.var_keyword
        self.named = signature.named
        self.needs_arguments = signature.needs_arguments
        self.needs_overlap = signature.needs_overlap
        self.slots = signature.slots  # last: a set slots attribute means compiled

    def _compiled_slots(self, args: tuple[Any, ...]) -> tuple[Slot, ...]:
        if self.slots is None:
            try:
                self._compile()
            except NameError as error:
                # A method of a local class naming its own class: the class exists now, and the
                # call's first argument is an instance of it (or it, for a classmethod).
                found = classes_of_receiver(self.function, args[0]) if args else {}
                if not found:
                    raise TypeError(unresolvable_annotations(self.function, error)) from None
                self.local_names = {**found, **(self.local_names or {})}
                try:
                    self._compile()
                except NameError as again:
                    raise TypeError(unresolvable_annotations(self.function, again)) from None
        assert self.slots is not None
        return self.slots

    def _with_variadic(
        self, slots: tuple[Slot, ...], nargs: int, kwargs: dict[str, Any]
    ) -> tuple[Slot, ...]:
        """The slots of this call: the named ones, then one per extra ``*args``/``**kwargs`` value."""
        extra: list[Slot] = []
        star = self.var_positional
        if star is not None and star.position is not None:
            extra += [
                dataclasses.replace(
                    star, name=f"{star.name}[{index - star.position}]", position=index
                )
                for index in range(star.position, nargs)
            ]
        double_star = self.var_keyword
        if double_star is not None:
            extra += [
                dataclasses.replace(double_star, name=name)
                for name in kwargs
                if name not in self.named
            ]
        return (*slots, *extra) if extra else slots

    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Check one call and make it, under this call's jaxtyping memo when jaxtyping is loaded.

        The memo is jaxtyping's own, so ``isinstance(x, Float[Tensor, "b"])`` in the body, and a
        beartype-checked function it calls, see the axis sizes this call bound (as under jaxtyped).
        """
        if self.slots is None:
            self._compiled_slots(args)
        stack = shape_memo_stack()
        memo: dict[str, Any] = {}
        if self.needs_arguments:
            memo[ARGUMENTS] = self.bind_arguments(args, kwargs)
        if stack is None:
            return self._call(args, kwargs, memo, None)
        stack.append((memo, {}, {}, memo.get(ARGUMENTS, self.call_arguments)))
        depth = len(stack)
        try:
            return self._call(args, kwargs, memo, stack)
        finally:
            del stack[depth - 1 :]  # ours, and whatever a failing body left above it

    def bind_arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's arguments by parameter name, defaults applied, for f-string axes."""
        try:
            bound = self.parameters.bind(*args, **kwargs)
        except TypeError:
            return {}  # the call itself is wrong: the function's own call reports that
        bound.apply_defaults()
        return dict(bound.arguments)

    def _call(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        memo: dict[str, Any],
        stack: list[Any] | None,
    ) -> Any:
        slots = self.slots if self.slots is not None else self._compiled_slots(args)
        if self.var_positional is not None or self.var_keyword is not None:
            slots = self._with_variadic(slots, len(args), kwargs)
        values: list[tuple[Slot, object]] = []
        taken: _Taken = ([], [], [], [], [])
        self._take_arguments(slots, args, kwargs, memo, values, taken)
        borrowed, moves, replacements, numpy_borrows, leaf_memories = taken
        arguments_memory: list[tuple[str, object]] = []
        if self.needs_overlap:
            arguments_memory = self.check_exclusivity(args, kwargs, moves, leaf_memories)
        snapshots = take_snapshots(values) if self.exhaustive else ()
        if moves or replacements:
            args, kwargs = callee_arguments(
                args, kwargs, moves, replacements, self.positional_names, self.defaults
            )
        loans = lend_to_sanitizer(self.function, borrowed, numpy_borrows) if is_active() else ()
        if stack is not None and any(key[:1] == "*" for key in memo):
            stack[-1] = shape_memo_entry(memo, stack[-1][3])  # jaxtyping keeps *name apart
        try:
            result = self.function(*args, **kwargs)
        except ValueError as error:
            explain_value_error(self.function, error, numpy_borrows, self._unheld(values))
            raise
        finally:
            for loan in loans:
                end_loan(loan)
        if borrowed or snapshots:
            check_borrows_kept(self.function, borrowed, snapshots)
        if self.return_slot is not None:
            if stack is not None:  # the body's isinstance checks may have bound more axes
                memo = sizes_of_entry(stack[-1])
            self.check_return(result, memo, values, arguments_memory=arguments_memory, moves=moves)
        return result

    def _unheld(self, values: list[tuple[Slot, object]]) -> list[object]:
        """The checked arguments that reach the callee gathered into ``*args`` or ``**kwargs``,
        or inside a container: no frame holds them as a local of its own."""
        named, positional = self.named, len(self.positional_names)
        return [
            value
            for slot, value in values
            if slot.in_container
            or (slot.position is None and slot.name not in named)
            or (slot.position is not None and slot.position >= positional)
        ]

    def passed_values(
        self, slots: tuple[Slot, ...], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> list[tuple[Slot, object]]:
        """Each slot with the value the call gives it, by position, by keyword, or as the default
        it lends (a default is lent to every call that omits it, so it is checked like a passed
        value); slots the call leaves out are skipped: the function's own call reports those."""
        passed: list[tuple[Slot, object]] = []
        nargs = len(args)
        for slot in slots:
            position = slot.position
            if position is not None and position < nargs:
                passed.append((slot, args[position]))
            elif slot.name in kwargs and not slot.positional_only:
                passed.append((slot, kwargs[slot.name]))
            else:
                value = self.checked_defaults.get(slot.name, NO_VALUE)
                if value is not NO_VALUE:
                    passed.append((slot, value))
        return passed

    def _take_arguments(  # noqa: PLR0917  # the argument pass's state, passed on
        self,
        slots: tuple[Slot, ...],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        memo: dict[str, Any],
        values: list[tuple[Slot, object]],
        taken: _Taken,
    ) -> None:
        """Check each argument against its slot (one pass, kept flat for speed), recording what
        the call takes in ``taken`` and each checked ``(slot, value)`` in ``values``."""
        borrowed, moves, replacements, numpy_borrows, _ = taken
        for slot, value in self.passed_values(slots, args, kwargs):
            values.append((slot, value))  # as each is checked: a failure shows the ones before it
            if value is None and slot.optional:
                continue
            kind = slot.kind
            if kind <= OWNED:  # SHARED or OWNED
                inner = self._unwrap(slot, value, memo, values, None)
                if kind == OWNED:
                    moves.append((slot, value, inner))
                elif type(inner) is _Tensor or is_tensor(inner):
                    borrowed.append((slot, inner, _version(inner)))
                elif is_ndarray(inner):
                    numpy_borrows.append((slot, inner))
                    replacements.append((slot, lent_view(inner)))
            elif kind == ARRAY:
                assert slot.spec is not None
                problem = check_array(slot.spec, value, memo)
                if problem is not None:
                    self._fail_annotation(slot, value, problem, values, None)
            elif kind == CONTAINER:
                self._take_container(slot, value, memo, values, taken)
            elif not _is_bearable(value, slot.hint):
                self._fail_type(slot.name, value, slot.hint)

    def _take_container(
        self,
        slot: Slot,
        value: object,
        memo: dict[str, Any],
        values: list[tuple[Slot, object]],
        taken: _Taken,
    ) -> None:
        """Apply the argument rules to each leaf of a container, as to a parameter of its own."""
        borrowed, moves, replacements, numpy_borrows, leaf_memories = taken
        replaced: dict[str, object] = {}
        for leaf, path, member in self._leaves(slot, value):
            named = dataclasses.replace(leaf, name=path)
            values.append((named, member))
            if member is None and leaf.optional:
                continue
            kind = leaf.kind
            if kind <= OWNED:
                inner = self._unwrap(named, member, memo, values, None)
                leaf_memories.append((path, inner))
                if kind == OWNED:
                    moves.append((named, member, inner))
                    replaced[path] = make_owned(inner)
                elif isinstance(inner, _Tensor):
                    borrowed.append((named, inner, _version(inner)))
                elif is_ndarray(inner):
                    numpy_borrows.append((named, inner))
                    replaced[path] = lent_view(inner)
            elif kind == ARRAY:
                assert leaf.spec is not None
                problem = check_array(leaf.spec, member, memo)
                if problem is not None:
                    self._fail_annotation(named, member, problem, values, None)
            elif not _is_bearable(member, leaf.hint):
                self._fail_type(path, member, leaf.hint)
        if replaced:
            replacements.append((slot, rebuild(slot.tree, value, slot.name, replaced)))

    def _leaves(self, slot: Slot, value: object) -> list[tuple[Slot, str, object]]:
        try:
            return list(walk(slot.tree, value, slot.name))
        except ContainerMismatch as mismatch:
            raise AnnotationError(
                container_mismatch(
                    self.function, mismatch.path, mismatch.value, mismatch.hint, mismatch.detail
                ),
                function=function_name(self.function),
                parameter=mismatch.path,
                rule="type",
            ) from None

    def _unwrap(
        self,
        slot: Slot,
        value: Any,
        memo: dict[str, Any],
        values: list[tuple[Slot, object]],
        moved: dict[str, object] | None,
    ) -> Any:
        cls: type[object] = type(
            typing.cast("object", value)
        )  # not value.__class__, which an object can claim to be anything
        if slot.kind == OWNED:
            if cls is not Owned:
                self._fail_kind(slot, value)
        elif cls is not Shared and cls is not Owned and not issubclass(cls, Shared):
            self._fail_kind(slot, value)
        inner = value._value
        if inner is MOVED:
            raise AliasingError(
                used_after_move(self.function, slot.name),
                function=function_name(self.function),
                parameter=slot.name,
                rule="move",
            )
        assert slot.spec is not None
        problem = check_array(slot.spec, inner, memo)
        if problem is not None:
            self._fail_annotation(slot, inner, problem, values, moved)
        return inner

    def _fail_annotation(
        self,
        slot: Slot,
        value: object,
        problem: tuple[str, str],
        values: list[tuple[Slot, object]],
        moved: dict[str, object] | None,
    ) -> typing.NoReturn:
        """Raise the mismatch; ``moved`` maps this call's moved parameters to their values."""
        checked = [(passed, _array_behind(passed, given, moved)) for passed, given in values[:-1]]
        raise AnnotationError(
            annotation_mismatch(self.function, slot, value, problem, axis_bindings(checked)),
            function=function_name(self.function),
            parameter=slot.name,
            rule=problem[0],
        )

    def _fail_kind(self, slot: Slot, value: object) -> typing.NoReturn:
        raise AnnotationError(
            wrong_kind(self.function, slot, value),
            function=function_name(self.function),
            parameter=slot.name,
            rule="kind",
        )

    def _fail_type(self, path: str, value: object, hint: object) -> typing.NoReturn:
        raise AnnotationError(
            beartype_violation(self.function, path, value, hint),
            function=function_name(self.function),
            parameter=path,
            rule="type",
        )

    def check_exclusivity(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        moves: list[Move],
        leaf_memories: list[tuple[str, object]],
    ) -> list[tuple[str, object]]:
        """No moved value overlaps another argument; returns every argument's memory by name."""
        memories = argument_memories(args, kwargs, self.positional_names, self.defaults)
        memories += leaf_memories  # the wrappers inside annotated containers
        check_exclusive(self.function, moves, memories)
        return memories

    def check_return(
        self,
        result: object,
        memo: dict[str, Any],
        values: list[tuple[Slot, object]],
        *,
        arguments_memory: list[tuple[str, object]],
        moves: list[Move],
    ) -> None:
        """The return rules: kind, library, dtype, shape, type and an Owned return's freshness."""
        slot = self.return_slot
        assert slot is not None
        if result is None and slot.optional:
            return
        values = [*values, (slot, result)]
        moved = {moved_slot.name: inner for moved_slot, _, inner in moves}
        if slot.kind in (SHARED, OWNED):
            inner = self._unwrap(slot, result, memo, values, moved)
            if slot.kind == OWNED:
                self.check_fresh(result, inner, arguments_memory, [gone for _, _, gone in moves])
        elif slot.kind == ARRAY:
            assert slot.spec is not None
            problem = check_array(slot.spec, result, memo)
            if problem is not None:
                self._fail_annotation(slot, result, problem, values, moved)
        elif slot.kind == CONTAINER:
            self._check_container_return(slot, result, memo, values, arguments_memory, moves)
        elif not _is_bearable(result, slot.hint):
            self._fail_type("return", result, slot.hint)

    def check_fresh(
        self,
        result: object,
        inner: object,
        arguments_memory: list[tuple[str, object]],
        moved_in: list[object],
    ) -> None:
        """An Owned return overlaps no argument but those moved in, and no earlier return."""
        check_not_from_arguments(self.function, inner, arguments_memory, moved_in, "return")
        self.recent_returns.check_and_add(self.function, result, inner, moved_in, "return")

    def _check_container_return(  # noqa: PLR0917  # the return check's own state, passed on
        self,
        slot: Slot,
        result: object,
        memo: dict[str, Any],
        values: list[tuple[Slot, object]],
        arguments_memory: list[tuple[str, object]],
        moves: list[Move],
    ) -> None:
        """The return rules, leaf by leaf: kind, library, dtype, shape and each Owned's freshness."""
        moved = {moved_slot.name: inner for moved_slot, _, inner in moves}
        moved_in = [inner for _, _, inner in moves]
        handed_out: list[tuple[str, object]] = []
        for leaf, path, member in self._leaves(slot, result):
            named = dataclasses.replace(leaf, name=path)
            values.append((named, member))
            if member is None and leaf.optional:
                continue
            if leaf.kind <= OWNED:
                inner = self._unwrap(named, member, memo, values, moved)
                if leaf.kind == OWNED:
                    check_not_from_arguments(self.function, inner, arguments_memory, moved_in, path)
                    for other_path, other in handed_out:
                        if shares_memory(inner, other):
                            raise AliasingError(
                                returned_twice(self.function, inner, path, other_path),
                                function=function_name(self.function),
                                parameter=path,
                                rule="freshness",
                            )
                    handed_out.append((path, inner))
                    self.recent_returns.check_and_add(self.function, member, inner, moved_in, path)
            elif leaf.kind == ARRAY:
                assert leaf.spec is not None
                problem = check_array(leaf.spec, member, memo)
                if problem is not None:
                    self._fail_annotation(named, member, problem, values, moved)
            elif not _is_bearable(member, leaf.hint):
                self._fail_type(path, member, leaf.hint)


def _array_behind(slot: Slot, value: object, moved: dict[str, object] | None) -> object | None:
    """The array a checked ``(slot, value)`` holds, for replaying its axis bindings."""
    if moved and slot.name in moved:
        return moved[slot.name]  # the caller's handle is dead; its value lives on
    return memory_of(value) if slot.kind in (SHARED, OWNED) else value


def _is_bearable(value: object, hint: object) -> bool:
    from beartype.door import is_bearable  # beartype loads when a plain hint is first checked

    return is_bearable(value, typing.cast("Any", hint))


#: The code of `Checker.call`: a frame running it holds the arguments of a general-path call.
_CALL_CODE: Final = Checker.call.__code__
