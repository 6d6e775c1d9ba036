"""`@checked`: a catalogue of buggy pipeline functions, each caught with the right error.

Every function below is a bug someone writes: a transform that writes into its borrowed input, a
"copy" that is the input itself, two handles on one buffer, a handle used after it was moved, a
tensor of the wrong dtype or shape. Each row of the catalogue states the exact error: its class, its
``rule`` and ``parameter`` fields, and what its first line must say (the function, the parameter,
the rule, dtype and shape), and never what it must say (the data: every input holds `SENTINEL`).

Then the same contract on realistic pipelines taken from the bugs users hit (torchvision #680,
adversarial-robustness-toolbox #2262, dm_control #34), the writes that only ``exhaustive=True``
sees, what is accepted (broadcast axes, ``...``, methods, keywords, defaults), and
``ALIASGUARD_DISABLE``.
"""

# jaxtyping shape strings are not forward references: pyflakes reads "n" as an undefined name.
# ruff: noqa: F821

import ctypes
import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import jaxtyping
import numpy as np
import numpy.typing as npt
import pytest
import torch
from beartype import beartype
from jaxtyping import Float, Float32, Int64
from torch import Tensor
from torch.nn import functional

import aliasguard
from aliasguard import AliasingError, AnnotationError, Owned, Shared, checked, own, share

#: Every input holds this value, so a message that prints data shows a run of four digits.
SENTINEL = 4242.0


def tensor(*shape: int, dtype: torch.dtype = torch.float32) -> Tensor:
    return torch.full(shape, SENTINEL, dtype=dtype)


def array(*shape: int) -> npt.NDArray[np.float32]:
    return np.full(shape, SENTINEL, dtype=np.float32)


def from_numpy(value: npt.NDArray[Any]) -> Tensor:
    """``torch.from_numpy`` with a typed parameter (torch's stub leaves it unannotated)."""
    return torch.from_numpy(value)  # pyright: ignore[reportUnknownMemberType]


def listed(value: Tensor) -> list[Any]:
    """``value.tolist()``, typed (torch's stub leaves the list's items unknown)."""
    return value.tolist()  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]


def unchecked(value: object) -> Any:
    """Hand a deliberately wrong value past the static checkers, to reach the run-time check."""
    return value


def first_line(error: BaseException) -> str:
    return str(error).splitlines()[0]


def assert_no_data(message: str) -> None:
    """The message shows no element values: every input holds `SENTINEL` (four digits or more)."""
    assert re.search(r"\d{4}", message) is None, message


# ----------------------------------------------------------------------------------------------
# The catalogue: borrow (writes into a Shared argument through torch)


@checked
def center_in_place(x: Shared[Float[Tensor, "b c"]]) -> Owned[Float[Tensor, "b c"]]:
    x.value.add_(-x.value.mean())  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]  # bug: add_ writes into the caller's tensor
    return Owned(x.value.clone())


@checked
def rescale_in_place(x: Shared[Float[Tensor, "b c"]], factor: float) -> None:
    x.value.mul_(factor)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]


@checked
def clip_in_place(pixels: Shared[Float[Tensor, "h w"]]) -> Owned[Float[Tensor, "h w"]]:
    return Owned(pixels.value.clamp_(0.0, 1.0).clone())  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated, reportUnknownArgumentType, reportUnknownMemberType, reportUnknownVariableType]


@checked
def fill_from_template(
    target: Shared[Float[Tensor, "n"]], template: Shared[Float[Tensor, "n"]]
) -> None:
    target.value.copy_(template.value)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]


@checked
def reset_accumulator(accumulator: Shared[Float[Tensor, "n"]]) -> None:
    accumulator.value.zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]


@checked
def add_into(
    a: Shared[Float[Tensor, "n"]], b: Shared[Float[Tensor, "n"]], out: Shared[Float[Tensor, "n"]]
) -> None:
    torch.add(a.value, b.value, out=out.value)


@checked
def mark_first(x: Shared[Float[Tensor, "n"]]) -> None:
    x.value[0] = 1  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]


@checked
def scatter_labels(x: Shared[Float[Tensor, "n"]], index: Int64[Tensor, "k"]) -> None:
    x.value.index_put_((index,), torch.tensor(0.0))  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]


@checked
def scale_tail(x: Shared[Float[Tensor, "n"]]) -> None:
    # a write through a view
    x.value[1:].mul_(2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]


@checked
def bump_flat(x: Shared[Float[Tensor, "b c"]]) -> None:
    # a write through a reshaped view
    x.value.view(-1).add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]


@checked
def relu_in_place(activations: Shared[Float[Tensor, "b c"]]) -> Owned[Float[Tensor, "b c"]]:
    return Owned(functional.relu(activations.value, inplace=True).clone())


# The catalogue: borrow through NumPy (the payload is lent as a read-only view)


@checked
def np_mark_first(x: Shared[Float[np.ndarray, "n"]]) -> None:
    x.value[0] = 1  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]


@checked
def np_add_one_into_itself(x: Shared[Float[np.ndarray, "n"]]) -> None:
    np.add(x.value, 1, out=x.value)


@checked
def np_double(x: Shared[Float[np.ndarray, "n"]]) -> None:
    values = x.value
    values *= 2  # type: ignore[misc]  # pyright: ignore[reportDeprecated]


# The catalogue: freshness (an Owned return that is the input, or a view of it)


@checked
def as_float(x: Shared[Float[Tensor, "n"]]) -> Owned[Float32[Tensor, "n"]]:
    return Owned(x.value.float())  # float32 in: float() returns the input itself


@checked
def make_contiguous(x: Shared[Float[Tensor, "b c"]]) -> Owned[Float[Tensor, "b c"]]:
    return Owned(x.value.contiguous())  # contiguous in: returns the input itself


@checked
def to_host(x: Shared[Float[Tensor, "n"]]) -> Owned[Float[Tensor, "n"]]:
    return Owned(x.value.cpu())  # on the CPU: returns the input itself (the GPU run copies)


@checked
def as_array(x: Float[np.ndarray, "n"]) -> Owned[Float[np.ndarray, "n"]]:
    return Owned(np.asarray(x))


@checked
def as_float32_array(x: Float[np.ndarray, "n"]) -> Owned[Float32[np.ndarray, "n"]]:
    return Owned(x.astype(np.float32, copy=False))


@checked
def echo(x: Shared[Float[Tensor, "n"]]) -> Owned[Float[Tensor, "n"]]:
    return Owned(x.value)  # the caller lent an Owned handle: now two handles own one buffer


# The catalogue: exclusivity (an Owned argument overlaps another argument)


