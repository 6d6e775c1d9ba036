# This module reads `_Checker`'s compiled signature and calls its error paths.
# pyright: reportPrivateUsage=false
"""A call path for `@checked` generated per signature, with every check inlined.

`_Checker.call` walks a signature's slots generically. For the common signatures (parameters that
are bare jaxtyping arrays, ``Shared[...]`` borrows or plain classes, and such a return) this module
writes the checks of that one signature out as Python source at decoration time and compiles it:
``isinstance`` against the exact classes, dtype membership in a frozenset, the shape's length and
each axis compared with a local variable per axis name.

The generated function only ever *accepts* a call: whenever a check fails, or anything is unusual
(a sanitizer is active, a read-only NumPy borrow, a missing argument), it hands the call, untouched,
to `_Checker.call`, which raises the detailed error or handles the case. Its side effects are the
general path's: borrowed tensors' version counters are compared after the call, ``Shared`` NumPy
arguments are replaced by read-only views (see `_lent_views`), NumPy's refusal of a write into one
is reported as the borrow it broke. A return value that fails its check is handed, with the state
the argument checks left, to the general path's return check, which raises the error it would.
An ``Owned`` return is checked for freshness as there (against every argument's memory and the
function's earlier returns). Signatures this module does not cover get the general path from the
start: ``Owned`` parameters (moves), containers, ``*args``/``**kwargs`` annotations, unions of
arrays, broadcast-named, symbolic or named variadic axes, ``exhaustive=True``, hints other than
plain classes.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import torch

from . import _checking, _checking_messages as messages, _sanitizer
from ._annotation_compat import without_none
from ._annotations import ARRAY, CONTAINER, OTHER, OWNED, SHARED
from ._errors import AliasingError
from ._jaxtyping_compat import (
    ANONYMOUS,
    BROADCAST_FIXED,
    FIXED,
    NAMED,
    ArraySpec,
    numpy_dtype_name,
)
from ._lent_views import lend_read_only
from ._memory import shares_memory
from ._numpy_locks import is_read_only_refusal
from ._wrappers import Owned, Shared

__all__ = ["compile_fast_call"]

#: Set to False to decorate with the general path only (the tests compare the two).
enabled: bool = True

_UNBOUND: Final = 0  # no earlier check can have bound the axis
_MAYBE: Final = 1  # an earlier, skippable check may have bound it (its local is None otherwise)
_BOUND: Final = 2  # bound whenever this point is reached


class _UnsupportedError(Exception):
    """The signature needs something the generated path does not do: use the general path."""


def _plain_class(hint: object) -> type | None:
    """``hint`` when beartype checks it as ``isinstance(value, hint)``; None otherwise.

    beartype checks a plain class (no metaclass of its own, not a protocol) with ``isinstance``: a
    ``bool`` is an ``int``, and by default an ``int`` is not a ``float`` (its PEP 484 tower is off
    unless configured, and ``_checking`` calls beartype with the default configuration).
    """
    inner, _ = without_none(hint)
    if not isinstance(inner, type) or type(inner) is not type:
        return None
    cls = inner
    if getattr(cls, "_is_protocol", False) or cls.__dict__.get("__class_getitem__") is not None:
        return None
    return cls


class _Writer:
    """The generated function's source, and the objects it names."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, object] = {}
        self.axes: dict[str, str] = {}  # axis name -> its local variable
        self.state: dict[str, int] = {}
        self.phase = "argument"  # then "return": the return's axes have locals of their own

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def constant(self, prefix: str, value: object) -> str:
        name = f"_{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def axis(self, name: str) -> str:
        if name not in self.axes:
            self.axes[name] = f"axis{len(self.axes)}_{self.phase}"
        return self.axes[name]


def _numpy_types(names: frozenset[str]) -> frozenset[type]:
    """Scalar types whose dtypes jaxtyping names in ``names`` (a subset: others take the general path)."""
    found: set[type] = set()
    for kind in set(np.sctypeDict.values()):
        try:
            dtype = np.dtype(kind)
        except TypeError:
            continue  # a scalar type without a dtype of its own: the general path judges it
        if numpy_dtype_name(dtype) in names:
            found.add(dtype.type)
    return frozenset(found)


