"""`@checked`: annotations of `Shared`/`Owned` and jaxtyping arrays, enforced at every call.

At decoration the signature is compiled into one `Slot` per annotated parameter (its wrapper kind
and a compiled `ArraySpec`); each call then walks the slots once, binding axis sizes in one memo per
call, and applies the aliasing contract:

- borrow: a value passed to a ``Shared`` parameter is not written during the call (torch's version
  counter; NumPy values are handed over as read-only views; opt-in snapshots for the rest);
- exclusivity: an ``Owned`` argument overlaps no other argument;
- freshness: an ``Owned`` return overlaps no argument, except ``Owned`` arguments moved in, and
  no earlier return of the function that is still alive;
- move: an ``Owned`` passed to an ``Owned`` parameter is moved, and the caller's handle dies.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import inspect
import os
import sys
import types
import typing
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, ParamSpec, TypeVar, overload

import numpy as np
import torch

from . import _checking_messages as messages, _torch_compat
from ._annotations import (
    ARRAY,
    CONTAINER,
    OWNED,
    SHARED,
    involves_contract,
    names_in_string_annotations,
    read,
    resolved_hints,
)
from ._containers import ContainerMismatch, compile_container, rebuild, walk
from ._errors import AliasingError, AnnotationError
from ._jaxtyping_compat import (
    ANONYMOUS,
    BROADCAST_FIXED,
    BROADCAST_NAMED,
    BROADCAST_SYMBOLIC,
    FIXED,
    NAMED,
    SYMBOLIC,
    ArraySpec,
    SymbolicAxisError,
    numpy_dtype_name,
    shape_memo_entry,
    shape_memo_stack,
    sizes_of_entry,
    symbolic_size,
)
from ._lent_views import read_only_view
from ._memory import shares_memory
from ._numpy_locks import is_read_only_refusal
from ._sanitizer import end_loan, explain_refused_write, is_active, lend
from ._wrappers import (
    MOVED,
    Owned,
    Shared,
    is_ndarray,
    make_owned,
    make_shared,
    set_value,
)

__all__ = ["checked"]

P = ParamSpec("P")
R = TypeVar("R")

#: The memo key under which a call's arguments wait for f-string axes ("{dim}"); never an axis name.
ARGUMENTS: Final = "{arguments}"
_NO_VALUE: Final = object()
_Tensor = torch.Tensor
_ndarray = np.ndarray
_version = _torch_compat.version_counter


@dataclass(frozen=True, slots=True)
class Slot:
    name: str
    position: int | None  # index among positional arguments; None for keyword-only
    kind: int
    spec: ArraySpec | None
    hint: object
    optional: bool  # the annotation admits None
    #: Positional-only: never read from keyword arguments (those belong to ``**kwargs``).
    positional_only: bool = False
    #: CONTAINER: the compiled tree of the container's members (see `_containers`).
    tree: Any = None
    #: A leaf inside a container: replaced by rebuilding its container, never by position.
    in_container: bool = False


# ----------------------------------------------------------------------------------------------
# Compiling annotations


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


def _compile_hint(name: str, position: int | None, hint: object) -> Slot:
    reading = read(hint)
    tree = None
    if reading.kind == CONTAINER:
        tree = compile_container(reading.payload, name, _compile_leaf, involves_contract)
    return Slot(name, position, reading.kind, reading.spec, hint, reading.optional, tree=tree)


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


def _resolved_hints(
    function: Callable[..., Any], local_names: dict[str, Any] | None
) -> dict[str, Any]:
    """The function's annotations, evaluated; a NameError propagates (the name may come later)."""
    try:
        return resolved_hints(function, local_names)
    except NameError:
        raise
    except (TypeError, ValueError, SyntaxError, AttributeError) as error:
        # ValueError: jaxtyping refusing a quoted annotation it cannot build ("*a *b").
        raise TypeError(messages.unresolvable_annotations_message(function, error)) from None


class _Signature(typing.NamedTuple):
    slots: tuple[Slot, ...]
    return_slot: Slot | None
    #: Every parameter's default, for the exclusivity and freshness rules.
    defaults: dict[str, object]
    #: The defaults of annotated parameters, checked like passed values when the caller omits them.
    checked_defaults: dict[str, object]
    #: ``*args`` and ``**kwargs`` annotations, applied to each extra argument.
    var_positional: Slot | None
    var_keyword: Slot | None
    named: frozenset[str]