@checked
def merge(a: Owned[Float[Tensor, "n"]], b: Owned[Float[Tensor, "n"]]) -> Owned[Float[Tensor, "n"]]:
    a.value.add_(b.value)
    return a


@checked
def update_from(
    state: Owned[Float[Tensor, "n"]], delta: Shared[Float[Tensor, "m"]]
) -> Owned[Float[Tensor, "n"]]:
    state.value[: delta.value.shape[0]].add_(delta.value)
    return state


@checked
def accumulate(total: Owned[Float[Tensor, "n"]], increment: Float[Tensor, "n"]) -> None:
    total.value.add_(increment)


@checked
def store_array(buffer: Owned[Float[np.ndarray, "n"]], shadow: Shared[Float[Tensor, "n"]]) -> float:
    return float(buffer.value.sum() + shadow.value.sum().item())


# The catalogue: move, kind, library, dtype, shape, type


@checked
def consume(buffer: Owned[Float[Tensor, "n"]]) -> Owned[Float[Tensor, "n"]]:
    buffer.value.mul_(2)  # allowed: the callee owns a moved-in buffer
    return buffer


@checked
def read_borrowed(x: Shared[Float[Tensor, "n"]]) -> float:
    return float(x.value.sum().item())


@checked
def summarize(x: Shared[Float[Tensor, "b c"]]) -> Owned[Float[Tensor, "c"]]:
    return Owned(x.value.sum(0))


@checked
def halve(x: Shared[Float[Tensor, "n"]]) -> Owned[Float32[Tensor, "n"]]:
    return Owned(x.value / 2)  # bug: float64 in, float64 out


@checked
def forgot_wrapper(x: Shared[Float[Tensor, "n"]]) -> Owned[Float[Tensor, "n"]]:
    return cast(
        "Owned[Tensor]", x.value.clone()
    )  # bug: a bare tensor where an Owned one is promised


@checked
def count_labels(labels: Shared[Int64[Tensor, "n"]]) -> int:
    return int(labels.value.sum().item())


@checked
def pair_up(
    x: Shared[Float[Tensor, "b c"]], y: Shared[Float[Tensor, "b c"]]
) -> Owned[Float[Tensor, "b c"]]:
    return Owned(x.value + y.value)


@checked
def project(
    x: Shared[Float[Tensor, "b d"]],
    w: Shared[Float[Tensor, "d k"]],
    bias: Shared[Float[Tensor, "k"]],
) -> Owned[Float[Tensor, "b k"]]:
    return Owned(x.value @ w.value + bias.value)


@checked
def rgb_only(image: Shared[Float[Tensor, "3 h w"]]) -> Owned[Float[Tensor, "h w"]]:
    return Owned(image.value.mean(0))


@checked
def masked_mean(
    x: Shared[Float[Tensor, "*batch c"]], mask: Shared[Float[Tensor, "*batch"]]
) -> Owned[Float[Tensor, "*batch"]]:
    return Owned((x.value * mask.value[..., None]).mean(-1))


@checked
def append_bias(x: Shared[Float[Tensor, "n"]], with_bias: Shared[Float[Tensor, "n+1"]]) -> None:
    del x, with_bias


@checked
def drop_last(x: Shared[Float[Tensor, "n"]]) -> Owned[Float[Tensor, "n"]]:
    return Owned(x.value[:-1].clone())  # bug: the annotation promises n, this returns n-1


@checked
def repeat_rows(x: Shared[Float[Tensor, "n"]], times: int) -> Owned[Float[Tensor, "times n"]]:
    return Owned(x.value.repeat(times, 1))


@checked
def row_count(x: Shared[Float[Tensor, "b c"]]) -> int:
    return cast("int", str(x.value.shape[0]))  # bug: a str where an int is promised


@dataclass(frozen=True)
class Bug:
    """One catalogue row: a buggy call and the exact error it must raise."""

    name: str
    call: Callable[[], object]
    error: type[AliasingError] | type[AnnotationError]
    rule: str
    parameter: str
    function: str  # the qualified name the error reports, without "()"
    fragments: tuple[str, ...] = ()  # text the first line must hold: dtype, shape, expectation


def _shared_and_owned_view() -> object:
    base = tensor(4)
    return update_from(Owned(base), Shared(base[1:]))


def _owned_twice() -> object:
    handle = Owned(tensor(3))
    return merge(handle, handle)


def _owned_and_bare_view() -> object:
    base = tensor(4)
    return accumulate(Owned(base), base[:])


def _owned_array_and_its_tensor() -> object:
    memory = array(3)
    return store_array(Owned(memory), share(memory))


def _moved_twice() -> object:
    handle = Owned(tensor(3))
    consume(handle)
    return consume(handle)