def _array_branches(spec: ArraySpec) -> tuple[bool, bool]:
    """Whether values of ``spec``'s classes can be tensors, and whether they can be arrays."""
    classes = spec.array_class if isinstance(spec.array_class, tuple) else (spec.array_class,)
    tensors = arrays = False
    for cls in classes:
        if issubclass(cls, torch.Tensor):
            tensors = True
        elif issubclass(cls, np.ndarray):
            arrays = True
        else:
            raise _UnsupportedError  # another library's array: the general path's rules
    return tensors, arrays


def _write_array_check(  # noqa: PLR0917  # the generator's state, passed on
    writer: _Writer,
    depth: int,
    spec: ArraySpec,
    value: str,
    fail: str,
    on_tensor: Callable[[int], None] | None = None,
    on_array: Callable[[int], None] | None = None,
) -> None:
    """The checks of ``_checking._check_array``, inlined; ``fail`` runs where it would complain."""
    if spec.members is not None:
        raise _UnsupportedError
    tensors, arrays = _array_branches(spec)
    classes = writer.constant("classes", spec.array_class)
    writer.line(depth, f"if not isinstance({value}, {classes}):")
    writer.line(depth + 1, fail)
    torch_dtypes = spec.torch_dtypes
    numpy_names = spec.numpy_dtype_names

    def tensor_dtype(inner: int) -> None:
        if torch_dtypes is not None:
            dtypes = writer.constant("torch_dtypes", torch_dtypes)
            writer.line(inner, f"if {value}.dtype not in {dtypes}:")
            writer.line(inner + 1, fail)

    def array_dtype(inner: int) -> None:
        if numpy_names is not None:
            types = writer.constant("numpy_types", _numpy_types(numpy_names))
            writer.line(inner, f"if {value}.dtype.type not in {types}:")
            writer.line(inner + 1, fail)

    def by_library(on_tensor: Callable[[int], None], on_array: Callable[[int], None]) -> None:
        if tensors and arrays:
            tensor_class = writer.constant("Tensor", torch.Tensor)
            writer.line(depth, f"if isinstance({value}, {tensor_class}):")
            on_tensor(depth + 1)
            writer.line(depth + 1, "pass")
            writer.line(depth, "else:")
            on_array(depth + 1)
            writer.line(depth + 1, "pass")
        elif tensors:
            on_tensor(depth)
        else:
            on_array(depth)

    by_library(tensor_dtype, array_dtype)
    if spec.prefix is not None:
        _write_shape_check(writer, depth, spec, value, fail)
    # What a borrow takes, once the value passed every check (as on the general path).
    if on_tensor is not None and on_array is not None:
        by_library(on_tensor, on_array)


def _write_shape_check(writer: _Writer, depth: int, spec: ArraySpec, value: str, fail: str) -> None:
    prefix = spec.prefix
    assert prefix is not None
    variadic = spec.variadic
    if variadic is not None and variadic.name is not None:
        raise _UnsupportedError  # *batch binds a tuple: the general path's memo
    writer.line(depth, f"shape = {value}.shape")
    if variadic is None:
        writer.line(depth, f"if len(shape) != {len(prefix)}:")
        indexed = [(str(index), dim) for index, dim in enumerate(prefix)]
    else:
        suffix = spec.suffix
        writer.line(depth, f"if len(shape) < {len(prefix) + len(suffix)}:")
        indexed = [(str(index), dim) for index, dim in enumerate(prefix)]
        indexed += [(str(index - len(suffix)), dim) for index, dim in enumerate(suffix)]
    writer.line(depth + 1, fail)
    for index, (kind, argument) in indexed:
        size = f"shape[{index}]"
        if kind == ANONYMOUS:
            continue
        if kind == FIXED:
            writer.line(depth, f"if {size} != {int(argument)}:")
            writer.line(depth + 1, fail)
        elif kind == BROADCAST_FIXED:
            writer.line(depth, f"if {size} != 1 and {size} != {int(argument)}:")
            writer.line(depth + 1, fail)
        elif kind == NAMED:
            local = writer.axis(str(argument))
            state = writer.state.get(str(argument), _UNBOUND)
            if state == _UNBOUND:
                writer.line(depth, f"{local} = {size}")
            elif state == _BOUND:
                writer.line(depth, f"if {size} != {local}:")
                writer.line(depth + 1, fail)
            else:
                writer.line(depth, f"if {local} is None:")
                writer.line(depth + 1, f"{local} = {size}")
                writer.line(depth, f"elif {size} != {local}:")
                writer.line(depth + 1, fail)
            writer.state[str(argument)] = _BOUND
        else:
            raise _UnsupportedError  # broadcast-named and symbolic axes


