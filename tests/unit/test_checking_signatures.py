"""@checked on every shape of signature: variadic parameters, defaults, methods of every binding,
annotations that name things defined later, recursion and threads.

The aliasing rules themselves are tested in test_checking.py; here the question is whether each
argument reaches them at all, and whether what cannot be checked is refused at decoration.
"""

# jaxtyping shape strings are not forward references: pyflakes reads "n" as an undefined name.
# ruff: noqa: F821

import functools
import threading
import typing
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import torch
from jaxtyping import Float
from torch import Tensor

from aliasguard import AliasingError, AnnotationError, Owned, Shared, checked, own, share

Vector = Float[Tensor, "n"]


def lent(*shape: int) -> Shared[Tensor]:
    return share(np.ones(shape, dtype=np.float32))


def fresh(*shape: int) -> Owned[Tensor]:
    return own(np.ones(shape, dtype=np.float32))


# ----------------------------------------------------------------------------------------------
# *args, **kwargs and defaults reach the rules


@checked
def count(*values: Shared[Vector]) -> int:
    return len(values)


@checked
def write_first(*values: Shared[Vector]) -> None:
    values[0].value.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]


@checked
def write_named(**values: Shared[Vector]) -> None:
    values["first"].value.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]


def test_each_extra_positional_argument_is_checked_against_the_star_annotation() -> None:
    assert count(lent(3), lent(3)) == 2
    with pytest.raises(AnnotationError, match=r"parameter 'values\[1\]' breaks the kind rule"):
        count(lent(3), cast_any(torch.ones(3)))
    with pytest.raises(AnnotationError, match=r"'values\[1\]' breaks the shape rule"):
        count(lent(3), lent(4))  # one axis memo across all of them


@pytest.mark.aliasguard_unsanitized  # @checked's own borrow rule is under test
def test_extra_arguments_are_borrows_like_named_ones() -> None:
    with pytest.raises(AliasingError, match=r"parameter 'values\[0\]' \(borrow rule\)"):
        write_first(lent(3))
    with pytest.raises(AliasingError, match=r"parameter 'first' \(borrow rule\)"):
        write_named(first=lent(3))


DEFAULT = Shared(np.zeros(3, dtype=np.float32))


@checked
def write_default(value: Shared[Float[np.ndarray, "n"]] = DEFAULT) -> None:
    value.value[0] = 5  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]  # NumPy refuses: the default is lent as a read-only view, like any borrow


@pytest.mark.aliasguard_unsanitized  # @checked's own borrow rule is under test
def test_a_default_is_lent_to_every_call_and_checked_like_a_passed_value() -> None:
    with pytest.raises(AliasingError, match="borrow rule"):
        write_default()
    assert DEFAULT.value.tolist() == [0.0, 0.0, 0.0]


def test_an_owned_parameter_cannot_have_a_default() -> None:
    def consume(value: Owned[Vector] = fresh(3)) -> None:  # noqa: B008  # the bug under test
        del value

    with pytest.raises(TypeError, match=r"parameter 'value' is Owned but has a default value"):
        checked(consume)


def cast_any(value: object) -> Any:
    return value


# ----------------------------------------------------------------------------------------------
# Methods, forward references, and what is refused


class Node:
    """Its method names the class itself, which does not exist yet while the class body runs."""

    @checked
    def merge(self, other: "Node", weights: Shared[Vector]) -> "Node":
        del weights
        return other


@checked
def defined_later(value: "LaterClass") -> int:
    del value
    return 1


class LaterClass:
    pass


def test_annotations_naming_later_definitions_resolve_at_the_first_call() -> None:
    assert isinstance(Node().merge(Node(), lent(2)), Node)
    with pytest.raises(AnnotationError, match="breaks the type rule"):
        Node().merge(cast_any(3), lent(2))
    assert defined_later(LaterClass()) == 1


def _sibling_classes() -> tuple[type, Any]:
    class Box:
        pass

    class Holder:
        @checked
        def keep(self, box: "Box") -> "Box":  # a sibling local class, from a method
            return box

    return Box, Holder()


def _class_of_an_enclosing_function() -> tuple[type, Any]:
    class Box:
        pass

    def inner() -> Any:
        @checked
        def keep(box: "Box") -> "Box":  # Box is local to the function around inner()
            return box

        return keep

    return Box, inner()