# fmt: off
CATALOGUE: tuple[Bug, ...] = (
    # borrow, torch: the version counter sees every in-place write, through views too
    Bug("add_", lambda: center_in_place(Shared(tensor(2, 3))), AliasingError, "borrow", "x", "center_in_place", ("float32", "(2, 3)", "in-place")),
    Bug("mul_", lambda: rescale_in_place(Shared(tensor(2, 3)), 2.0), AliasingError, "borrow", "x", "rescale_in_place", ("float32", "(2, 3)")),
    Bug("clamp_", lambda: clip_in_place(Shared(tensor(2, 2))), AliasingError, "borrow", "pixels", "clip_in_place", ("float32", "(2, 2)")),
    Bug("copy_", lambda: fill_from_template(Shared(tensor(3)), Shared(torch.zeros(3))), AliasingError, "borrow", "target", "fill_from_template", ("float32", "(3,)")),
    Bug("zero_", lambda: reset_accumulator(Shared(tensor(5))), AliasingError, "borrow", "accumulator", "reset_accumulator", ("float32", "(5,)")),
    Bug("out=", lambda: add_into(Shared(tensor(3)), Shared(tensor(3)), Shared(tensor(3))), AliasingError, "borrow", "out", "add_into", ("float32", "(3,)")),
    Bug("item assignment", lambda: mark_first(Shared(tensor(3))), AliasingError, "borrow", "x", "mark_first", ("float32", "(3,)")),
    Bug("index_put_", lambda: scatter_labels(Shared(tensor(4)), torch.tensor([1, 2])), AliasingError, "borrow", "x", "scatter_labels", ("float32", "(4,)")),
    Bug("view slice mul_", lambda: scale_tail(Shared(tensor(4))), AliasingError, "borrow", "x", "scale_tail", ("float32", "(4,)")),
    Bug("view(-1).add_", lambda: bump_flat(Shared(tensor(2, 3))), AliasingError, "borrow", "x", "bump_flat", ("float32", "(2, 3)")),
    Bug("relu inplace", lambda: relu_in_place(Shared(tensor(2, 3))), AliasingError, "borrow", "activations", "relu_in_place", ("float32", "(2, 3)")),
    Bug("borrowed Owned handle", lambda: rescale_in_place(Owned(tensor(2, 3)), 2.0), AliasingError, "borrow", "x", "rescale_in_place", ("float32",)),
    # borrow, NumPy: the write meets a read-only view before it changes anything
    Bug("numpy item assignment", lambda: np_mark_first(Shared(array(3))), AliasingError, "borrow", "x", "np_mark_first", ("NumPy", "nothing was modified")),
    Bug("numpy out=", lambda: np_add_one_into_itself(Shared(array(3))), AliasingError, "borrow", "x", "np_add_one_into_itself", ("NumPy",)),
    Bug("numpy *=", lambda: np_double(Shared(array(3))), AliasingError, "borrow", "x", "np_double", ("NumPy",)),
    Bug("numpy *= on own()", lambda: np_double(own(tensor(3))), AliasingError, "borrow", "x", "np_double", ("NumPy",)),
    # freshness: the "copy" is the input itself
    Bug("float() on float32", lambda: as_float(Shared(tensor(3))), AliasingError, "freshness", "return", "as_float", ("'x'", "float32", "(3,)", "float()")),
    Bug("contiguous() on contiguous", lambda: make_contiguous(Shared(tensor(2, 3))), AliasingError, "freshness", "return", "make_contiguous", ("'x'", "float32", "(2, 3)")),
    Bug("cpu() on the CPU", lambda: to_host(Shared(tensor(3))), AliasingError, "freshness", "return", "to_host", ("'x'", "float32", "(3,)")),
    Bug("np.asarray", lambda: as_array(array(3)), AliasingError, "freshness", "return", "as_array", ("'x'", "float32", "(3,)")),
    Bug("astype(copy=False)", lambda: as_float32_array(array(3)), AliasingError, "freshness", "return", "as_float32_array", ("'x'", "float32", "(3,)")),
    Bug("Owned lent, returned as Owned", lambda: echo(Owned(tensor(3))), AliasingError, "freshness", "return", "echo", ("'x'", "float32", "(3,)")),
    # exclusivity: an Owned argument must be the only reference to its memory
    Bug("same Owned twice", _owned_twice, AliasingError, "exclusivity", "a", "merge", ("float32", "(3,)")),
    Bug("Owned and a Shared view", _shared_and_owned_view, AliasingError, "exclusivity", "state", "update_from", ("float32", "(4,)")),
    Bug("Owned and a bare view", _owned_and_bare_view, AliasingError, "exclusivity", "total", "accumulate", ("float32", "(4,)")),
    Bug("Owned array and share() of it", _owned_array_and_its_tensor, AliasingError, "exclusivity", "buffer", "store_array", ("float32", "ndarray", "(3,)")),
    # move: the caller's handle died in the first call
    Bug("use after move", _moved_twice, AliasingError, "move", "buffer", "consume", ("moved",)),
    # kind: who owns the memory must be said with a wrapper
    Bug("Shared to an Owned parameter", lambda: consume(unchecked(Shared(tensor(3)))), AnnotationError, "kind", "buffer", "consume", ("Owned[Float[Tensor, 'n']]", "a Shared")),
    Bug("bare tensor to a Shared parameter", lambda: read_borrowed(unchecked(tensor(3))), AnnotationError, "kind", "x", "read_borrowed", ("Shared[Float[Tensor, 'n']]", "float32", "(3,)", "share(x)")),
    Bug("bare tensor returned as Owned", lambda: forgot_wrapper(Shared(tensor(3))), AnnotationError, "kind", "return", "forgot_wrapper", ("return value", "Owned[Float[Tensor, 'n']]", "float32", "(3,)")),
    # library, dtype, shape
    Bug("ndarray for a Tensor", lambda: read_borrowed(unchecked(Shared(array(3)))), AnnotationError, "library", "x", "read_borrowed", ("ndarray", "Float[Tensor, 'n']", "(3,)")),
    Bug("wrong dtype", lambda: count_labels(Shared(tensor(3))), AnnotationError, "dtype", "labels", "count_labels", ("float32", "Int64[Tensor, 'n']", "(3,)")),
    Bug("wrong rank", lambda: read_borrowed(Shared(tensor(2, 3))), AnnotationError, "shape", "x", "read_borrowed", ("(2, 3)", "rank 2", "1 ax")),
    Bug("fixed size", lambda: rgb_only(Shared(tensor(4, 2, 2))), AnnotationError, "shape", "image", "rgb_only", ("(4, 2, 2)", "'3 h w'", "4", "fixes 3")),
    Bug("inconsistent axes", lambda: pair_up(Shared(tensor(2, 3)), Shared(tensor(2, 4))), AnnotationError, "shape", "y", "pair_up", ("(2, 4)", "axis c is 4", "3 elsewhere")),
    Bug("inconsistent axes, third argument", lambda: project(Shared(tensor(2, 3)), Shared(tensor(3, 5)), Shared(tensor(4))), AnnotationError, "shape", "bias", "project", ("(4,)", "axis k is 4", "5 elsewhere")),
    Bug("inconsistent *batch", lambda: masked_mean(Shared(tensor(2, 5, 3)), Shared(tensor(2, 6))), AnnotationError, "shape", "mask", "masked_mean", ("(2, 6)", "*batch", "(2, 5)")),
    Bug("symbolic n+1", lambda: append_bias(Shared(tensor(3)), Shared(tensor(3))), AnnotationError, "shape", "with_bias", "append_bias", ("(3,)", "n+1", "evaluates to 4")),
    Bug("return breaks the bindings", lambda: drop_last(Shared(tensor(3))), AnnotationError, "shape", "return", "drop_last", ("return value", "(2,)", "axis n is 2", "3 elsewhere")),
    Bug("dtype of the return", lambda: halve(Shared(tensor(3, dtype=torch.float64))), AnnotationError, "dtype", "return", "halve", ("return value", "float64", "Float32[Tensor, 'n']")),
    # other annotations: beartype
    Bug("int given a str", lambda: rescale_in_place(Shared(tensor(2, 3)), unchecked("2")), AnnotationError, "type", "factor", "rescale_in_place", ("float", "str")),
    Bug("str returned for int", lambda: row_count(Shared(tensor(2, 3))), AnnotationError, "type", "return", "row_count", ("return value", "int", "str")),
)
# fmt: on