def _supported_slot(slot: _checking.Slot) -> None:
    if slot.kind in (OWNED, CONTAINER):
        raise _UnsupportedError
    if slot.kind == OTHER and _plain_class(slot.hint) is None:
        raise _UnsupportedError


def compile_fast_call(checker: _checking._Checker) -> Callable[..., Any] | None:
    """The generated ``(*args, **kwargs)`` call path of ``checker``'s function, or None when its
    signature needs the general path."""
    if not enabled or checker.exhaustive:
        return None
    if checker.slots is None:
        return _compiled_at_first_call(checker)
    if checker.var_positional is not None or checker.var_keyword is not None:
        return None
    try:
        return _generate(checker, checker.slots)
    except _UnsupportedError:
        return None


def _compiled_at_first_call(checker: _checking._Checker) -> Callable[..., Any]:
    """For annotations that name something defined after the function (a method's own class):
    the general path compiles them at the first call, and the generated path is made then."""
    current: Callable[..., Any] | None = None

    def checked_function(*args: Any, **kwargs: Any) -> Any:
        nonlocal current
        __tracebackhide__ = True
        if checked_function.__dict__.get("__no_type_check__"):
            return checker.function(*args, **kwargs)  # typing.no_type_check applied on top
        if current is not None:
            return current(*args, **kwargs)
        if checker.slots is not None:  # compiled by an earlier call
            made = compile_fast_call(checker)
            current = made if made is not None else _general_call(checker)
            return current(*args, **kwargs)
        return checker.call(args, kwargs)  # compiles the signature, or raises what it lacks

    return checked_function