def _compile_signature(
    function: Callable[..., Any], local_names: dict[str, Any] | None
) -> _Signature:
    hints = _resolved_hints(function, local_names)
    slots: list[Slot] = []
    defaults: dict[str, object] = {}
    checked_defaults: dict[str, object] = {}
    var_positional = var_keyword = None
    position = 0
    for parameter in inspect.signature(function).parameters.values():
        hint = hints.get(parameter.name, _NO_VALUE)
        annotated = hint is not _NO_VALUE and hint is not Any
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
                raise TypeError(messages.owned_default_message(function, parameter.name))
            checked_defaults[parameter.name] = parameter.default
    returned = hints.get("return", _NO_VALUE)
    return_slot = (
        None
        if returned is _NO_VALUE or returned is Any
        else _compile_hint("return", None, returned)
    )
    # Keywords that name a parameter; any other keyword (a positional-only parameter's name too)
    # lands in **kwargs.
    named = frozenset(
        parameter.name
        for parameter in inspect.signature(function).parameters.values()
        if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
    )
    return _Signature(
        tuple(slots), return_slot, defaults, checked_defaults, var_positional, var_keyword, named
    )


# ----------------------------------------------------------------------------------------------
# Per-call checks


def _match_dims(
    dims: tuple[tuple[int, Any], ...], sizes: tuple[int, ...], memo: dict[str, Any]
) -> str | None:
    # The caller has checked the lengths match; strict=True would cost time on every call.
    for (kind, argument), size in zip(dims, sizes, strict=False):
        if kind == NAMED:
            bound = memo.setdefault(argument, size)
            if bound != size:
                return f"axis {argument} is {size} here but {bound} elsewhere"
        elif kind == FIXED:
            if size != argument:
                return f"an axis is {size} where the annotation fixes {argument}"
        elif kind == ANONYMOUS:
            continue
        elif kind == BROADCAST_NAMED:
            if size != 1:
                bound = memo.setdefault(argument, size)
                if bound != size:
                    return (
                        f"axis {argument} is {size} here but {bound} elsewhere (1 would broadcast)"
                    )
        elif kind == BROADCAST_FIXED:
            if size not in (1, argument):
                return f"an axis is {size} where the annotation allows 1 or {argument}"
        elif kind == SYMBOLIC or size != 1:  # "n+1"; "#n+1" is also met by a size of 1
            names = {key: value for key, value in memo.items() if isinstance(value, int)}
            try:
                expected = symbolic_size(argument, names, memo.get(ARGUMENTS))
            except SymbolicAxisError as error:
                return str(error)
            if size != expected:
                return f"axis {argument} is {size} here but evaluates to {expected}"
    return None


def _match_shape(spec: ArraySpec, shape: tuple[int, ...], memo: dict[str, Any]) -> str | None:
    prefix = spec.prefix
    assert prefix is not None
    variadic = spec.variadic
    if variadic is None:
        if len(shape) != len(prefix):
            return f"rank {len(shape)} where the annotation has {_axes(len(prefix))}"
        return _match_dims(prefix, shape, memo)
    suffix = spec.suffix
    fixed_count = len(prefix) + len(suffix)
    if len(shape) < fixed_count:
        return f"rank {len(shape)} where the annotation needs at least {_axes(fixed_count)}"
    middle = shape[len(prefix) : len(shape) - len(suffix)]
    problem = _match_dims(prefix, shape[: len(prefix)], memo) or _match_dims(
        suffix, shape[len(shape) - len(suffix) :], memo
    )
    if problem is not None or variadic.name is None:
        return problem
    return _match_variadic(variadic.name, variadic.broadcastable, tuple(middle), memo)


def _axes(count: int) -> str:
    return "1 axis" if count == 1 else f"{count} axes"