@pytest.mark.parametrize("bug", CATALOGUE, ids=[bug.name for bug in CATALOGUE])
def test_catalogue_bug_is_caught_with_a_useful_first_line(bug: Bug) -> None:
    with pytest.raises(bug.error) as caught:
        bug.call()
    error = caught.value
    assert type(error) is bug.error
    assert (error.function, error.parameter, error.rule) == (
        f"{bug.function}()",
        bug.parameter,
        bug.rule,
    )
    line = first_line(error)
    assert line.startswith(f"{bug.function}()"), line
    assert f"{bug.rule} rule" in line, line
    assert (bug.parameter if bug.parameter == "return" else repr(bug.parameter)) in line, line
    for fragment in bug.fragments:
        assert fragment in line, (fragment, line)
    assert_no_data(str(error))


def test_catalogue_covers_every_rule_with_enough_bugs() -> None:
    assert len(CATALOGUE) >= 25
    rules = {bug.rule for bug in CATALOGUE}
    assert rules == {"borrow", "freshness", "exclusivity", "move", "kind", "library", "dtype", "shape", "type"}  # fmt: skip


def test_annotation_errors_are_type_errors_and_aliasing_errors_are_not() -> None:
    with pytest.raises(TypeError):
        read_borrowed(unchecked(tensor(3)))
    with pytest.raises(AliasingError) as caught:
        mark_first(Shared(tensor(3)))
    assert not isinstance(caught.value, TypeError)


# ----------------------------------------------------------------------------------------------
# What each catalogue error leaves behind


@pytest.mark.aliasguard_unsanitized  # alone, @checked sees torch writes after the fact
def test_torch_borrow_error_reports_after_the_write_and_says_so() -> None:
    x = tensor(3)
    with pytest.raises(AliasingError) as caught:
        mark_first(Shared(x))
    assert listed(x) == [1.0, SENTINEL, SENTINEL]  # the version counter sees writes after the fact
    assert "already been modified" in str(caught.value)


@pytest.mark.aliasguard_unsanitized  # enters sanitize() itself
def test_under_the_sanitizer_the_torch_borrow_error_comes_before_the_write() -> None:
    x = tensor(3)
    with pytest.raises(AliasingError) as caught, aliasguard.sanitize():
        mark_first(Shared(x))
    assert listed(x) == [SENTINEL, SENTINEL, SENTINEL]
    assert caught.value.rule == "borrow"
    assert caught.value.function == "mark_first()"
    assert "Nothing was modified" in str(caught.value)


# Under the sanitizer, Shared(x) locks x while the wrapper lives, and the traceback holds it.
@pytest.mark.aliasguard_unsanitized
@pytest.mark.parametrize("buggy", [np_mark_first, np_add_one_into_itself, np_double])
def test_numpy_borrow_error_fires_before_anything_is_modified(
    buggy: Callable[[Shared[npt.NDArray[Any]]], None],
) -> None:
    x = array(3)
    with pytest.raises(AliasingError) as caught:
        buggy(Shared(x))
    assert caught.value.rule == "borrow"
    assert x.tolist() == [SENTINEL] * 3
    assert x.flags.writeable  # the caller's own array is untouched, flags included


def test_exclusivity_error_leaves_the_handle_valid() -> None:
    handle = Owned(tensor(3))
    with pytest.raises(AliasingError, match="exclusivity"):
        merge(handle, handle)
    assert listed(handle.value) == [SENTINEL] * 3  # nothing moved: the call never started


def test_move_invalidates_the_callers_handle_and_returns_a_valid_one() -> None:
    handle = Owned(tensor(3))
    returned = consume(handle)
    assert returned is not handle
    assert listed(returned.value) == [2 * SENTINEL] * 3
    with pytest.raises(AliasingError, match="moved"):
        _ = handle.value
    assert listed(consume(returned).value) == [4 * SENTINEL] * 3  # the returned handle moves again


def test_moved_handle_lent_as_shared_is_a_move_error() -> None:
    handle = Owned(tensor(3))
    consume(handle)
    with pytest.raises(AliasingError) as caught:
        read_borrowed(handle)
    assert (caught.value.rule, caught.value.parameter) == ("move", "x")


def test_failed_annotation_check_does_not_move_the_handle() -> None:
    handle = Owned(tensor(2, 2))
    with pytest.raises(AnnotationError):
        consume(handle)  # rank 2 for "n"
    assert handle.value.shape == (2, 2)


def test_owned_lent_to_a_shared_parameter_stays_valid() -> None:
    handle = Owned(tensor(3))
    assert read_borrowed(handle) == 3 * SENTINEL
    assert listed(handle.value) == [SENTINEL] * 3


def test_owned_parameter_may_be_written() -> None:
    assert listed(consume(Owned(tensor(2))).value) == [2 * SENTINEL] * 2


# ----------------------------------------------------------------------------------------------
# Views wrapped as Owned: Owned() itself refuses what has a visible base


@checked
def flatten_view(x: Shared[Float[Tensor, "b c"]]) -> Owned[Float[Tensor, "n"]]:
    return Owned(x.value.reshape(-1))  # a view: reshape never copies what it can view


@checked
def borrowed_as_array(x: Shared[Float[np.ndarray, "n"]]) -> Owned[Float[np.ndarray, "n"]]:
    return Owned(np.asarray(x.value))  # the borrowed array is a read-only view: it has a base


@checked
def borrowed_astype(x: Shared[Float[np.ndarray, "n"]]) -> Owned[Float32[np.ndarray, "n"]]:
    return Owned(x.value.astype(np.float32, copy=False))


@pytest.mark.parametrize(
    "call",
    [
        lambda: flatten_view(Shared(tensor(2, 3))),
        lambda: borrowed_as_array(Shared(array(3))),
        lambda: borrowed_astype(Shared(array(3))),
        lambda: borrowed_astype(own(tensor(3))),
    ],
    ids=["reshape", "np.asarray", "astype", "astype of own()"],
)
def test_owned_refuses_a_view_inside_a_checked_function(call: Callable[[], object]) -> None:
    with pytest.raises(AliasingError, match=r"Owned\(\) got a view") as caught:
        call()
    assert "own(" in first_line(caught.value)
    assert_no_data(str(caught.value))


# ----------------------------------------------------------------------------------------------
# Writes only the exhaustive mode sees (a known limit of the version counter, not a bug)


def _through_data(x: Shared[Float[Tensor, "n"]]) -> None:
    # .data has its own version counter
    x.value.data.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]


def _through_numpy_twin(x: Shared[Float[Tensor, "n"]]) -> None:
    from_numpy(x.value.numpy()).add_(1)  # a second tensor over the same memory


def _through_numpy_view(x: Shared[Float[Tensor, "n"]]) -> None:
    x.value.numpy()[0] = 1  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]


def _through_native_code(x: Shared[Float[Tensor, "n"]]) -> None:
    ctypes.memset(
        x.value.data_ptr(), 0, x.value.nbytes
    )  # a C extension writing through the pointer


