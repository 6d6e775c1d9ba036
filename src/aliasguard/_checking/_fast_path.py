"""A call path for `@checked` generated per signature, with every check inlined.

`Checker.call` walks a signature's slots generically. For the common signatures (parameters that
are bare jaxtyping arrays, ``Shared[...]`` borrows or plain classes, and such a return) this module
writes the checks of that one signature out as Python source at decoration time and compiles it
(the checks themselves are written by `_check_source`).

The generated function only ever *accepts* a call: whenever a check fails, or anything is unusual
(a sanitizer is active, a missing argument), it hands the call, untouched,
to `Checker.call`, which raises the detailed error or handles the case. Its side effects are the
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

import typing
from collections.abc import Callable
from typing import Any, Final

from .._annotations import ARRAY, OTHER, OWNED, SHARED, plain_class
from .._describing import function_name
from .._errors import AliasingError
from .._jaxtyping_compat import shape_storage
from .._lent_views import lend_read_only
from .._sanitizer import activation as sanitizer_activation
from .._wrappers import Owned, Shared
from ._borrows import explain_value_error
from ._call_arguments import CallArguments
from ._check_source import (
    BOUND,
    MAYBE,
    UNBOUND,
    SourceWriter,
    UnsupportedError,
    axis_names,
    supported_slot,
    write_array_check,
)
from ._checker import Checker
from ._messages import borrow_written
from ._slots import NO_VALUE, Slot

#: Set to False to decorate with the general path only (the tests compare the two).
enabled: bool = True

#: The line a failing argument check runs: the general path takes the call and raises the error.
_FAIL: Final = "return general(args, kwargs)"


def compile_fast_call(checker: Checker) -> Callable[..., Any] | None:
    """The generated ``(*args, **kwargs)`` call path of ``checker``'s function, or None when its
    signature needs the general path."""
    if not enabled or checker.exhaustive:
        return None
    if checker.slots is None:
        return _compiled_at_first_call(checker)
    if checker.var_positional is not None or checker.var_keyword is not None:
        return None
    if checker.needs_arguments:
        return None  # f-string axes read the call's arguments by name: the general path binds them
    try:
        return _Generator(checker, checker.slots).generate()
    except UnsupportedError:
        return None


def _compiled_at_first_call(checker: Checker) -> Callable[..., Any]:
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


def _general_call(checker: Checker) -> Callable[..., Any]:
    call = checker.call

    def general_function(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return call(args, kwargs)

    return general_function


class _Generator:
    """Writes one signature's call path, in the order of the code it writes."""

    def __init__(self, checker: Checker, slots: tuple[Slot, ...]) -> None:
        for slot in slots:
            supported_slot(slot)
        return_slot = checker.return_slot
        self.owned_return = return_slot is not None and return_slot.kind == OWNED
        if return_slot is not None and not self.owned_return:
            supported_slot(return_slot)
        self.checker = checker
        self.slots = slots
        self.writer = SourceWriter()
        #: ``(tensor local, version local, parameter)`` per tensor borrow.
        self.borrowed: list[tuple[str, str, str]] = []
        #: ``(slot constant, array local)`` per NumPy borrow.
        self.numpy_borrows: list[tuple[str, str]] = []
        #: ``(slot, lent view local, array local)`` per NumPy borrow: the call passes the view.
        self.lent: list[tuple[Slot, str, str]] = []
        #: Which axes the arguments bound (see `_check_source`), once they are all checked.
        self.arguments_state: dict[str, int] = {}

    def generate(self) -> Callable[..., Any]:
        w = self.writer
        w.namespace.update(self._namespace())
        w.line(1, "__tracebackhide__ = True  # pytest opens the traceback at the caller's frame")
        # `in` first: a dict method call would cost more than the rest of these opening lines.
        w.line(
            1, "if '__no_type_check__' in own_attributes and own_attributes['__no_type_check__']:"
        )
        w.line(2, "return function(*args, **kwargs)  # typing.no_type_check applied on top")
        w.line(1, "if sanitizer.active_threads:")
        w.line(2, _FAIL)
        w.line(1, "nargs = len(args)")
        setup_at = len(w.lines)
        for index, slot in enumerate(self.slots):
            self._write_argument(index, slot)
        # Locals that a skipped check may leave unset start as None.
        setup = [f"    {local} = None" for local in w.axes.values()]
        setup += [f"    {tensor} = None" for tensor, _, _ in self.borrowed]
        setup += [f"    {array} = None" for _, array in self.numpy_borrows]
        w.lines[setup_at:setup_at] = setup
        argument_axes = dict(w.axes)
        self.arguments_state = dict(w.state)
        memo = "{" + ", ".join(f"{name!r}: {local}" for name, local in argument_axes.items()) + "}"
        self._write_call(memo)
        for tensor, version, parameter in self.borrowed:
            w.line(1, f"if {tensor} is not None and {tensor}._version != {version}:")
            w.line(2, "raise AliasingError(")
            w.line(
                3,
                f"borrow_written(function, {parameter!r}, {tensor}, 'a torch in-place write'),",
            )
            w.line(3, f"function=function_name(function), parameter={parameter!r}, rule='borrow',")
            w.line(2, ")")
        if self.checker.return_slot is not None:
            self._write_return(self.checker.return_slot, memo, argument_axes)
        w.line(1, "return result")
        return self._compiled()

    def _namespace(self) -> dict[str, object]:
        """The objects the generated code names."""
        checker = self.checker
        return {
            "general": checker.call,
            "function": checker.function,
            "sanitizer": sanitizer_activation,
            "Shared": Shared,
            "lend_read_only": lend_read_only,
            "on_value_error": _on_value_error(checker.function),
            "AliasingError": AliasingError,
            "borrow_written": borrow_written,
            "function_name": function_name,
            "return_failed": _return_failed(checker),
            "arguments_memory": checker.check_exclusivity,
            "owned_return_is_fresh": _owned_return_is_fresh(checker),
            "Owned": Owned,
            "SKIP": NO_VALUE,
        }

    def _write_argument(self, index: int, slot: Slot) -> None:
        """Read one argument (or its default) into ``value``, and check it."""
        w = self.writer
        conditional = self._write_value_of(slot)
        depth = 1
        if conditional:
            tests: list[str] = []
            checker = self.checker
            if slot.name not in checker.checked_defaults and slot.name in checker.defaults:
                tests.append("value is not SKIP")
            if slot.optional:
                tests.append("value is not None")
            w.line(1, f"if {' and '.join(tests)}:")
            depth = 2
        before = dict(w.state)
        if slot.kind == ARRAY:
            assert slot.spec is not None
            write_array_check(w, depth, slot.spec, "value", _FAIL)
        elif slot.kind == OTHER:
            cls = w.constant("class", plain_class(slot.hint))
            w.line(depth, f"if not isinstance(value, {cls}):")
            w.line(depth + 1, _FAIL)
        else:  # SHARED
            self._write_borrow(index, slot, depth)
        if conditional:
            for name, state in w.state.items():
                if before.get(name, UNBOUND) != BOUND and state == BOUND:
                    w.state[name] = MAYBE

    def _write_value_of(self, slot: Slot) -> bool:
        """Whether the argument's check is skipped for some calls (None, or an unchecked default)."""
        w = self.writer
        checker = self.checker
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
                raise UnsupportedError  # an omitted positional-only borrow: see callee_arguments
        elif slot.name in checker.defaults:  # a None default: not checked
            w.line(1, missing)
            w.line(2, "value = SKIP")
            conditional = True
        else:
            w.line(1, missing)
            w.line(2, _FAIL)  # missing: the function's own call reports that
        return conditional

    def _write_borrow(self, index: int, slot: Slot, depth: int) -> None:
        """A ``Shared`` argument: its kind, its value's checks, and what the borrow takes."""
        w = self.writer
        assert slot.spec is not None
        # type(), not isinstance(): an object can fake __class__; subclasses go the long way.
        w.line(depth, "if (kind := type(value)) is not Shared and kind is not Owned:")
        w.line(depth + 1, _FAIL)
        w.line(depth, "inner = value._value")
        tensor_local, version_local = f"tensor{index}", f"version{index}"
        array_local = f"array{index}"
        slot_constant = w.constant("slot", slot)

        def on_tensor(inner_depth: int) -> None:
            w.line(inner_depth, f"{tensor_local} = inner")
            w.line(inner_depth, f"{version_local} = inner._version")
            self.borrowed.append((tensor_local, version_local, slot.name))

        def on_array(inner_depth: int) -> None:
            self._write_lent_view(inner_depth, slot, array_local)
            self.numpy_borrows.append((slot_constant, array_local))

        write_array_check(w, depth, slot.spec, "inner", _FAIL, on_tensor, on_array)

    def _write_lent_view(self, depth: int, slot: Slot, array_local: str) -> None:
        """Take the read-only view a NumPy borrow is lent as; the call passes it in its place."""
        w = self.writer
        assert slot.spec is not None
        # The lent view kept for this wrapper (see _lent_views), read inline. One kept while the
        # array was writable still serves if it no longer is: read-only either way, over the same
        # memory. `shape` is the array's, read by its shape check; the same dtype object is the
        # common case, and cheaper to see than equal dtypes.
        shape = "shape" if slot.spec.prefix is not None else "inner.shape"
        w.line(depth, "try:")
        w.line(depth + 1, "kept = value._lent")
        w.line(depth, "except AttributeError:")
        w.line(depth + 1, "kept = None")
        w.line(depth, "if kept is not None and (")
        w.line(depth + 2, f"(root := kept[0]).shape == {shape}")
        w.line(depth + 2, "and root.strides == inner.strides")
        w.line(depth + 2, "and (")
        w.line(depth + 3, "(root_dtype := root.dtype) is (inner_dtype := inner.dtype)")
        w.line(depth + 3, "or root_dtype == inner_dtype")
        w.line(depth + 2, ")")
        w.line(depth, "):")
        w.line(depth + 1, "lent = kept[1]")
        w.line(depth, "else:")
        w.line(depth + 1, "lent = lend_read_only(value, inner)")
        w.line(depth + 1, "if lent is None:")
        w.line(depth + 2, _FAIL)
        w.line(depth, f"{array_local} = inner")
        lent_local = f"lent_{array_local}"
        w.line(depth, f"{lent_local} = lent")
        self.lent.append((slot, lent_local, array_local))

    def _write_call(self, memo: str) -> None:
        """The call itself, under jaxtyping's memo."""
        w = self.writer
        if self.owned_return:
            # The memory of every argument and default, for the freshness rule (as the general
            # path collects it: before the call, from the values as passed).
            w.line(1, "memories = arguments_memory(args, kwargs, [], [])")
        direct = self._direct_arguments()
        if self.lent:
            self._write_replaced_arguments(direct is not None)
        # The call's bindings become jaxtyping's memo while the body runs, as in the general path,
        # so that isinstance() in the body sees them. jaxtyping keeps its memo stack on a
        # thread-local, imported now if nothing has yet: the body may import jaxtyping later.
        w.namespace["jaxtyping_local"] = shape_storage()
        maybe_unbound = any(state != BOUND for state in w.state.values())
        pushed = memo
        if maybe_unbound:
            pushed = "{name: size for name, size in " + memo + ".items() if size is not None}"
        w.line(1, "try:")
        w.line(2, "stack = jaxtyping_local.memo_stack")
        w.line(1, "except AttributeError:")
        w.line(2, "stack = jaxtyping_local.memo_stack = []")
        w.line(1, f"pushed = {pushed}")
        # The arguments entry binds them only if an f-string axis in the body reads them; one
        # per function serves every call (see _call_arguments, and _compiled for its frames).
        w.line(1, "stack.append((pushed, {}, {}, call_arguments))")
        w.line(1, "depth = len(stack)")
        if self._return_reads_body_bindings():
            # isinstance() in the body adds to this very dict: its length then tells if it did.
            w.line(1, "bound_before = len(pushed)")
        w.line(1, "try:")
        # A call with an empty ``**kwargs`` costs three times one without; one that passes its
        # arguments by name costs less again.
        if self.lent:
            if direct is not None:
                w.line(2, "if direct:")
                w.line(3, f"result = function({direct})")
                w.line(2, "elif call_kwargs:")
            else:
                w.line(2, "if call_kwargs:")
            w.line(3, "result = function(*call_args, **call_kwargs)")
            w.line(2, "else:")
            w.line(3, "result = function(*call_args)")
        else:
            w.line(2, "if kwargs:")
            w.line(3, "result = function(*args, **kwargs)")
            w.line(2, "else:")
            w.line(3, "result = function(*args)")
        w.line(1, "except ValueError as error:")
        borrows = ", ".join(
            f"({slot_constant}, {array})" for slot_constant, array in self.numpy_borrows
        )
        w.line(2, f"on_value_error(error, ({borrows}{',' if self.numpy_borrows else ''}))")
        w.line(2, "raise")
        w.line(1, "finally:")
        if self._return_reads_body_bindings():
            # Ours, and whatever a body left above it; jaxtyping may have replaced ours with a
            # copy.
            w.line(2, "body_memo = stack[depth - 1][0] if len(stack) >= depth else pushed")
        w.line(2, "del stack[depth - 1 :]")

    def _direct_arguments(self) -> str | None:
        """The argument list of a call that passed every positional parameter and no keyword,
        with the lent views in their places; None where some lent view is keyword-only."""
        if any(slot.position is None for slot, _, _ in self.lent):
            return None
        by_position = {slot.position: (lent, array) for slot, lent, array in self.lent}
        direct: list[str] = []
        for position in range(len(self.checker.positional_names)):
            if position not in by_position:
                direct.append(f"args[{position}]")
                continue
            lent, array = by_position[position]
            # A borrow passed as None, or as a tensor where arrays and tensors are both allowed,
            # took no view: it is passed on as it came.
            direct.append(f"{lent} if {array} is not None else args[{position}]")
        return ", ".join(direct)

    def _write_replaced_arguments(self, has_direct: bool) -> None:
        """``call_args`` and ``call_kwargs``: the arguments with the lent views in their places.

        With ``has_direct``, a call that passed every positional parameter and no keyword skips
        this: ``direct`` tells it to pass the views by position.
        """
        w = self.writer
        depth = 1
        if has_direct:
            w.line(1, f"direct = nargs == {len(self.checker.positional_names)} and not kwargs")
            w.line(1, "if not direct:")
            depth = 2
        w.line(depth, "new_args = None")
        w.line(depth, "new_kwargs = None")
        for slot, lent, array in self.lent:
            w.line(depth, f"if {array} is not None:")
            inner = depth + 1
            if slot.position is not None:
                w.line(inner, f"if nargs > {slot.position}:")
                w.line(inner + 1, "if new_args is None:")
                w.line(inner + 2, "new_args = list(args)")
                w.line(inner + 1, f"new_args[{slot.position}] = {lent}")
                w.line(inner, "else:")
                inner += 1
            w.line(inner, "if new_kwargs is None:")
            w.line(inner + 1, "new_kwargs = dict(kwargs)")
            w.line(inner, f"new_kwargs[{slot.name!r}] = {lent}")
        w.line(depth, "call_args = args if new_args is None else tuple(new_args)")
        w.line(depth, "call_kwargs = kwargs if new_kwargs is None else new_kwargs")

    def _return_reads_body_bindings(self) -> bool:
        """Whether the return names an axis no argument surely bound: an isinstance() in the body
        may bind it, and the return check then reads the body's memo."""
        return_slot = self.checker.return_slot
        if return_slot is None:
            return False
        bound = {name for name, state in self.arguments_state.items() if state == BOUND}
        return not axis_names(return_slot.spec) <= bound

    def _write_return(self, return_slot: Slot, memo: str, argument_axes: dict[str, str]) -> None:
        """The return's checks; a failing one hands the result to the general return check."""
        w = self.writer
        memories = "memories" if self.owned_return else "None"
        return_fail = f"return return_failed(result, args, kwargs, {memo}, {memories})"
        # An isinstance() in the body may bind axes the return names and no argument bound:
        # then the general return check reads them.
        assert return_slot.spec is not None or return_slot.kind == OTHER
        if self._return_reads_body_bindings():
            w.line(1, "if len(body_memo) != bound_before:")
            w.line(2, f"return return_failed(result, args, kwargs, body_memo, {memories})")
        # The return's axes get locals of their own, so that the memo handed to the general path
        # on failure is the one the arguments left; one an optional argument may have bound
        # starts from that argument's value.
        w.phase = "return"
        bound_axes = {name: w.axes[name] for name, state in w.state.items() if state == BOUND}
        maybe_axes = [name for name, state in w.state.items() if state == MAYBE]
        w.axes = bound_axes
        for name in maybe_axes:
            w.line(1, f"{w.axis(name)} = {argument_axes[name]}")
        depth = 1
        if return_slot.optional:
            w.line(1, "if result is not None:")
            depth = 2
        if return_slot.kind == ARRAY:
            assert return_slot.spec is not None
            write_array_check(w, depth, return_slot.spec, "result", return_fail)
        elif return_slot.kind == OTHER:
            cls = w.constant("class", plain_class(return_slot.hint))
            w.line(depth, f"if not isinstance(result, {cls}):")
            w.line(depth + 1, return_fail)
        else:
            assert return_slot.spec is not None
            kind_test = (
                "type(result) is not Owned"
                if self.owned_return
                else "(kind := type(result)) is not Shared and kind is not Owned"
            )
            w.line(depth, f"if {kind_test}:")
            w.line(depth + 1, return_fail)
            w.line(depth, "inner = result._value")
            write_array_check(w, depth, return_slot.spec, "inner", return_fail)
            if self.owned_return:
                w.line(depth, "owned_return_is_fresh(result, inner, memories)")
        w.line(depth, "pass")

    def _compiled(self) -> Callable[..., Any]:
        w = self.writer
        source = "def checked_function(*args, **kwargs):\n" + "\n".join(w.lines) + "\n"
        code = compile(source, f"<aliasguard.checked {self.checker.function.__qualname__}>", "exec")
        exec(code, w.namespace)  # our own generated source, from the compiled signature
        generated = typing.cast("Callable[..., Any]", w.namespace["checked_function"])
        w.namespace["own_attributes"] = generated.__dict__  # where typing.no_type_check marks it
        w.namespace["call_arguments"] = CallArguments(
            generated.__code__, self.checker.bind_arguments
        )
        return generated


def _on_value_error(
    function: Callable[..., Any],
) -> Callable[[ValueError, tuple[tuple[Slot, object], ...]], None]:
    """The general path's handling of a ``ValueError`` from the callee (the caller re-raises)."""

    def on_value_error(error: ValueError, numpy_borrows: tuple[tuple[Slot, object], ...]) -> None:
        lent = [(slot, array) for slot, array in numpy_borrows if array is not None]
        explain_value_error(function, error, lent)

    return on_value_error


def _owned_return_is_fresh(
    checker: Checker,
) -> Callable[[object, object, list[tuple[str, object]]], None]:
    """The general path's freshness rule for an ``Owned`` return that passed its annotation."""

    def owned_return_is_fresh(
        result: object, inner: object, memories: list[tuple[str, object]]
    ) -> None:
        checker.check_fresh(result, inner, memories, [])  # no argument was moved in

    return owned_return_is_fresh


def _return_failed(
    checker: Checker,
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
        assert checker.slots is not None
        values = checker.passed_values(checker.slots, args, kwargs)
        bound = {name: size for name, size in memo.items() if size is not None}
        checker.check_return(result, bound, values, arguments_memory=memories or [], moves=[])
        return result  # the general path accepts it after all

    return return_failed