def _match_variadic(
    name: str, broadcastable: bool, shape: tuple[int, ...], memo: dict[str, Any]
) -> str | None:
    """jaxtyping's rule for ``*name`` (equal shapes) and ``*#name`` (broadcast-compatible)."""
    key = "*" + name
    previous = memo.get(key)
    if previous is None:
        memo[key] = (broadcastable, shape)
        return None
    previous_broadcastable, previous_shape = previous
    if not previous_broadcastable and not broadcastable:
        if shape == previous_shape:
            return None
        return f"axes *{name} are {shape} here but {previous_shape} elsewhere"
    try:
        broadcast = tuple(np.broadcast_shapes(shape, previous_shape))
    except ValueError:
        return f"axes *{name} are {shape} here, which cannot broadcast with {previous_shape}"
    if previous_broadcastable:
        if not broadcastable and broadcast != shape:
            return f"axes *{name} are {shape} here, which {previous_shape} cannot broadcast to"
        memo[key] = (broadcastable, broadcast)
    elif broadcast != previous_shape:
        return f"axes *{name} are {shape} here, which cannot broadcast to {previous_shape}"
    return None


def _check_array(spec: ArraySpec, value: Any, memo: dict[str, Any]) -> tuple[str, str] | None:
    """``(rule, detail)`` when ``value`` breaks ``spec``; ``None`` when it matches."""
    if spec.members is not None:
        return _check_union(spec.members, value, memo)
    if not isinstance(value, spec.array_class):
        return "library", f"got {type(value).__name__}"
    if value.__class__ is _Tensor or isinstance(value, _Tensor):
        dtype = value.dtype
        if spec.torch_dtypes is not None and dtype not in spec.torch_dtypes:
            return "dtype", f"got {dtype}"
        if spec.prefix is None:
            return None
        try:
            shape: tuple[int, ...] = value.shape  # torch.Size is a tuple
        except RuntimeError:  # a nested tensor of the strided layout has no single shape
            return "shape", "a nested tensor with the strided layout has no shape to check"
    elif is_ndarray(value):
        names = spec.numpy_dtype_names
        if names is not None and numpy_dtype_name(value.dtype) not in names:
            return "dtype", f"got {value.dtype}"
        shape = value.shape
    else:
        return None
    if spec.prefix is None:
        return None
    problem = _match_shape(spec, shape, memo)
    return None if problem is None else ("shape", problem)


def _check_union(
    members: tuple[ArraySpec, ...], value: Any, memo: dict[str, Any]
) -> tuple[str, str] | None:
    """A union payload: the first member ``value`` matches binds its axes, as under jaxtyping.

    When none matches, the failure reported is that of the first member of the value's own
    library (a dtype or shape problem says more than "not that library").
    """
    reported: tuple[str, str] | None = None
    for member in members:
        trial = dict(memo)
        problem = _check_array(member, value, trial)
        if problem is None:
            memo.update(trial)
            return None
        if reported is None or (reported[0] == "library" and problem[0] != "library"):
            reported = problem
    return reported


def _memory_of(value: object) -> object | None:
    """The array or tensor behind an argument, for overlap checks; None for everything else."""
    if isinstance(value, Shared):
        inner = typing.cast("Any", value)._value
        return None if inner is MOVED else inner
    if isinstance(value, np.ndarray | torch.Tensor):
        return typing.cast("object", value)
    return None


def _same_bits(before: Any, after: Any) -> bool:
    """Bitwise equality (NaN payloads and -0.0 included) of a snapshot and the live value."""
    if isinstance(before, torch.Tensor) and isinstance(after, torch.Tensor):
        if after.numel() == 0:
            return True  # no element to write
        with warnings.catch_warnings():  # complex32 copies warn; they are ours, not the user's
            warnings.filterwarnings("ignore", "ComplexHalf support is experimental", UserWarning)
            return bool(torch.equal(_bytes_of(before), _bytes_of(after)))
    if is_ndarray(before) and is_ndarray(after):
        return np.ascontiguousarray(before).tobytes() == np.ascontiguousarray(after).tobytes()
    return True


def _bytes_of(tensor: torch.Tensor) -> torch.Tensor:
    # Into fresh standard strides first: contiguous() keeps any stride on a length-1 axis, and
    # viewing as bytes needs a unit last stride.
    flat = torch.empty(tensor.numel(), dtype=tensor.dtype, device=tensor.device)
    flat.copy_(tensor.reshape(-1))
    return flat.view(torch.uint8)