@pytest.mark.parametrize(
    ("write", "name"),
    [
        (_through_data, "_through_data"),
        (_through_numpy_twin, "_through_numpy_twin"),
        (_through_numpy_view, "_through_numpy_view"),
        (_through_native_code, "_through_native_code"),
    ],
    ids=[".data", "second from_numpy", "numpy view", "native code"],
)
@pytest.mark.aliasguard_unsanitized  # @checked alone; the sanitizer refuses the torch ones first
def test_write_invisible_to_the_version_counter_needs_exhaustive_mode(
    write: Callable[[Shared[Tensor]], None], name: str
) -> None:
    x = tensor(3)
    checked(write)(Shared(x))  # the default mode misses it: documented limit
    assert listed(x) != [SENTINEL] * 3
    y = tensor(3)
    with pytest.raises(AliasingError) as caught:
        checked(exhaustive=True)(write)(Shared(y))
    assert (caught.value.rule, caught.value.parameter) == ("borrow", "x")
    line = first_line(caught.value)
    assert line.startswith(f"{name}()")
    assert "'x'" in line
    assert "(3,)" in line
    assert_no_data(str(caught.value))


def test_exhaustive_mode_accepts_reads_and_still_sees_in_place_writes() -> None:
    @checked(exhaustive=True)
    def total(x: Shared[Float[Tensor, "n"]], y: Shared[Float[np.ndarray, "n"]]) -> float:
        return float(x.value.sum().item() + y.value.sum())

    assert total(Shared(tensor(2)), Shared(array(2))) == 4 * SENTINEL
    with pytest.raises(AliasingError, match="borrow"):
        checked(exhaustive=True)(inspect.unwrap(mark_first))(Shared(tensor(3)))


# ----------------------------------------------------------------------------------------------
# Messages: the first line says what, why and the fix; the bindings line names the argument
# that bound each axis


def test_bindings_line_names_the_argument_that_bound_each_axis() -> None:
    with pytest.raises(AnnotationError) as caught:
        project(Shared(tensor(2, 3)), Shared(tensor(3, 5)), Shared(tensor(4)))
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert "breaks the shape rule" in lines[0]
    assert "; fix: pass a value whose axes agree" in lines[0]
    assert lines[1].strip().startswith("axis bindings:")
    for binding in ("b=2 (from 'x')", "d=3 (from 'x')", "k=5 (from 'w')"):
        assert binding in lines[1]


def test_bindings_line_for_a_return_names_the_argument() -> None:
    with pytest.raises(AnnotationError) as caught:
        drop_last(Shared(tensor(3)))
    assert "n=3 (from 'x')" in str(caught.value).splitlines()[1]


def test_bindings_line_for_variadic_axes() -> None:
    with pytest.raises(AnnotationError) as caught:
        masked_mean(Shared(tensor(2, 5, 3)), Shared(tensor(2, 6)))
    bindings = str(caught.value).splitlines()[1]
    assert "*batch=(2, 5) (from 'x')" in bindings
    assert "c=3 (from 'x')" in bindings


def test_bindings_line_when_nothing_was_bound_yet() -> None:
    with pytest.raises(AnnotationError) as caught:
        rgb_only(Shared(tensor(4, 2, 2)))
    assert "none yet" in str(caught.value).splitlines()[1]


def test_beartype_reason_is_on_the_first_line() -> None:
    with pytest.raises(AnnotationError) as caught:
        repeat_rows(Shared(tensor(3)), unchecked("2"))
    error = caught.value
    assert (error.rule, error.parameter) == ("type", "times")
    line = first_line(error)
    assert line.startswith("repeat_rows(): parameter 'times' breaks the type rule (")
    # The reason names the hint and the value's type, never the value: a repr can hold data.
    assert "expected <class 'int'>, got a str" in line
    assert "'2'" not in line


# ----------------------------------------------------------------------------------------------
# Accepted: broadcast axes, ..., symbolic axes, methods, keywords, defaults


@checked
def add_bias(
    x: Shared[Float[Tensor, "b n"]], bias: Shared[Float[Tensor, "#b n"]]
) -> Owned[Float[Tensor, "b n"]]:
    return Owned(x.value + bias.value)


@checked
def last_axis_sum(x: Shared[Float[Tensor, "... c"]], weights: Shared[Float[Tensor, "c"]]) -> Owned[Float[Tensor, "..."]]:  # fmt: skip
    return Owned((x.value * weights.value).sum(-1))


def test_broadcast_axis_accepts_size_one_and_the_bound_size_only() -> None:
    assert add_bias(Shared(tensor(4, 3)), Shared(tensor(1, 3))).value.shape == (4, 3)
    assert add_bias(Shared(tensor(4, 3)), Shared(tensor(4, 3))).value.shape == (4, 3)
    with pytest.raises(AnnotationError) as caught:
        add_bias(Shared(tensor(4, 3)), Shared(tensor(2, 3)))
    assert (caught.value.parameter, caught.value.rule) == ("bias", "shape")
    assert "broadcast" in first_line(caught.value)


def test_ellipsis_accepts_any_leading_axes_and_still_binds_the_rest() -> None:
    assert last_axis_sum(Shared(tensor(3)), Shared(tensor(3))).value.shape == ()
    assert last_axis_sum(Shared(tensor(2, 5, 3)), Shared(tensor(3))).value.shape == (2, 5)
    with pytest.raises(AnnotationError) as caught:
        last_axis_sum(Shared(tensor(2, 5, 3)), Shared(tensor(4)))
    assert (caught.value.parameter, caught.value.rule) == ("weights", "shape")


def test_symbolic_and_variadic_axes_accept_consistent_shapes() -> None:
    append_bias(Shared(tensor(3)), Shared(tensor(4)))
    assert masked_mean(Shared(tensor(2, 5, 3)), Shared(tensor(2, 5))).value.shape == (2, 5)
    assert masked_mean(Shared(tensor(3)), Shared(tensor())).value.shape == ()


class Affine:
    """A layer: ``self`` is unannotated, the options are keyword-only with defaults."""

    def __init__(self, weight: Tensor) -> None:
        self.weight = weight

    @checked
    def __call__(
        self,
        x: Shared[Float[Tensor, "b d"]],
        *,
        bias: Shared[Float[Tensor, "k"]] | None = None,
        clip: float = 1e9,
    ) -> Owned[Float[Tensor, "b k"]]:
        out = x.value @ self.weight
        if bias is not None:
            out = out + bias.value
        return Owned(out.clamp(max=clip))