@pytest.mark.parametrize("made", [_sibling_classes, _class_of_an_enclosing_function])
def test_string_annotations_resolve_in_every_scope_around_the_definition(
    made: Callable[[], tuple[type, Any]],
) -> None:
    box_class, decorated = made()
    keep = decorated.keep if hasattr(decorated, "keep") else decorated
    box = box_class()
    assert keep(box) is box
    with pytest.raises(AnnotationError, match="breaks the type rule"):
        keep(1)


class Shadowed:
    """A module-level class that a function-local class of the same name shadows."""


def test_a_local_class_shadows_a_module_level_one_of_the_same_name() -> None:
    class Shadowed:  # the annotation below names this one, as Python's scoping does
        pass

    @checked
    def takes(x: "Shadowed") -> int:
        return 1

    assert takes(cast_any(Shadowed())) == 1  # checkers read the string as the module's class
    with pytest.raises(AnnotationError, match="breaks the type rule"):
        takes(cast_any(globals()["Shadowed"]()))


def test_a_method_of_a_local_class_may_name_its_own_class() -> None:
    class Point:  # does not exist yet while its methods are decorated
        @checked
        def plus(self, other: "Point") -> "Point":
            return other

        @classmethod
        @checked
        def copy_of(cls, other: "Point") -> "Point":
            return other

    point = Point()
    assert point.plus(point) is point
    assert Point.copy_of(point) is point
    with pytest.raises(AnnotationError, match="breaks the type rule"):
        point.plus(cast_any(3))


def test_a_callers_local_of_the_same_name_is_not_taken() -> None:
    class Box:  # the caller's, not a scope around the definition
        pass

    def make() -> Any:
        def keep(box: "Box") -> None:
            del box

        keep.__qualname__ = "elsewhere.keep"  # defined, as far as scopes go, somewhere else
        return checked(keep)

    decorated = make()  # this frame calls make() and holds a Box, but is no scope of keep's
    with pytest.raises(TypeError, match=r"cannot resolve the annotations .*'Box' is not defined"):
        decorated(Box())


def test_a_local_class_defined_after_decorating_is_reported_with_its_fix() -> None:
    def make() -> Any:
        @checked
        def takes(x: "Later") -> None:
            del x

        class Later:
            pass

        return takes, Later

    takes, later = make()
    with pytest.raises(TypeError, match=r"define the class before the function that names it"):
        takes(later())


def test_a_name_that_never_appears_is_reported_at_the_call() -> None:
    def orphan(value: Any) -> None:
        del value

    orphan.__annotations__ = {"value": "NeverDefined", "return": None}
    checked_orphan = checked(orphan)
    with pytest.raises(
        TypeError, match=r"cannot resolve the annotations of .*orphan\(\) \(NameError"
    ):
        checked_orphan(1)


class Methods:
    @checked
    @staticmethod
    def static(value: Shared[Vector]) -> int:
        return value.value.shape[0]

    @checked
    @classmethod
    def of_class(cls, value: Shared[Vector]) -> str:
        return f"{cls.__name__}:{value.value.shape[0]}"


def test_static_and_class_methods_keep_their_binding() -> None:
    assert Methods().static(lent(3)) == 3
    assert Methods.static(lent(4)) == 4
    assert Methods.of_class(lent(2)) == "Methods:2"
    with pytest.raises(AnnotationError, match="kind rule"):
        Methods.static(cast_any(torch.ones(3)))


@pytest.mark.parametrize(
    "target",
    [type("Pipeline", (), {}), 5, functools.partial(print, 1)],
    ids=["class", "int", "partial"],
)
def test_what_is_not_a_function_is_refused_at_decoration(target: object) -> None:
    with pytest.raises(TypeError, match=r"^@checked decorates functions and methods, got an? "):
        checked(cast_any(target))