def _snapshot(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        with warnings.catch_warnings():  # a complex32 clone warns; the copy is ours, not the user's
            warnings.filterwarnings("ignore", "ComplexHalf support is experimental", UserWarning)
            return value.detach().clone()
    return value.copy()


class _Taken(typing.NamedTuple):
    """What the argument pass collects for the call: borrows, moves and replacements."""

    borrowed: list[tuple[Slot, torch.Tensor, int]]
    moves: list[tuple[Slot, Any, object]]
    replacements: list[tuple[Slot, object]]
    numpy_borrows: list[tuple[Slot, object]]
    leaf_memories: list[tuple[str, object]]


class _Checker:
    """The per-call logic for one decorated function."""

    __slots__ = (
        "checked_defaults",
        "defaults",
        "exhaustive",
        "function",
        "local_names",
        "named",
        "needs_arguments",
        "needs_overlap",
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
        self.positional_names = [
            parameter.name
            for parameter in inspect.signature(function).parameters.values()
            if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        ]
        # The last few Owned returns (the wrapper and its value), to catch a buffer handed out as
        # Owned twice (dm_control #34: observation buffers overwritten on the next step).
        self.recent_returns: collections.deque[tuple[weakref.ref[Any], weakref.ref[Any]]] = (
            collections.deque(maxlen=16)
        )
        self.slots: tuple[Slot, ...] | None = None
        try:
            self._compile()
        except NameError:
            # A string annotation may name a class local to the decorating scope (as beartype
            # resolves it), or one defined later (the method's own class): the names where the
            # function was decorated are kept, and tried again now and at the first call.
            if decorating_frame is not None and decorating_frame.f_locals is not (
                decorating_frame.f_globals
            ):
                # Only the names the annotations use: the rest of the scope may be large arrays.
                scope = decorating_frame.f_locals
                self.local_names = {
                    name: scope[name]
                    for name in names_in_string_annotations(function)
                    if name in scope
                }
            with contextlib.suppress(NameError):
                self._compile()

    def _compile(self) -> None:
        signature = _compile_signature(self.function, self.local_names)
        self.return_slot = signature.return_slot
        self.defaults = signature.defaults
        self.checked_defaults = signature.checked_defaults
        self.var_positional = signature.var_positional
        self.var_keyword = signature.var_keyword
        self.named = signature.named
        self.needs_arguments = any(
            _uses_arguments(slot.spec)
            for slot in (*signature.slots, signature.return_slot)
            if slot is not None
        )
        self.needs_overlap = any(_holds_owned(slot) for slot in signature.slots) or (
            self.return_slot is not None and _holds_owned(self.return_slot)
        )
        self.slots = signature.slots  # last: a set slots attribute means compiled

    def _compiled_slots(self) -> tuple[Slot, ...]:
        if self.slots is None:
            try:
                self._compile()
            except NameError as error:
                raise TypeError(
                    messages.unresolvable_annotations_message(self.function, error)
                ) from None
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
            self._compiled_slots()
        stack = shape_memo_stack()
        memo: dict[str, Any] = {}
        if self.needs_arguments:
            memo[ARGUMENTS] = self._arguments(args, kwargs)
        if stack is None:
            return self._call(args, kwargs, memo, None)
        stack.append((memo, {}, {}, memo.get(ARGUMENTS, {})))
        depth = len(stack)
        try:
            return self._call(args, kwargs, memo, stack)
        finally:
            del stack[depth - 1 :]  # ours, and whatever a failing body left above it

    def _arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's arguments by parameter name, defaults applied, for f-string axes."""
        try:
            bound = inspect.signature(self.function).bind(*args, **kwargs)
        except TypeError:
            return {}  # the call itself is wrong: the function's own call reports that
        bound.apply_defaults()
        return dict(bound.arguments)

    def _call(  # noqa: PLR0915  # one pass over the slots, kept flat for speed
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        memo: dict[str, Any],
        stack: list[Any] | None,
    ) -> Any:
        slots = self.slots if self.slots is not None else self._compiled_slots()
        nargs = len(args)
        if self.var_positional is not None or self.var_keyword is not None:
            slots = self._with_variadic(slots, nargs, kwargs)
        borrowed: list[tuple[Slot, torch.Tensor, int]] = []
        moves: list[tuple[Slot, Any, object]] = []
        replacements: list[tuple[Slot, object]] = []
        numpy_borrows: list[tuple[Slot, object]] = []
        values: list[tuple[Slot, object]] = []
        leaf_memories: list[tuple[str, object]] = []
        for slot in slots:
            position = slot.position
            if position is not None and position < nargs:
                value = args[position]
            elif slot.name in kwargs and not slot.positional_only:
                value = kwargs[slot.name]
            else:
                # A default is lent to every call that omits it: it is checked like a passed value.
                value = self.checked_defaults.get(slot.name, _NO_VALUE)
                if value is _NO_VALUE:
                    continue  # missing: the function's own call reports that
            values.append((slot, value))
            if value is None and slot.optional:
                continue
            kind = slot.kind
            if kind <= OWNED:  # SHARED or OWNED
                inner = self._unwrap(slot, value, memo, values, None)
                if kind == OWNED:
                    moves.append((slot, value, inner))
                elif inner.__class__ is _Tensor or isinstance(inner, _Tensor):
                    borrowed.append((slot, inner, _version(inner)))
                elif is_ndarray(inner):
                    numpy_borrows.append((slot, inner))
                    # Read-only arrays too: an array that owns its memory (or one the sanitizer
                    # locked) can be made writable again. No source on the lent view: the callee
                    # gets no writable path back.
                    replacements.append((slot, make_shared(read_only_view(inner), None)))
            elif kind == ARRAY:
                assert slot.spec is not None
                problem = _check_array(slot.spec, value, memo)
                if problem is not None:
                    self._fail_annotation(slot, value, problem, values, None)
            elif kind == CONTAINER:
                taken = _Taken(borrowed, moves, replacements, numpy_borrows, leaf_memories)
                self._take_container(slot, value, memo, values, taken)
            elif not _is_bearable(value, slot.hint):
                raise AnnotationError(
                    messages.beartype_violation_message(self.function, slot.name, value, slot.hint),
                    function=messages.function_name(self.function),
                    parameter=slot.name,
                    rule="type",
                )
        arguments_memory: list[tuple[str, object]] = []
        if self.needs_overlap:
            arguments_memory = self._check_exclusivity(args, kwargs, moves, leaf_memories)
        snapshots = self._snapshots(values) if self.exhaustive else ()
        if moves or replacements:
            args, kwargs = self._apply(args, kwargs, moves, replacements)
        loans = self._lend(borrowed, numpy_borrows) if is_active() else ()
        if stack is not None and any(key[:1] == "*" for key in memo):
            stack[-1] = shape_memo_entry(memo, stack[-1][3])  # jaxtyping keeps *name apart
        try:
            result = self.function(*args, **kwargs)
        except ValueError as error:
            # NumPy refused a write into a read-only array while NumPy values were lent: report
            # the borrow, with NumPy's error chained (it cannot say which array it refused).
            if (
                numpy_borrows
                and is_read_only_refusal(error)
                and _refused_write_was_a_borrow(error, [array for _, array in numpy_borrows])
            ):
                raise AliasingError(
                    messages.numpy_borrow_written_message(self.function, numpy_borrows),
                    function=messages.function_name(self.function),
                    parameter=messages.lent_parameters(numpy_borrows),
                    rule="borrow",
                ) from error
            explain_refused_write(error)
            raise
        finally:
            for loan in loans:
                end_loan(loan)
        for slot, tensor, version in borrowed:
            if _version(tensor) != version:
                raise AliasingError(
                    messages.borrow_written_message(
                        self.function, slot.name, tensor, "a torch in-place write"
                    ),
                    function=messages.function_name(self.function),
                    parameter=slot.name,
                    rule="borrow",
                )
        for slot, before, after in snapshots:
            if not _same_bits(before, after):
                raise AliasingError(
                    messages.borrow_written_message(
                        self.function, slot.name, after, "a write the version counter cannot see"
                    ),
                    function=messages.function_name(self.function),
                    parameter=slot.name,
                    rule="borrow",
                )
        if self.return_slot is not None:
            if stack is not None:  # the body's isinstance checks may have bound more axes
                memo = sizes_of_entry(stack[-1])
            self._check_return(
                result,
                memo,
                values,
                arguments_memory=arguments_memory,
                moves=moves,
            )
        return result

    def _take_container(
        self,
        slot: Slot,
        value: object,
        memo: dict[str, Any],
        values: list[tuple[Slot, object]],
        taken: _Taken,
    ) -> None:
        """Apply the argument rules to each leaf of a container, as to a parameter of its own."""
        replaced: dict[str, object] = {}
        for leaf, path, member in self._leaves(slot, value):
            named = dataclasses.replace(leaf, name=path)
            values.append((named, member))
            if member is None and leaf.optional:
                continue
            kind = leaf.kind
            if kind <= OWNED:
                inner = self._unwrap(named, member, memo, values, None)
                taken.leaf_memories.append((path, inner))
                if kind == OWNED:
                    taken.moves.append((named, member, inner))
                    replaced[path] = make_owned(inner)
                elif isinstance(inner, _Tensor):
                    taken.borrowed.append((named, inner, _version(inner)))
                elif is_ndarray(inner):
                    taken.numpy_borrows.append((named, inner))
                    replaced[path] = make_shared(read_only_view(inner), None)
            elif kind == ARRAY:
                assert leaf.spec is not None
                problem = _check_array(leaf.spec, member, memo)
                if problem is not None:
                    self._fail_annotation(named, member, problem, values, None)
            elif not _is_bearable(member, leaf.hint):
                raise AnnotationError(
                    messages.beartype_violation_message(self.function, path, member, leaf.hint),
                    function=messages.function_name(self.function),
                    parameter=path,
                    rule="type",
                )
        if replaced:
            taken.replacements.append((slot, rebuild(slot.tree, value, slot.name, replaced)))

    def _leaves(self, slot: Slot, value: object) -> list[tuple[Slot, str, object]]:
        try:
            return list(walk(slot.tree, value, slot.name))
        except ContainerMismatch as mismatch:
            raise AnnotationError(
                messages.container_mismatch_message(
                    self.function, mismatch.path, mismatch.value, mismatch.hint, mismatch.detail
                ),
                function=messages.function_name(self.function),
                parameter=mismatch.path,
                rule="type",
            ) from None

    def _check_container_return(  # noqa: PLR0917  # the return check's own state, passed on
        self,
        slot: Slot,
        result: object,
        memo: dict[str, Any],
        values: list[tuple[Slot, object]],
        arguments_memory: list[tuple[str, object]],
        moves: list[tuple[Slot, Any, object]],
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
                    for name, other in arguments_memory:
                        if not any(other is gone for gone in moved_in) and shares_memory(
                            inner, other
                        ):
                            raise AliasingError(
                                messages.not_fresh_message(self.function, inner, name, path),
                                function=messages.function_name(self.function),
                                parameter=path,
                                rule="freshness",
                            )
                    for other_path, other in handed_out:
                        if shares_memory(inner, other):
                            raise AliasingError(
                                messages.returned_twice_message(
                                    self.function, inner, path, other_path
                                ),
                                function=messages.function_name(self.function),
                                parameter=path,
                                rule="freshness",
                            )
                    handed_out.append((path, inner))
                    self._check_not_returned_before(member, inner, moved_in, path)
            elif leaf.kind == ARRAY:
                assert leaf.spec is not None
                problem = _check_array(leaf.spec, member, memo)
                if problem is not None:
                    self._fail_annotation(named, member, problem, values, moved)
            elif not _is_bearable(member, leaf.hint):
                raise AnnotationError(
                    messages.beartype_violation_message(self.function, path, member, leaf.hint),
                    function=messages.function_name(self.function),
                    parameter=path,
                    rule="type",
                )

    def _lend(
        self,
        borrowed: list[tuple[Slot, torch.Tensor, int]],
        numpy_borrows: list[tuple[Slot, object]],
    ) -> list[Any]:
        """Record this call's borrows with the active sanitizer: the caller's arrays are locked
        read-only for the call, and raw routes inside it see the lent memory as borrowed."""
        loans: list[Any] = []
        for slot, tensor, _ in borrowed:
            loans.append(lend(tensor, self.function, slot.name, ()))
        for slot, array in numpy_borrows:
            assert is_ndarray(array)
            loans.append(lend(array, self.function, slot.name, (array,)))
        return [loan for loan in loans if loan is not None]

    def _check_not_returned_before(
        self, returned: object, inner: object, moved_in: list[object], path: str = "return"
    ) -> None:
        """An Owned return must not be memory an earlier, still-alive Owned return holds.

        Handing on the very wrapper an earlier call returned (a recursive call's result) is one
        handout, not two; a new wrapper around the same memory is the second.
        """
        recent = self.recent_returns
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
                    messages.returned_again_message(self.function, inner, path),
                    function=messages.function_name(self.function),
                    parameter=path,
                    rule="freshness",
                )
        with contextlib.suppress(TypeError):  # values without weak references are not tracked
            recent.append((weakref.ref(returned), weakref.ref(inner)))

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
                messages.used_after_move_message(self.function, slot.name),
                function=messages.function_name(self.function),
                parameter=slot.name,
                rule="move",
            )
        assert slot.spec is not None
        problem = _check_array(slot.spec, inner, memo)
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
        bindings = self._bindings(values[:-1], moved)
        raise AnnotationError(
            messages.annotation_mismatch_message(self.function, slot, value, problem, bindings),
            function=messages.function_name(self.function),
            parameter=slot.name,
            rule=problem[0],
        )

    def _fail_kind(self, slot: Slot, value: object) -> typing.NoReturn:
        raise AnnotationError(
            messages.wrong_kind_message(self.function, slot, value),
            function=messages.function_name(self.function),
            parameter=slot.name,
            rule="kind",
        )

    def _bindings(
        self, values: list[tuple[Slot, object]], moved: dict[str, object] | None = None
    ) -> list[tuple[str, object, str]]:
        """Replay the checks that passed, recording which argument bound each axis."""
        memo: dict[str, Any] = {}
        owners: list[tuple[str, object, str]] = []
        for slot, value in values:
            if moved and slot.name in moved:
                inner = moved[slot.name]  # the caller's handle is dead; its value lives on
            else:
                inner = _memory_of(value) if slot.kind in (SHARED, OWNED) else value
            spec = slot.spec
            if spec is None or inner is None or (spec.prefix is None and spec.members is None):
                continue
            before = set(memo)
            if spec.members is not None:
                _check_union(spec.members, inner, memo)
            else:
                _match_shape(spec, tuple(typing.cast("Any", inner).shape), memo)
            for name, bound in memo.items():
                if name not in before:
                    shown = bound[1] if name.startswith("*") else bound
                    owners.append((name, shown, slot.name))
        return owners

    def _check_exclusivity(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        moves: list[tuple[Slot, Any, object]],
        leaf_memories: list[tuple[str, object]],
    ) -> list[tuple[str, object]]:
        names = self.positional_names
        everything = [
            (names[index] if index < len(names) else f"args[{index}]", _memory_of(value))
            for index, value in enumerate(args)
        ] + [(name, _memory_of(value)) for name, value in kwargs.items()]
        # Defaults are arguments too: a mutable default buffer returned as Owned is not fresh.
        passed = set(names[: len(args)]) | set(kwargs)
        everything += [
            (name, _memory_of(value)) for name, value in self.defaults.items() if name not in passed
        ]
        memories = [(name, memory) for name, memory in everything if memory is not None]
        memories += leaf_memories  # the wrappers inside annotated containers
        for slot, _, inner in moves:
            overlapping = [
                name
                for name, other in memories
                if other is not inner and shares_memory(inner, other)
            ]
            duplicates = sum(1 for _, other in memories if other is inner)
            if overlapping or duplicates > 1:
                raise AliasingError(
                    messages.not_exclusive_message(self.function, slot.name, inner),
                    function=messages.function_name(self.function),
                    parameter=slot.name,
                    rule="exclusivity",
                )
        return memories

    def _apply(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        moves: list[tuple[Slot, Any, object]],
        replacements: list[tuple[Slot, object]],
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
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
                new_args.extend(
                    self.defaults[name] for name in self.positional_names[len(new_args) : position]
                )
                new_args.append(new_value)
            else:
                new_kwargs[slot.name] = new_value
        return tuple(new_args), new_kwargs

    def _snapshots(self, values: list[tuple[Slot, object]]) -> list[tuple[Slot, Any, Any]]:
        taken: list[tuple[Slot, Any, Any]] = []
        for slot, value in values:
            if slot.kind == SHARED:
                inner = _memory_of(value)
                if inner is not None:
                    taken.append((slot, _snapshot(inner), inner))
        return taken

    def _check_return(
        self,
        result: object,
        memo: dict[str, Any],
        values: list[tuple[Slot, object]],
        *,
        arguments_memory: list[tuple[str, object]],
        moves: list[tuple[Slot, Any, object]],
    ) -> None:
        slot = self.return_slot
        assert slot is not None
        if result is None and slot.optional:
            return
        values = [*values, (slot, result)]
        moved = {moved_slot.name: inner for moved_slot, _, inner in moves}
        if slot.kind in (SHARED, OWNED):
            inner = self._unwrap(slot, result, memo, values, moved)
            if slot.kind == OWNED:
                moved_in = [moved for _, _, moved in moves]
                for name, other in arguments_memory:
                    if any(other is moved for moved in moved_in):
                        continue
                    if shares_memory(inner, other):
                        raise AliasingError(
                            messages.not_fresh_message(self.function, inner, name),
                            function=messages.function_name(self.function),
                            parameter="return",
                            rule="freshness",
                        )
                self._check_not_returned_before(result, inner, moved_in)
        elif slot.kind == ARRAY:
            assert slot.spec is not None
            problem = _check_array(slot.spec, result, memo)
            if problem is not None:
                self._fail_annotation(slot, result, problem, values, moved)
        elif slot.kind == CONTAINER:
            self._check_container_return(slot, result, memo, values, arguments_memory, moves)
        elif not _is_bearable(result, slot.hint):
            raise AnnotationError(
                messages.beartype_violation_message(self.function, "return", result, slot.hint),
                function=messages.function_name(self.function),
                parameter="return",
                rule="type",
            )


def _refused_write_was_a_borrow(error: BaseException, borrowed: list[object]) -> bool:
    """Whether NumPy's read-only refusal can only have been a write into a borrowed array.

    NumPy's error does not name the array it refused, so look at the read-only arrays the frames
    between the call and the error hold: if one of them is the callee's own (it overlaps no
    borrow), the write may have targeted it, and the error is not blamed on the borrow.
    """
    lent_empty = any(is_ndarray(array) and array.size == 0 for array in borrowed)
    traceback = error.__traceback__
    while traceback is not None:
        for local in traceback.tb_frame.f_locals.values():
            candidate = _memory_of(local)
            if (
                is_ndarray(candidate)
                and not candidate.flags.writeable
                # An empty array overlaps nothing, not even the empty view it was lent as.
                and not (candidate.size == 0 and lent_empty)
                and not any(shares_memory(candidate, array) for array in borrowed)
            ):
                return False
        traceback = traceback.tb_next
    return True


def _is_bearable(value: object, hint: object) -> bool:
    from beartype.door import is_bearable

    return is_bearable(value, typing.cast("Any", hint))


# ----------------------------------------------------------------------------------------------
# The decorator


def _decorating_frame() -> types.FrameType | None:
    """The frame that applied ``@checked``: the first one outside this module."""
    frame: types.FrameType | None = sys._getframe(1)  # pyright: ignore[reportPrivateUsage]  # the only way to see the decorating scope
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    return frame


def _disabled() -> bool:
    return os.environ.get("ALIASGUARD_DISABLE", "") not in ("", "0")


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
        if _disabled():
            return target
        if isinstance(target, staticmethod | classmethod):
            # Check the function inside, and keep how the class binds it.
            method = typing.cast("Any", target)
            inner = decorate(method.__func__)
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
            raise TypeError(messages.not_a_function_message(candidate))
        deferred = (
            inspect.iscoroutinefunction,
            inspect.isgeneratorfunction,
            inspect.isasyncgenfunction,
        )
        if any(runs_later(target) for runs_later in deferred):
            raise TypeError(messages.deferred_body_message(target))
        checker = _Checker(target, exhaustive=exhaustive, decorating_frame=_decorating_frame())
        # The common signatures get a call path generated for them; it hands anything unusual
        # to checker.call. (Imported here: _fast_checking reads this module's classes.)
        from ._fast_checking import compile_fast_call

        checked_function = compile_fast_call(checker)
        if checked_function is None:
            call = checker.call
            function = target

            def general_function(*args: Any, **kwargs: Any) -> Any:
                __tracebackhide__ = True  # pytest opens the traceback at the caller's frame
                if general_function.__dict__.get("__no_type_check__"):
                    return function(*args, **kwargs)  # typing.no_type_check applied on top
                return call(args, kwargs)

            checked_function = general_function
        functools.update_wrapper(checked_function, target)
        # Marks the function, so the import hook never wraps it twice.
        setattr(checked_function, "__aliasguard_checked__", True)  # noqa: B010
        return typing.cast("Callable[P, R]", checked_function)

    return decorate if function is None else decorate(function)