def test_method_with_keywords_and_defaults() -> None:
    layer = Affine(torch.ones(3, 2))
    assert listed(layer(Shared(torch.ones(4, 3))).value) == [[3.0, 3.0]] * 4
    out = layer(x=Shared(torch.ones(1, 3)), bias=Shared(torch.ones(2)), clip=3.5)
    assert listed(out.value) == [[3.5, 3.5]]
    with pytest.raises(AnnotationError) as caught:
        layer(Shared(torch.ones(4, 3)), bias=Shared(torch.ones(1)))  # binds k=1; 2 columns out
    assert (caught.value.function, caught.value.parameter, caught.value.rule) == (
        "Affine.__call__()",
        "return",
        "shape",
    )
    with pytest.raises(AnnotationError) as caught:
        layer(Shared(torch.ones(4, 3)), clip=unchecked("high"))
    assert (caught.value.parameter, caught.value.rule) == ("clip", "type")
    assert first_line(caught.value).startswith("Affine.__call__(): parameter 'clip'")


def test_keyword_argument_is_borrowed_like_a_positional_one() -> None:
    x = tensor(3)
    with pytest.raises(AliasingError) as caught:
        fill_from_template(template=Shared(torch.zeros(3)), target=Shared(x))
    assert caught.value.parameter == "target"


def test_keyword_argument_binds_axes_like_a_positional_one() -> None:
    with pytest.raises(AnnotationError) as caught:
        pair_up(y=Shared(tensor(2, 3)), x=Shared(tensor(2, 4)))
    assert caught.value.parameter == "y"  # checked in signature order, whatever the call order
    assert "c=4 (from 'x')" in str(caught.value)


def test_checked_keeps_name_and_signature() -> None:
    assert center_in_place.__name__ == "center_in_place"
    assert inspect.unwrap(center_in_place) is not center_in_place
    assert "Owned" in str(inspect.signature(center_in_place).return_annotation)


# ----------------------------------------------------------------------------------------------
# ALIASGUARD_DISABLE


@pytest.mark.aliasguard_unsanitized  # the sanitizer would refuse the bug the disabled check lets by
def test_disable_returns_the_function_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    def buggy(x: Shared[Float[Tensor, "n"]]) -> None:
        x.value.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]

    monkeypatch.setenv("ALIASGUARD_DISABLE", "1")
    assert checked(buggy) is buggy
    assert checked(exhaustive=True)(buggy) is buggy
    x = tensor(2)
    checked(buggy)(Shared(x))  # no check: the bug goes through
    assert listed(x) == [SENTINEL + 1] * 2


@pytest.mark.parametrize("setting", ["", "0"])
def test_disable_off_values_keep_the_checks(monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    def buggy(x: Shared[Float[Tensor, "n"]]) -> None:
        x.value.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]

    monkeypatch.setenv("ALIASGUARD_DISABLE", setting)
    assert checked(buggy) is not buggy
    with pytest.raises(AliasingError):
        checked(buggy)(Shared(tensor(2)))


# ----------------------------------------------------------------------------------------------
# The bugs users hit, as pipelines


class Normalize:
    """torchvision's ``Normalize``, written as the in-place version that bit its users."""

    def __init__(self, mean: Tensor, std: Tensor, *, in_place: bool) -> None:
        self.mean = mean
        self.std = std
        self.in_place = in_place

    @checked
    def __call__(self, image: Shared[Float[Tensor, "c h w"]]) -> Owned[Float[Tensor, "c h w"]]:
        mean, std = self.mean[:, None, None], self.std[:, None, None]
        if self.in_place:
            return Owned(image.value.sub_(mean).div_(std))  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated, reportUnknownArgumentType, reportUnknownMemberType, reportUnknownVariableType]  # torchvision #680
        return Owned((image.value - mean) / std)


class CachedImages:
    """A dataset that decodes once and serves ``share()``-d views of its cache (zero-copy ToTensor)."""

    def __init__(self, transform: Normalize) -> None:
        self.cache = [np.full((3, 2, 2), SENTINEL, dtype=np.float32) for _ in range(2)]
        self.transform = transform

    def __getitem__(self, index: int) -> Owned[Tensor]:
        return self.transform(share(self.cache[index]))


# The suite runs under sanitize(), which would stop this write at the aten op, before @checked
# could see it: this test is about @checked, the next one about both together.
@pytest.mark.aliasguard_unsanitized
def test_torchvision_680_in_place_normalize_of_a_cached_array() -> None:
    dataset = CachedImages(Normalize(torch.full((3,), 1.0), torch.full((3,), 2.0), in_place=True))
    with pytest.raises(AliasingError) as caught:
        _ = dataset[0]
    error = caught.value
    assert (error.function, error.parameter, error.rule) == (
        "Normalize.__call__()",
        "image",
        "borrow",
    )
    line = first_line(error)
    assert "'image'" in line
    assert "(3, 2, 2)" in line
    assert_no_data(str(error))
    # The report comes after the write: the first epoch already re-normalized the cache.
    assert not np.array_equal(dataset.cache[0], np.full((3, 2, 2), SENTINEL, dtype=np.float32))


def test_torchvision_680_under_the_sanitizer_is_stopped_before_the_write() -> None:
    dataset = CachedImages(Normalize(torch.full((3,), 1.0), torch.full((3,), 2.0), in_place=True))
    with aliasguard.sanitize(), pytest.raises(AliasingError) as caught:
        _ = dataset[0]
    # The loan to the @checked call is refused before the write, naming the call.
    assert (caught.value.rule, caught.value.function) == ("borrow", "Normalize.__call__()")
    assert "Nothing was modified" in str(caught.value)
    assert all((image == SENTINEL).all() for image in dataset.cache)


def test_torchvision_680_fixed_normalize_leaves_the_cache_alone_every_epoch() -> None:
    dataset = CachedImages(Normalize(torch.full((3,), 1.0), torch.full((3,), 2.0), in_place=False))
    epochs = [[dataset[index].value.clone() for index in range(2)] for _ in range(3)]
    for epoch in epochs[1:]:
        assert all(torch.equal(a, b) for a, b in zip(epoch, epochs[0], strict=True))
    assert listed(epochs[0][0].flatten()) == [(SENTINEL - 1) / 2] * 12
    assert all((image == SENTINEL).all() for image in dataset.cache)


class Classifier:
    """adversarial-robustness-toolbox's ``predict()``: clips the caller's batch before the model."""

    def __init__(self, *, in_place: bool) -> None:
        self.weights = np.ones((3, 2), dtype=np.float32)
        self.in_place = in_place

    @checked
    def predict(
        self, x: Shared[Float[np.ndarray, "batch channels height width"]]
    ) -> Owned[Float[np.ndarray, "batch classes"]]:
        if self.in_place:
            np.clip(x.value, 0.0, 1.0, out=x.value)  # ART #2262
            clipped = x.value
        else:
            clipped = np.clip(x.value, 0.0, 1.0)
        return Owned(clipped.mean(axis=(2, 3)) @ self.weights)