def _general_call(checker: _checking._Checker) -> Callable[..., Any]:
    call = checker.call

    def general_function(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return call(args, kwargs)

    return general_function


def _generate(checker: _checking._Checker, slots: tuple[_checking.Slot, ...]) -> Callable[..., Any]:  # noqa: PLR0915  # one generator, in the order of the code it writes
    for slot in slots:
        _supported_slot(slot)
    return_slot = checker.return_slot
    owned_return = return_slot is not None and return_slot.kind == OWNED
    if return_slot is not None and not owned_return:
        _supported_slot(return_slot)
    writer = _Writer()
    fail = "return general(args, kwargs)"
    namespace = writer.namespace
    namespace.update(
        general=checker.call,
        function=checker.function,
        sanitizer=_sanitizer,
        Shared=Shared,
        lend_read_only=lend_read_only,
        on_value_error=_on_value_error(checker.function),
        AliasingError=AliasingError,
        borrow_written_message=messages.borrow_written_message,
        function_name=messages.function_name,
        return_failed=_return_failed(checker),
        arguments_memory=checker._check_exclusivity,
        owned_return_is_fresh=_owned_return_is_fresh(checker),
        Owned=Owned,
        SKIP=_SKIP,
    )
    borrowed: list[tuple[str, str]] = []  # (tensor local, version local) per tensor borrow
    numpy_borrows: list[tuple[str, str]] = []  # (slot constant, array local)
    replaces = False
    w = writer
    w.line(1, "__tracebackhide__ = True  # pytest opens the traceback at the caller's frame")
    w.line(1, "if own_attributes.get('__no_type_check__'):")
    w.line(2, "return function(*args, **kwargs)  # typing.no_type_check applied on top")
    w.line(1, "if sanitizer._active_threads > 0:")
    w.line(2, fail)
    w.line(1, "nargs = len(args)")
    setup_at = len(w.lines)
    for index, slot in enumerate(slots):
        conditional = slot.optional
        position = slot.position
        w.line(1, f"# {slot.name}")
        opened = False
        if position is not None:
            w.line(1, f"if nargs > {position}:")
            w.line(2, f"value = args[{position}]")
            opened = True
        if not slot.positional_only:
            w.line(1, f"{'elif' if opened else 'if'} {slot.name!r} in kwargs:")
            w.line(2, f"value = kwargs[{slot.name!r}]")
            opened = True
        missing = "else:" if opened else "if True:"
        if slot.name in checker.checked_defaults:
            default = w.constant("default", checker.checked_defaults[slot.name])
            w.line(1, missing)
            w.line(2, f"value = {default}")
            if slot.kind == SHARED and slot.positional_only:
                raise _UnsupportedError  # an omitted positional-only borrow: the general path's _apply
        elif slot.name in checker.defaults:  # a None default: not checked
            w.line(1, missing)
            w.line(2, "value = SKIP")
            conditional = True
        else:
            w.line(1, missing)
            w.line(2, fail)  # missing: the function's own call reports that
        depth = 1
        if conditional:
            tests: list[str] = []
            if slot.name not in checker.checked_defaults and slot.name in checker.defaults:
                tests.append("value is not SKIP")
            if slot.optional:
                tests.append("value is not None")
            w.line(1, f"if {' and '.join(tests)}:")
            depth = 2
        before = dict(w.state)
        if slot.kind == ARRAY:
            assert slot.spec is not None
            _write_array_check(w, depth, slot.spec, "value", fail)
        elif slot.kind == OTHER:
            cls = w.constant("class", _plain_class(slot.hint))
            w.line(depth, f"if not isinstance(value, {cls}):")
            w.line(depth + 1, fail)
        else:  # SHARED
            assert slot.spec is not None
            # type(), not isinstance(): an object can fake __class__; subclasses go the long way.
            w.line(depth, "if (kind := type(value)) is not Shared and kind is not Owned:")
            w.line(depth + 1, fail)
            w.line(depth, "inner = value._value")
            tensor_local, version_local = f"tensor{index}", f"version{index}"
            array_local = f"array{index}"
            slot_constant = w.constant("slot", slot)

            def on_tensor(
                inner_depth: int,
                tensor_local: str = tensor_local,
                version_local: str = version_local,
            ) -> None:
                w.line(inner_depth, f"{tensor_local} = inner")
                w.line(inner_depth, f"{version_local} = inner._version")
                borrowed.append((tensor_local, version_local))

            def on_array(
                inner_depth: int,
                array_local: str = array_local,
                slot_constant: str = slot_constant,
                slot: _checking.Slot = slot,
            ) -> None:
                # The lent view kept for this wrapper (see _lent_views), read inline. One kept
                # while the array was writable still serves if it no longer is: read-only either
                # way, over the same memory.
                w.line(inner_depth, "try:")
                w.line(inner_depth + 1, "kept = value._lent")
                w.line(inner_depth, "except AttributeError:")
                w.line(inner_depth + 1, "kept = None")
                w.line(inner_depth, "if kept is not None and (")
                w.line(inner_depth + 2, "(root := kept[0]).shape == inner.shape")
                w.line(inner_depth + 2, "and root.strides == inner.strides")
                w.line(inner_depth + 2, "and root.dtype == inner.dtype")
                w.line(inner_depth, "):")
                w.line(inner_depth + 1, "lent = kept[1]")
                w.line(inner_depth, "else:")
                w.line(inner_depth + 1, "lent = lend_read_only(value, inner)")
                w.line(inner_depth + 1, "if lent is None:")
                w.line(inner_depth + 2, fail)
                w.line(inner_depth, f"{array_local} = inner")
                numpy_borrows.append((slot_constant, array_local))
                if slot.position is not None:
                    w.line(inner_depth, f"if nargs > {slot.position}:")
                    w.line(inner_depth + 1, "if new_args is None:")
                    w.line(inner_depth + 2, "new_args = list(args)")
                    w.line(inner_depth + 1, f"new_args[{slot.position}] = lent")
                    w.line(inner_depth, "else:")
                    inner_depth += 1
                w.line(inner_depth, "if new_kwargs is None:")
                w.line(inner_depth + 1, "new_kwargs = dict(kwargs)")
                w.line(inner_depth, f"new_kwargs[{slot.name!r}] = lent")

            _write_array_check(w, depth, slot.spec, "inner", fail, on_tensor, on_array)
            if any(local == array_local for _, local in numpy_borrows):
                replaces = True
        if conditional:
            for name, state in w.state.items():
                if before.get(name, _UNBOUND) != _BOUND and state == _BOUND:
                    w.state[name] = _MAYBE
    # Locals that a skipped check may leave unset start as None.
    setup = [f"    {local} = None" for local in w.axes.values()]
    setup += [f"    {tensor} = None" for tensor, _ in borrowed]
    setup += [f"    {array} = None" for _, array in numpy_borrows]
    if replaces:
        setup += ["    new_args = None", "    new_kwargs = None"]
    w.lines[setup_at:setup_at] = setup
    argument_axes = dict(w.axes)
    memo = "{" + ", ".join(f"{name!r}: {local}" for name, local in argument_axes.items()) + "}"
    if owned_return:
        # The memory of every argument and default, for the freshness rule (as the general path
        # collects it: before the call, from the values as passed).
        w.line(1, "memories = arguments_memory(args, kwargs, [], [])")
    if replaces:
        w.line(1, "call_args = args if new_args is None else tuple(new_args)")
        w.line(1, "call_kwargs = kwargs if new_kwargs is None else new_kwargs")
    else:
        w.line(1, "call_args, call_kwargs = args, kwargs")
    # The call's bindings become jaxtyping's memo while the body runs, as in the general path, so
    # that isinstance() in the body sees them. jaxtyping keeps its memo stack on a thread-local;
    # when it is not imported yet, no annotation here uses it and there is nothing to share.
    storage = sys.modules.get("jaxtyping._storage")
    shares_memo = storage is not None
    if shares_memo:
        namespace["jaxtyping_local"] = typing.cast("Any", storage)._shape_storage
        maybe_unbound = any(state != _BOUND for state in w.state.values())
        pushed = memo
        if maybe_unbound:
            pushed = "{name: size for name, size in " + memo + ".items() if size is not None}"
        w.line(1, "try:")
        w.line(2, "stack = jaxtyping_local.memo_stack")
        w.line(1, "except AttributeError:")
        w.line(2, "stack = jaxtyping_local.memo_stack = []")
        w.line(1, f"pushed = {pushed}")
        # jaxtyping only reads the arguments entry (f-string axes): one empty dict serves all.
        namespace["NO_ARGUMENTS"] = types.MappingProxyType({})
        w.line(1, "stack.append((pushed, {}, {}, NO_ARGUMENTS))")
        # isinstance() in the body adds to this very dict: its length then tells if it did.
        w.line(1, "depth, bound_before = len(stack), len(pushed)")
    w.line(1, "try:")
    w.line(2, "result = function(*call_args, **call_kwargs)")
    w.line(1, "except ValueError as error:")
    borrows = ", ".join(f"({slot_constant}, {array})" for slot_constant, array in numpy_borrows)
    w.line(2, f"on_value_error(error, ({borrows}{',' if numpy_borrows else ''}))")
    w.line(2, "raise")
    if shares_memo:
        w.line(1, "finally:")
        # Ours, and whatever a body left above it; jaxtyping may have replaced ours with a copy.
        w.line(2, "body_memo = stack[depth - 1][0] if len(stack) >= depth else pushed")
        w.line(2, "del stack[depth - 1 :]")
    for tensor, version in borrowed:
        name = tensor.removeprefix("tensor")
        parameter = slots[int(name)].name
        w.line(1, f"if {tensor} is not None and {tensor}._version != {version}:")
        w.line(2, "raise AliasingError(")
        w.line(
            3,
            f"borrow_written_message(function, {parameter!r}, {tensor}, 'a torch in-place write'),",
        )
        w.line(3, f"function=function_name(function), parameter={parameter!r}, rule='borrow',")
        w.line(2, ")")
    if return_slot is not None:
        memories = "memories" if owned_return else "None"
        return_fail = f"return return_failed(result, args, kwargs, {memo}, {memories})"
        # An isinstance() in the body may bind axes the return names and no argument bound:
        # then the general return check reads them.
        bound_by_arguments = {name for name, state in w.state.items() if state == _BOUND}
        assert return_slot.spec is not None or return_slot.kind == OTHER
        if shares_memo and not _axis_names(return_slot.spec) <= bound_by_arguments:
            w.line(1, "if len(body_memo) != bound_before:")
            w.line(2, f"return return_failed(result, args, kwargs, body_memo, {memories})")
        # The return's axes get locals of their own, so that the memo handed to the general path
        # on failure is the one the arguments left; one an optional argument may have bound
        # starts from that argument's value.
        w.phase = "return"
        bound_axes = {name: w.axes[name] for name, state in w.state.items() if state == _BOUND}
        maybe_axes = [name for name, state in w.state.items() if state == _MAYBE]
        w.axes = bound_axes
        for name in maybe_axes:
            w.line(1, f"{w.axis(name)} = {argument_axes[name]}")
        depth = 1
        if return_slot.optional:
            w.line(1, "if result is not None:")
            depth = 2
        if return_slot.kind == ARRAY:
            assert return_slot.spec is not None
            _write_array_check(w, depth, return_slot.spec, "result", return_fail)
        elif return_slot.kind == OTHER:
            cls = w.constant("class", _plain_class(return_slot.hint))
            w.line(depth, f"if not isinstance(result, {cls}):")
            w.line(depth + 1, return_fail)
        else:
            assert return_slot.spec is not None
            kind_test = (
                "type(result) is not Owned"
                if owned_return
                else "(kind := type(result)) is not Shared and kind is not Owned"
            )
            w.line(depth, f"if {kind_test}:")
            w.line(depth + 1, return_fail)
            w.line(depth, "inner = result._value")
            _write_array_check(w, depth, return_slot.spec, "inner", return_fail)
            if owned_return:
                w.line(depth, "owned_return_is_fresh(result, inner, memories)")
        w.line(depth, "pass")
    w.line(1, "return result")
    source = "def checked_function(*args, **kwargs):\n" + "\n".join(w.lines) + "\n"
    code = compile(source, f"<aliasguard.checked {checker.function.__qualname__}>", "exec")
    exec(code, namespace)  # our own generated source, from the compiled signature
    generated = typing.cast("Callable[..., Any]", namespace["checked_function"])
    namespace["own_attributes"] = generated.__dict__  # where typing.no_type_check marks it
    return generated


def _axis_names(spec: ArraySpec | None) -> set[str]:
    """The named axes of a spec the generated path checks (it takes no other named kinds)."""
    if spec is None or spec.prefix is None:
        return set()
    return {argument for kind, argument in (*spec.prefix, *spec.suffix) if kind == NAMED}


_SKIP: Final = object()


def _on_value_error(
    function: Callable[..., Any],
) -> Callable[[ValueError, tuple[tuple[_checking.Slot, object], ...]], None]:
    """The general path's handling of a ``ValueError`` from the callee (the caller re-raises)."""

    def on_value_error(
        error: ValueError, numpy_borrows: tuple[tuple[_checking.Slot, object], ...]
    ) -> None:
        lent = [(slot, array) for slot, array in numpy_borrows if array is not None]
        if (
            lent
            and is_read_only_refusal(error)
            and _checking._refused_write_was_a_borrow(error, [array for _, array in lent])
        ):
            raise AliasingError(
                messages.numpy_borrow_written_message(function, lent),
                function=messages.function_name(function),
                parameter=messages.lent_parameters(lent),
                rule="borrow",
            ) from error
        _sanitizer.explain_refused_write(error)

    return on_value_error


def _owned_return_is_fresh(
    checker: _checking._Checker,
) -> Callable[[object, object, list[tuple[str, object]]], None]:
    """The general path's freshness rule for an ``Owned`` return that passed its annotation."""

    def owned_return_is_fresh(
        result: object, inner: object, memories: list[tuple[str, object]]
    ) -> None:
        for name, other in memories:  # no argument was moved in: every one counts
            if shares_memory(inner, other):
                raise AliasingError(
                    messages.not_fresh_message(checker.function, inner, name),
                    function=messages.function_name(checker.function),
                    parameter="return",
                    rule="freshness",
                )
        checker._check_not_returned_before(result, inner, [])

    return owned_return_is_fresh


def _return_failed(
    checker: _checking._Checker,
) -> Callable[
    [object, tuple[Any, ...], dict[str, Any], dict[str, Any], list[tuple[str, object]] | None],
    object,
]:
    """The general path's return check, with the values and axis memo the arguments left."""

    def return_failed(
        result: object,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        memo: dict[str, Any],
        memories: list[tuple[str, object]] | None,
    ) -> object:
        values: list[tuple[_checking.Slot, object]] = []
        assert checker.slots is not None
        for slot in checker.slots:
            position = slot.position
            if position is not None and position < len(args):
                value = args[position]
            elif slot.name in kwargs and not slot.positional_only:
                value = kwargs[slot.name]
            else:
                value = checker.checked_defaults.get(slot.name, _SKIP)
                if value is _SKIP:
                    continue
            values.append((slot, value))
        bound = {name: size for name, size in memo.items() if size is not None}
        checker._check_return(result, bound, values, arguments_memory=memories or [], moves=[])
        return result  # the general path accepts it after all

    return return_failed