@pytest.mark.parametrize(
    ("annotation", "error", "verb"),
    [
        ("np.nonexistent", "AttributeError", "evaluate"),
        ("1 +", "SyntaxError", "read"),
        ("{'a': int}['b']", "KeyError", "evaluate"),
        ("1 / 0", "ZeroDivisionError", "evaluate"),
    ],
)
def test_broken_annotations_are_reported_at_decoration(
    annotation: str, error: str, verb: str
) -> None:
    def function(value: Any) -> None:
        del value

    function.__annotations__ = {"value": annotation}
    with pytest.raises(TypeError, match=rf"^@checked cannot {verb} the annotations .*\({error}: "):
        checked(function)


# ----------------------------------------------------------------------------------------------
# Annotation forms


@checked
def float32_only(value: npt.NDArray[np.float32]) -> int:
    return value.size


@checked
def any_payload(value: Shared[Any]) -> str:
    return type(value.value).__name__


def test_ndarray_annotations_check_their_dtype() -> None:
    assert float32_only(np.ones(3, dtype=np.float32)) == 3
    with pytest.raises(AnnotationError, match="breaks the dtype rule: got an int64 ndarray"):
        float32_only(cast_any(np.ones(3, dtype=np.int64)))


def test_shared_any_accepts_any_array_or_tensor() -> None:
    assert any_payload(lent(2)) == "Tensor"
    assert any_payload(share(torch.ones(2))) == "ndarray"


@checked
def at_most_two(
    values: Shared[Float[Tensor, "n"]], head: Shared[Float[Tensor, "min(n,2)"]]
) -> None:
    del values, head


@checked
def per_group(
    values: Shared[Float[Tensor, "m"]],
    groups: Shared[Float[Tensor, "k"]],
    per: Shared[Float[Tensor, "m//k"]],
) -> None:
    del values, groups, per


def test_symbolic_axes_may_call_min_and_max_and_report_their_own_failures() -> None:
    at_most_two(lent(5), lent(2))
    with pytest.raises(AnnotationError, match=r"axis min\(n,2\) is 3 here but evaluates to 2"):
        at_most_two(lent(5), lent(3))
    with pytest.raises(AnnotationError, match=r"cannot be evaluated \(ZeroDivisionError"):
        per_group(lent(4), lent(0), lent(2))


# ----------------------------------------------------------------------------------------------
# Calls that overlap in time: recursion and threads


@checked
def countdown(steps: int) -> Owned[Float[Tensor, "3"]]:
    return Owned(torch.zeros(3)) if steps == 0 else countdown(steps - 1)


BUFFER = torch.zeros(3)


@checked
def same_buffer() -> Owned[Float[Tensor, "3"]]:
    return Owned(BUFFER)


def test_a_recursive_call_may_hand_on_what_its_inner_call_returned() -> None:
    assert torch.equal(countdown(4).value, torch.zeros(3))


def test_a_buffer_returned_by_two_calls_in_turn_is_still_refused() -> None:
    first = same_buffer()
    with pytest.raises(AliasingError, match="returned earlier, which is still alive"):
        same_buffer()
    del first


@checked
def add(
    left: Shared[Float[Tensor, "n c"]], right: Shared[Float[Tensor, "n c"]]
) -> Owned[Float[Tensor, "n c"]]:
    return Owned(left.value + right.value)


def test_threads_calling_one_function_with_different_shapes_never_interfere() -> None:
    errors: list[BaseException] = []

    def work(rows: int) -> None:
        try:
            for _ in range(200):
                assert add(lent(rows, 2), lent(rows, 2)).value.shape == (rows, 2)
        except BaseException as error:  # reported below, in the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(rows,)) for rows in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@checked
def moved_then_mismatched(value: Owned[Vector], other: Shared[Vector]) -> None:
    del value, other


def test_axis_bindings_in_a_message_come_from_the_failing_call() -> None:
    moved_then_mismatched(fresh(3), lent(3))
    with pytest.raises(AnnotationError) as caught:
        moved_then_mismatched(fresh(5), lent(4))
    assert "n=5 (from 'value')" in str(caught.value)


@checked
def raises_its_own(value: Shared[Float[np.ndarray, "n"]]) -> None:
    del value
    raise ValueError("config is read-only")


def test_a_functions_own_value_error_is_not_taken_for_a_numpy_borrow_write() -> None:
    with pytest.raises(ValueError, match=r"^config is read-only$"):
        raises_its_own(share(torch.ones(3)))


def test_typing_any_is_what_the_module_means() -> None:
    assert typing.Any is Any