def test_art_2262_predict_that_clips_in_place_is_caught_before_it_writes() -> None:
    images = np.full((2, 3, 4, 4), SENTINEL, dtype=np.float32)
    with pytest.raises(AliasingError) as caught:
        Classifier(in_place=True).predict(Shared(images))
    error = caught.value
    assert (error.function, error.parameter, error.rule) == ("Classifier.predict()", "x", "borrow")
    assert "Classifier.predict()" in first_line(error)
    assert_no_data(str(error))
    assert (images == SENTINEL).all()  # the attacker's input survives


def test_art_2262_fixed_predict_accepts_the_same_batch() -> None:
    images = np.full((2, 3, 4, 4), SENTINEL, dtype=np.float32)
    scores = Classifier(in_place=False).predict(Shared(images))
    assert scores.value.tolist() == [[3.0, 3.0]] * 2
    assert (images == SENTINEL).all()


class Physics:
    """Simulator state: joint positions updated in place every step (dm_control's MjData)."""

    def __init__(self) -> None:
        self.qpos = torch.zeros(3)

    def advance(self, action: Tensor) -> None:
        self.qpos.add_(action)


class Task:
    """dm_control's ``Task.get_observation(physics)``, returning the state it should copy."""

    def __init__(self, *, copy: bool) -> None:
        self.copy = copy

    @checked
    def get_observation(self, qpos: Shared[Float[Tensor, "joints"]]) -> Owned[Float[Tensor, "joints"]]:  # fmt: skip
        if self.copy:
            return Owned(qpos.value.clone())
        return Owned(qpos.value.cpu())  # dm_control #34: on the CPU, cpu() is no copy


class Environment:
    def __init__(self, task: Task) -> None:
        self.physics = Physics()
        self.task = task

    def step(self, action: Tensor) -> Owned[Tensor]:
        self.physics.advance(action)
        return self.task.get_observation(Shared(self.physics.qpos))


def test_dm_control_34_observation_that_is_the_simulator_state() -> None:
    environment = Environment(Task(copy=False))
    with pytest.raises(AliasingError) as caught:
        environment.step(torch.ones(3))
    error = caught.value
    assert (error.function, error.parameter, error.rule) == (
        "Task.get_observation()",
        "return",
        "freshness",
    )
    assert "'qpos'" in first_line(error)


def test_dm_control_34_fixed_observations_survive_the_next_step() -> None:
    environment = Environment(Task(copy=True))
    first = environment.step(torch.ones(3))
    second = environment.step(torch.ones(3))
    assert listed(first.value) == [1.0] * 3
    assert listed(second.value) == [2.0] * 3


# ----------------------------------------------------------------------------------------------
# The contract as the spec states it, where the checker falls short (reported; these fail today)


class ReusingEnvironment:
    """dm_control #34 as users met it: ``step()`` returns its own observation buffer every time."""

    def __init__(self) -> None:
        self.observation = torch.zeros(3)

    @checked
    def step(self, action: Shared[Float[Tensor, "3"]]) -> Owned[Float[Tensor, "3"]]:
        self.observation.add_(action.value)
        return Owned(self.observation)


def test_spec_freshness_of_an_internal_buffer_returned_again() -> None:
    """An Owned return must be fresh: the second step returns the memory the first step's Owned
    result still holds, so the caller's first observation changes under it."""
    environment = ReusingEnvironment()
    first = environment.step(Shared(torch.ones(3)))
    with pytest.raises(AliasingError) as caught:
        environment.step(Shared(torch.ones(3)))
    assert caught.value.rule == "freshness"
    assert "returned earlier, which is still alive" in str(caught.value).splitlines()[0]
    # The check runs when step() returns, so the write it reports has happened: the error
    # names the call that overwrote the first observation.
    assert listed(first.value) == [2.0] * 3


BUFFER = torch.zeros(3)


@checked
def fill_default_buffer(
    x: Shared[Float[Tensor, "n"]], buffer: Float[Tensor, "n"] = BUFFER
) -> Owned[Float[Tensor, "n"]]:
    buffer.copy_(x.value)
    return Owned(buffer)


def test_spec_freshness_counts_a_default_argument() -> None:
    """A default is an argument of the call: an Owned return overlapping it is not fresh."""
    with pytest.raises(AliasingError) as caught:
        fill_default_buffer(Shared(tensor(3)))
    assert (caught.value.rule, caught.value.parameter) == ("freshness", "return")
    assert "'buffer'" in first_line(caught.value)


def test_spec_numpy_write_into_a_read_only_borrow_is_an_aliasing_error() -> None:
    """A Shared ndarray that is already read-only (every ``share(tensor)`` is) must give the same
    AliasingError as a writable one, not NumPy's bare ValueError."""
    with pytest.raises(AliasingError) as caught:
        np_mark_first(share(tensor(3)))
    assert (caught.value.rule, caught.value.parameter) == ("borrow", "x")
    read_only = array(3)
    read_only.flags.writeable = False
    with pytest.raises(AliasingError) as caught:
        np_double(Shared(read_only))
    assert (caught.value.rule, caught.value.parameter) == ("borrow", "x")


@checked
def tile_rows(x: Shared[Float[np.ndarray, "n"]]) -> Owned[Float[np.ndarray, "2 n"]]:
    tiled = np.broadcast_to(x.value.copy(), (2, x.value.shape[0]))  # read-only: a broadcast view
    tiled[0, 0] = 0  # the callee's own bug, on its own array
    return Owned(tiled.copy())


def test_spec_read_only_error_on_the_callees_own_array_is_not_blamed_on_a_borrow() -> None:
    """``x`` is never written: NumPy's error must propagate, not become a borrow error on ``x``."""
    x = array(3)
    with pytest.raises(ValueError, match="read-only") as caught:
        tile_rows(Shared(x))
    assert not isinstance(caught.value, AliasingError)


@checked
def write_first_extra(x: Shared[Float[np.ndarray, "n"]], *more: Float[np.ndarray, "n"]) -> None:
    more[0][0] = 0  # the callee's own read-only array, gathered into *more


@checked
def write_keyword_extra(x: Shared[Float[np.ndarray, "n"]], **more: Float[np.ndarray, "n"]) -> None:
    more["y"][0] = 0


@checked
def write_second_member(
    pair: tuple[Shared[Float[np.ndarray, "n"]], Float[np.ndarray, "n"]],
) -> None:
    pair[1][0] = 0


def test_spec_read_only_error_on_a_gathered_argument_is_not_blamed_on_a_borrow() -> None:
    """The callee's own read-only array may reach it in ``*args``, ``**kwargs`` or a container,
    where no frame holds it as a local: NumPy's error still propagates as it is."""
    own_read_only = array(3)
    own_read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only") as caught:
        write_first_extra(Shared(array(3)), own_read_only, array(3))
    assert not isinstance(caught.value, AliasingError)
    with pytest.raises(ValueError, match="read-only") as caught:
        write_keyword_extra(Shared(array(3)), y=own_read_only)
    assert not isinstance(caught.value, AliasingError)
    with pytest.raises(ValueError, match="read-only") as caught:
        write_second_member((Shared(array(3)), own_read_only))
    assert not isinstance(caught.value, AliasingError)


def test_spec_numpy_borrow_cannot_be_made_writable_again() -> None:
    """NumPy payloads are lent so that NumPy writes raise before modifying anything; the view
    the checker lends can be flipped back to writable, and the write lands in the caller's array."""

    @checked
    def unlock_and_write(x: Shared[Float[np.ndarray, "n"]]) -> None:
        values = x.value
        values.flags.writeable = True  # common, to silence torch's read-only warning
        values[0] = 0  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]

    x = array(3)
    with pytest.raises((AliasingError, ValueError)):
        unlock_and_write(Shared(x))
    assert x.tolist() == [SENTINEL] * 3


def test_spec_beartype_message_never_shows_array_values() -> None:
    """A tensor given to ``times: int``: the first line must describe it, not print its data."""
    with pytest.raises(AnnotationError) as caught:
        repeat_rows(Shared(tensor(3)), unchecked(tensor(2)))
    assert (caught.value.rule, caught.value.parameter) == ("type", "times")
    assert_no_data(str(caught.value))


def test_spec_bindings_line_names_a_moved_in_argument() -> None:
    """The bindings line must name the argument that bound ``n``, also when it was moved in."""

    @checked
    def grow(buffer: Owned[Float[Tensor, "n"]]) -> Owned[Float[Tensor, "n"]]:
        return Owned(torch.cat([buffer.value, buffer.value[:1]]))

    with pytest.raises(AnnotationError) as caught:
        grow(Owned(tensor(3)))
    assert "n=3 (from 'buffer')" in str(caught.value).splitlines()[1]


def test_spec_numpy_borrow_message_shows_dtype_and_shape() -> None:
    """First line: dtype and shape of the borrow a NumPy write hit, as for a torch write."""
    with pytest.raises(AliasingError) as caught:
        np_mark_first(Shared(array(5)))
    line = first_line(caught.value)
    assert "float32" in line
    assert "(5,)" in line


def test_a_structured_dtype_mismatch_says_how_to_make_one() -> None:
    record = np.dtype([("a", np.float32), ("b", np.int32)])
    records: Any = jaxtyping.make_numpy_struct_dtype(record, "Records")

    def untyped(x: Any) -> None: ...

    untyped.__annotations__ = {"x": records[np.ndarray, " n"], "return": None}  # built at run time
    takes = checked(untyped)
    takes(np.zeros(3, dtype=record))
    with pytest.raises(AnnotationError, match=r"dtype rule.*fix: make an array of the annotated"):
        takes(np.zeros(3))


def test_spec_kind_error_shows_the_actual_dtype_and_shape() -> None:
    """First line: actual vs expected, dtype and shape, for a Shared given to an Owned parameter."""
    with pytest.raises(AnnotationError) as caught:
        consume(unchecked(Shared(tensor(2, 5))))
    line = first_line(caught.value)
    assert "float32" in line
    assert "(2, 5)" in line


def test_spec_broadcastable_variadic_axes_follow_jaxtyping() -> None:
    """``*#batch`` bound to (3,) broadcasts to a later ``*batch`` of (2, 3): jaxtyping accepts."""

    @checked
    def ours(x: Shared[Float[Tensor, "*#batch"]], y: Shared[Float[Tensor, "*batch c"]]) -> None:
        del x, y

    @jaxtyping.jaxtyped(typechecker=beartype)  # pyright: ignore[reportUnknownMemberType]
    def theirs(x: Float[Tensor, "*#batch"], y: Float[Tensor, "*batch c"]) -> None:
        del x, y

    x, y = torch.zeros(3), torch.zeros(2, 3, 4)
    theirs(x, y)
    ours(Shared(x), Shared(y))


def test_two_numpy_borrows_name_both_candidates() -> None:
    """NumPy's error does not say which array refused the write: the error names both borrows."""

    @checked
    def write_second(x: Shared[Float[np.ndarray, "n"]], y: Shared[Float[np.ndarray, "n"]]) -> None:
        y.value[0] = 0  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]

    with pytest.raises(AliasingError) as caught:
        write_second(Shared(array(2)), Shared(array(2)))
    assert caught.value.rule == "borrow"
    assert "'x'" in caught.value.parameter
    assert "'y'" in caught.value.parameter


# ----------------------------------------------------------------------------------------------
# Regressions found in review


def test_exhaustive_mode_compares_any_layout_and_dtype() -> None:
    @checked(exhaustive=True)
    def reads(x: Shared[Tensor]) -> None:
        del x

    reads(share(np.zeros((2, 3), np.complex128).T))  # a transposed complex tensor
    reads(share(np.broadcast_to(np.float32(1), (1,))))  # an odd stride on a length-1 axis
    reads(share(np.zeros(0, np.float32)))


def test_exhaustive_mode_compares_ml_dtypes_arrays() -> None:
    pytest.importorskip("ml_dtypes")

    @checked(exhaustive=True)
    def reads_array(x: Shared[np.ndarray]) -> None:
        del x

    reads_array(share(torch.ones(3, dtype=torch.bfloat16)))  # an ml_dtypes NumPy view


def test_coroutine_and_generator_functions_are_refused_at_decoration() -> None:
    async def later(x: Shared[Tensor]) -> None:
        del x

    def stream(x: Shared[Tensor]) -> Iterator[None]:
        del x
        yield

    for function in (later, stream):
        with pytest.raises(TypeError, match="coroutine or generator function"):
            checked(function)


@pytest.mark.aliasguard_unsanitized
def test_a_lent_numpy_view_gives_no_writable_path_back() -> None:
    source = np.arange(3.0)

    @checked
    def sneaky(x: Shared[np.ndarray]) -> None:
        assert x.source is None
        assert not x.value.flags.writeable
        with pytest.raises(ValueError, match="WRITEABLE"):
            x.value.flags.writeable = True

    sneaky(Shared(source))
    assert source.tolist() == [0.0, 1.0, 2.0]