def _sort(a: npt.NDArray[np.float32]) -> None:
    a.sort()


def _put(a: npt.NDArray[np.float32]) -> None:
    a.put(0, 1.0)


def _shuffle(a: npt.NDArray[np.float32]) -> None:
    np.random.default_rng(0).shuffle(a)


def _assign(a: npt.NDArray[np.float32]) -> None:
    a[0] = 1.0


def _add_into(a: npt.NDArray[np.float32]) -> None:
    np.add(a, 1, out=a)


@pytest.mark.parametrize("write", [_sort, _put, _shuffle, _assign, _add_into])
def test_every_numpy_refusal_of_a_borrowed_array_is_a_borrow_violation(
    write: Callable[[npt.NDArray[np.float32]], None],
) -> None:
    @checked
    def writer(value: Shared[Float[np.ndarray, "n"]]) -> None:
        write(value.value)

    source = np.array([3.0, 1.0, 2.0], dtype=np.float32)
    with pytest.raises(AliasingError, match="borrow rule"):
        writer(Shared(source))
    assert source.tolist() == [3.0, 1.0, 2.0]


POSITIONAL_DEFAULT = Shared(np.zeros(3, dtype=np.float32))


@checked
def positional_only_default(
    scale: float = 1.0, value: Shared[Float[np.ndarray, "n"]] = POSITIONAL_DEFAULT, /
) -> float:
    return scale * float(value.value.sum())


def test_an_omitted_positional_only_default_is_lent_by_position() -> None:
    assert positional_only_default() == 0.0
    assert positional_only_default(2.0) == 0.0


@checked
def keywords_only_in_kwargs(value: Shared[Vector], /, **extra: Shared[Vector]) -> list[str]:
    del value
    return sorted(extra)


def test_a_keyword_named_like_a_positional_only_parameter_is_a_kwargs_value() -> None:
    assert keywords_only_in_kwargs(lent(2), value=lent(2)) == ["value"]
    with pytest.raises(AnnotationError, match="parameter 'value' breaks the kind rule"):
        keywords_only_in_kwargs(lent(2), value=cast_any(torch.ones(2)))


HELD: list[object] = []


@checked
def hands_out_twice(steps: int) -> Owned[Float[Tensor, "3"]]:
    if steps:
        HELD.append(hands_out_twice(steps - 1))  # the inner handle stays alive
    return Owned(BUFFER)


def test_recursion_that_keeps_the_inner_result_cannot_hand_its_memory_out_again() -> None:
    try:
        with pytest.raises(AliasingError, match="returned earlier, which is still alive"):
            hands_out_twice(1)
    finally:
        HELD.clear()


def test_another_threads_return_during_a_call_is_a_second_handout() -> None:
    entered, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    @checked
    def slow_buffer(wait: bool) -> Owned[Float[Tensor, "3"]]:
        if wait:
            entered.set()
            release.wait(timeout=30)
        return Owned(BUFFER)

    def in_thread() -> None:
        try:
            slow_buffer(True)
        except AliasingError as error:
            errors.append(error)

    thread = threading.Thread(target=in_thread)
    thread.start()
    assert entered.wait(timeout=30)
    kept = slow_buffer(False)  # returned while the thread's call is under way
    release.set()
    thread.join()
    assert len(errors) == 1
    del kept


@checked
def either_library(
    value: Shared[Float[Tensor, "n"] | Float[np.ndarray, "n"]], other: Shared[Vector]
) -> None:
    del value, other


def test_a_union_payload_binds_the_axes_of_the_member_it_matches() -> None:
    either_library(lent(3), lent(3))
    either_library(share(torch.ones(3)), lent(3))
    with pytest.raises(AnnotationError) as caught:
        either_library(share(torch.ones(3)), lent(4))
    assert "axis n is 4 here but 3 elsewhere" in str(caught.value)
    assert "n=3 (from 'value')" in str(caught.value)


def test_a_union_payload_reports_the_dtype_of_the_members_own_library() -> None:
    with pytest.raises(
        AnnotationError, match=r"'value' breaks the dtype rule: got an int64 Tensor"
    ):
        either_library(share(np.ones(3, dtype=np.int64)), lent(3))
