"""sanitize(): torch writes into borrowed memory, or into self-overlapping tensors, raise first."""

from __future__ import annotations

import gc
import inspect
import subprocess
import sys
import textwrap
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import torch
from torch.nn import functional

import aliasguard
import aliasguard._convert
from aliasguard import AliasingError, Owned, Shared, checked, own, share
from aliasguard._sanitizer import Sanitizer, sanitize
from aliasguard._sanitizer._ledger import REGISTRY
from aliasguard._torch_compat import dispatch_mode_stack, from_numpy
from helpers import as_list

# These tests enter and leave sanitize() themselves; the plugin's --aliasguard-sanitize would nest them.
pytestmark = pytest.mark.aliasguard_unsanitized


def borrow_hook() -> object:
    return aliasguard._convert._borrow_hook  # pyright: ignore[reportPrivateUsage]


@pytest.fixture(autouse=True)
def nothing_left_installed() -> Iterator[None]:
    assert dispatch_mode_stack() == []
    assert borrow_hook() is None
    yield
    assert dispatch_mode_stack() == []
    assert borrow_hook() is None


def line_of_caller() -> int:
    frame = inspect.currentframe()
    assert frame is not None
    assert frame.f_back is not None
    return frame.f_back.f_lineno


def cached_image() -> npt.NDArray[np.float32]:
    return np.random.default_rng(0).random((3, 4, 4), dtype=np.float32)


# ----------------------------------------------------------------------------------------------
# Seeds from real bugs


def test_torchvision_680_in_place_normalize_of_a_cached_array() -> None:
    cache = cached_image()
    original = cache.copy()
    mean = torch.tensor([0.5, 0.4, 0.3]).view(3, 1, 1)
    with sanitize():
        tensor = share(cache).value  # ToTensor: aliases the cached array; the wrapper is dropped
        with pytest.raises(AliasingError, match=r"^aten::sub_\.Tensor "):
            tensor.sub_(mean)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
        with pytest.raises(AliasingError, match=r"^aten::div_\.Tensor "):
            tensor.div_(0.25)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    assert cache.tobytes() == original.tobytes()


def test_art_2262_predict_clamps_the_callers_image() -> None:
    image = cached_image() * 2 - 0.5  # outside [0, 1], so clamp_ would change it
    original = image.copy()

    def predict(x: torch.Tensor) -> torch.Tensor:
        x.clamp_(0.0, 1.0)
        return x * 2

    with sanitize(), pytest.raises(AliasingError, match=r"aten::clamp_"):
        predict(share(image).value)
    assert image.tobytes() == original.tobytes()
    with sanitize():  # the fix: predict on a copy
        predict(own(image).value)
    assert image.tobytes() == original.tobytes()


# ----------------------------------------------------------------------------------------------
# Every kind of write into borrowed memory


def second_from_numpy(tensor: torch.Tensor) -> torch.Tensor:
    """A second tensor over a borrowed tensor's memory, made through its read-only NumPy view."""
    with warnings.catch_warnings():
        # torch warns once per process about a read-only array; which test sees it depends on
        # the order tests run in.
        warnings.filterwarnings("ignore", "The given NumPy array is not writable", UserWarning)
        return from_numpy(tensor.numpy())


WRITES: dict[str, Callable[[torch.Tensor], object]] = {
    "out=": lambda t: torch.add(torch.ones(4), 1.0, out=t),
    "copy_": lambda t: t.copy_(torch.full((4,), 9.0)),
    "index_put_": lambda t: t.index_put_((torch.tensor([0]),), torch.tensor(9.0)),
    "item assignment": lambda t: t.__setitem__(0, 9.0),
    "slice assignment": lambda t: t.__setitem__(slice(1, 3), torch.full((2,), 9.0)),
    "mask assignment": lambda t: t.__setitem__(t >= 0, 9.0),
    "write through a view": lambda t: t[1:].mul_(2),
    "write through a reshape": lambda t: t.view(2, 2)[1].zero_(),
    "write through .data": lambda t: t.data.add_(1),
    "write through detach()": lambda t: t.detach().add_(1),
    "fill_": lambda t: t.fill_(9.0),
    "_foreach_add_": lambda t: torch._foreach_add_(  # pyright: ignore[reportPrivateUsage, reportPrivateImportUsage]
        [torch.zeros(2), t], 1.0
    ),
    "second from_numpy of the source": lambda t: second_from_numpy(t).add_(1),
}


@pytest.mark.parametrize("write", list(WRITES.values()), ids=list(WRITES))
def test_writes_into_borrowed_memory_raise_before_writing(
    write: Callable[[torch.Tensor], object],
) -> None:
    source = np.arange(4, dtype=np.float32) + 1
    with sanitize():
        tensor = share(source).value
        with pytest.raises(AliasingError, match="into memory borrowed by share"):
            write(tensor)
    assert as_list(source) == [1.0, 2.0, 3.0, 4.0]


def test_writes_into_the_source_of_a_numpy_borrow_raise_while_the_view_lives() -> None:
    source = torch.arange(4.0)
    with sanitize():
        view = share(source).value
        with pytest.raises(AliasingError, match=r"aten::add_\.Tensor .*NumPy view of shape \(4,\)"):
            source.add_(1)
        with pytest.raises(AliasingError):
            source[2:].zero_()
        assert as_list(view) == [0.0, 1.0, 2.0, 3.0]
        del view
        gc.collect()
        source.add_(1)  # the borrow ended with its view
    assert as_list(source) == [1.0, 2.0, 3.0, 4.0]


def test_only_the_borrowed_bytes_are_guarded() -> None:
    array = np.zeros(10, dtype=np.float32)
    whole = from_numpy(array)
    with sanitize():
        first_half = share(array[:5]).value
        evens = share(array[10:]).value  # empty: lends no bytes
        whole[5:].add_(1)  # adjacent, not overlapping
        with pytest.raises(AliasingError):
            whole[4:].add_(1)
        del first_half, evens
        gc.collect()
        even_elements = share(array[::2]).value
        whole[1::2].add_(1)  # interleaved with the borrow, never touching it
        with pytest.raises(AliasingError):
            whole[::3].add_(1)
        del even_elements
    assert as_list(array) == [0, 1, 0, 1, 0, 2, 1, 2, 1, 2]


# ----------------------------------------------------------------------------------------------
# Self-overlapping writes


OVERLAPPING: dict[str, Callable[[], object]] = {
    "expand().add_": lambda: torch.zeros(3).expand(2, 3).add_(1),
    "expand().zero_ (torch allows it)": lambda: torch.zeros(3).expand(2, 3).zero_(),
    "broadcast_to().mul_": lambda: torch.broadcast_to(torch.ones(1, 3), (4, 3)).mul_(2),
    "out= expanded": lambda: torch.add(torch.ones(2, 3), 1, out=torch.zeros(3).expand(2, 3)),
    "as_strided overlap (torch: too hard)": lambda: (
        torch.zeros(10).as_strided((2, 2), (1, 1)).add_(1)
    ),
}


@pytest.mark.parametrize("write", list(OVERLAPPING.values()), ids=list(OVERLAPPING))
def test_writes_into_self_overlapping_tensors_raise(write: Callable[[], object]) -> None:
    with sanitize(), pytest.raises(AliasingError, match="elements overlap each other"):
        write()


def test_writes_into_strided_tensors_that_do_not_overlap_pass() -> None:
    matrix = torch.zeros(4, 6)
    with sanitize():
        matrix[:, 1].add_(1)
        matrix.t()[1:, ::2].add_(1)
        torch.zeros(20).as_strided((2, 3), (4, 3)).add_(1)  # interleaved, disjoint
        torch.zeros(1, 3).expand(1, 3).add_(1)  # a zero stride on a length-1 axis
        torch.zeros(3, 4).unsqueeze(1).expand(3, 1, 4).mul_(2)
    assert float(matrix.sum()) == 4 + 5 * 2


# ----------------------------------------------------------------------------------------------
# What is never flagged


def test_reads_of_borrowed_memory_pass() -> None:
    source = np.arange(6, dtype=np.float32)
    with sanitize():
        tensor = share(source).value
        fresh = torch.empty(6)
        total = tensor.sum()
        plus_one = tensor + 1
        others = [
            tensor[1:].clone(),
            torch.add(tensor, 1, out=fresh),
            tensor.view(2, 3).t().contiguous(),
            own(tensor).value,
        ]
        tensor.unsqueeze_(0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]  # metadata only: the borrowed bytes are untouched
        tensor.squeeze_(0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    assert float(total) == 15.0
    assert as_list(plus_one) == as_list(fresh) == [1, 2, 3, 4, 5, 6]
    assert len(others) == 4
    assert as_list(source) == [0, 1, 2, 3, 4, 5]


def test_writes_into_memory_not_borrowed_pass() -> None:
    source = np.zeros(4, dtype=np.float32)
    with sanitize():
        borrowed = share(source).value
        tensor = torch.zeros(4)
        tensor.add_(1)
        tensor[0] = 5
        torch.mul(borrowed, 2, out=tensor)
    assert as_list(tensor) == [0, 0, 0, 0]


def test_own_results_are_never_borrows() -> None:
    array = np.zeros(4, dtype=np.float32)
    with sanitize():
        owned = own(array).value
        owned.add_(1)
        owned_array = own(torch.zeros(3)).value
        from_numpy(owned_array).add_(1)
    assert as_list(owned) == [1, 1, 1, 1]
    assert as_list(owned_array) == [1, 1, 1]


def test_the_hook_ignores_owned_wrappers() -> None:
    tensor = torch.zeros(3)
    with sanitize():
        hook = borrow_hook()
        assert callable(hook)
        hook(Owned(tensor))
        tensor.add_(1)
    assert as_list(tensor) == [1, 1, 1]


def test_collected_borrows_leave_the_registry() -> None:
    array = np.zeros(8, dtype=np.float32)
    before = len(REGISTRY)
    with sanitize():
        for start in range(8):
            share(array[start:]).value.sum()
        kept = share(array).value
        gc.collect()
        assert len(REGISTRY) == before + 1
        del kept
        gc.collect()
    assert len(REGISTRY) == before


def test_borrows_made_outside_sanitize_are_not_tracked() -> None:
    array = np.zeros(4, dtype=np.float32)
    tensor = share(array).value
    with sanitize():
        tensor.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    assert as_list(array) == [1, 1, 1, 1]


def test_a_borrow_ends_when_its_value_is_collected() -> None:
    array = np.zeros(4, dtype=np.float32)
    with sanitize():
        tensor = share(array).value
        view = tensor[1:]
        del tensor
        gc.collect()
        with pytest.raises(AliasingError):  # a view keeps the borrowed tensor alive
            view.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
        del view
        gc.collect()
        from_numpy(array).add_(1)
    assert as_list(array) == [1, 1, 1, 1]


def test_a_borrow_made_inside_stays_tracked_in_a_later_sanitize() -> None:
    array = np.zeros(4, dtype=np.float32)
    with sanitize():
        tensor = share(array).value
    tensor.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]  # no sanitizer active: nothing is checked
    with sanitize(), pytest.raises(AliasingError):
        tensor.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    assert as_list(array) == [1, 1, 1, 1]


# ----------------------------------------------------------------------------------------------
# The error message


def test_the_message_names_the_op_the_argument_the_borrow_and_the_share_call_site() -> None:
    array = np.zeros((2, 3), dtype=np.float32)
    with sanitize():
        tensor, line = share(array).value, line_of_caller()
        with pytest.raises(AliasingError) as caught:
            tensor.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    first, *rest = str(caught.value).splitlines()
    assert first.startswith("aten::add_.Tensor would write its argument 'self' into memory ")
    assert "borrowed by share() (a torch.float32 tensor of shape (2, 3))" in first
    assert "own()" in first
    assert "fresh tensor" in first
    assert f'File "{__file__}", line {line}, in ' in "\n".join(rest)
    assert "tensor, line = share(array).value, line_of_caller()" in "\n".join(rest)
    assert str(Path(aliasguard.__file__).parent) not in "\n".join(rest)  # own frames trimmed
    assert "pluggy" not in "\n".join(rest)  # and the test runner's: the frames are the user's


def test_a_buffer_lent_twice_blames_the_borrow_that_was_written() -> None:
    cache = np.zeros(4, dtype=np.float32)
    with sanitize():
        first, first_line = share(cache).value, line_of_caller()
        second, second_line = share(cache).value, line_of_caller()
        with pytest.raises(AliasingError) as through_first:
            # a view of the first borrow: that borrow is to blame
            first[1:].mul_(2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
        with pytest.raises(AliasingError) as through_source:
            from_numpy(cache).add_(1)  # neither borrow's tensor: the newest is the likelier
    assert f"line {first_line}," in str(through_first.value)
    assert f"line {second_line}," not in str(through_first.value)
    assert f"line {second_line}," in str(through_source.value)
    assert second.data_ptr() == first.data_ptr()


def test_an_out_argument_is_named_in_the_message() -> None:
    with sanitize():
        tensor = share(np.zeros(3, dtype=np.float32)).value
        with pytest.raises(AliasingError, match=r"^aten::mul\.out would write its argument 'out'"):
            torch.mul(torch.ones(3), 2, out=tensor)


# ----------------------------------------------------------------------------------------------
# Nesting, decorators, clean exits


def test_nesting_keeps_the_checks_until_the_outermost_exit() -> None:
    array = np.zeros(3, dtype=np.float32)
    with sanitize():
        tensor = share(array).value
        with sanitize() as inner:
            assert isinstance(inner, Sanitizer)
            assert len(dispatch_mode_stack()) == 1
        with pytest.raises(AliasingError):
            tensor.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    tensor.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    assert as_list(array) == [1, 1, 1]


def test_bare_decorator_preserves_the_function_and_checks_its_body() -> None:
    @sanitize
    def normalize(x: npt.NDArray[np.float32], scale: float = 2.0) -> torch.Tensor:
        """Divide in place."""
        return share(x).value.div_(scale)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated, reportUnknownVariableType]

    assert normalize.__name__ == "normalize"
    assert normalize.__doc__ == "Divide in place."
    assert list(inspect.signature(normalize).parameters) == ["x", "scale"]
    array = np.ones(2, dtype=np.float32)
    with pytest.raises(AliasingError):
        normalize(array)
    assert as_list(array) == [1, 1]


def test_called_decorator_is_reentrant() -> None:
    array = np.ones(3, dtype=np.float32)

    @sanitize()
    def recurse(depth: int) -> torch.Tensor:
        if depth:
            return recurse(depth - 1)
        assert len(dispatch_mode_stack()) == 1
        return share(array).value.mul_(2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated, reportUnknownVariableType]

    with pytest.raises(AliasingError):
        recurse(3)
    assert dispatch_mode_stack() == []
    assert as_list(array) == [1, 1, 1]


def test_an_exception_inside_leaves_nothing_installed() -> None:
    seen: list[object] = []

    def fail() -> None:
        with sanitize():
            seen.extend([len(dispatch_mode_stack()), borrow_hook() is not None])
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fail()
    assert seen == [1, True]
    # The autouse fixture asserts the mode stack is empty and the hook is gone.


def test_another_thread_is_checked_only_inside_its_own_sanitize() -> None:
    array = np.zeros(3, dtype=np.float32)
    errors: list[BaseException] = []

    def write(checked: bool) -> None:
        try:
            if checked:
                with sanitize():
                    tensor.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
            else:
                tensor.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
        except BaseException as error:  # handed to the main thread
            errors.append(error)

    with sanitize():
        tensor = share(array).value
        for checked in (False, True):
            thread = threading.Thread(target=write, args=(checked,))
            thread.start()
            thread.join()
    assert [type(error) for error in errors] == [AliasingError]
    assert as_list(array) == [1, 1, 1]  # the unchecked thread wrote; its mode stack was empty


def test_sanitize_repr_and_the_object_it_returns() -> None:
    manager: Any = sanitize()
    assert manager is sanitize()
    assert repr(manager) == "aliasguard.sanitize()"


def test_nested_tensors_pass_through_sanitize_and_shares_memory() -> None:
    # Regression: nested tensors have no single extent; they must not crash the guard.
    with warnings.catch_warnings():  # torch calls strided nested tensors a prototype
        warnings.simplefilter("ignore", UserWarning)
        nested = torch.nested.nested_tensor(  # pyright: ignore[reportUnknownMemberType]
            [torch.ones(2), torch.ones(3)], layout=torch.strided
        )
    with aliasguard.sanitize():
        aliasguard.share(np.zeros(3, dtype=np.float32))  # a live borrow elsewhere
        nested.mul_(2)
    # No single extent to compare: on the same device the answer is the documented "may overlap".
    assert aliasguard.shares_memory(nested, np.ones(2))
    assert not aliasguard.shares_memory(nested, torch.ones(2, device="meta"))


@pytest.mark.parametrize("layout", ["strided nested", "jagged nested", "sparse"])
def test_a_tensor_without_one_address_range_can_be_wrapped_and_lent_under_sanitize(
    layout: str,
) -> None:
    # Regression: Shared() of a strided nested tensor raised torch's internal error, and of a
    # jagged or sparse one a TypeError, from the borrow the sanitizer records for a wrapper.
    with warnings.catch_warnings():  # torch calls strided nested tensors a prototype
        warnings.simplefilter("ignore", UserWarning)
        nested_api: Any = torch.nested  # its signature is untyped
        parts = [torch.ones(2), torch.ones(3)]
        value: torch.Tensor = (
            nested_api.nested_tensor(parts)
            if layout == "strided nested"
            else nested_api.nested_tensor(parts, layout=torch.jagged)
            if layout == "jagged nested"
            else torch.ones(3, 3).to_sparse()
        )

    @checked
    def reads(x: Shared[torch.Tensor]) -> int:
        return x.value.dim()

    with aliasguard.sanitize():
        wrapper = Shared(value)
        assert reads(wrapper) == 2


# ----------------------------------------------------------------------------------------------
# Writes that schemas do not mark, deferred bodies, and the registry's bookkeeping


def test_batch_norm_in_training_may_not_update_borrowed_running_stats() -> None:
    running_mean = np.zeros(3, dtype=np.float32)
    running_var = np.ones(3, dtype=np.float32)
    inputs = torch.randn(5, 3)
    with sanitize():
        mean, var = share(running_mean).value, share(running_var).value
        with pytest.raises(AliasingError, match=r"write its argument 'running_mean'"):
            functional.batch_norm(inputs, mean, var, training=True)
        functional.batch_norm(inputs, mean, var, training=False)  # eval only reads them
    assert running_mean.tolist() == [0.0, 0.0, 0.0]


def test_batch_norm_out_overload_is_refused_too() -> None:
    running_mean = np.zeros(3, dtype=np.float32)
    inputs = torch.randn(5, 3)
    outputs = (torch.empty(5, 3), torch.empty(3), torch.empty(3))
    with sanitize():
        mean = share(running_mean).value
        with pytest.raises(AliasingError, match=r"write its argument 'running_mean'"):
            torch.ops.aten.native_batch_norm.out(
                inputs, None, None, mean, torch.ones(3), True, 0.1, 1e-5,
                out=outputs[0], save_mean=outputs[1], save_invstd=outputs[2],
            )  # fmt: skip
    assert running_mean.tolist() == [0.0, 0.0, 0.0]


def test_only_the_test_runners_own_frames_are_left_out_of_the_call_site(tmp_path: Path) -> None:
    # A user's file under a directory named like a runner keeps its frame.
    path = tmp_path / "unittest" / "user_code.py"
    code = compile("def lend(array):\n    return share(array).value\n", str(path), "exec")
    namespace: dict[str, Any] = {"share": share}
    exec(code, namespace)
    with sanitize():
        tensor = namespace["lend"](np.zeros(3, dtype=np.float32))
        with pytest.raises(AliasingError) as caught:
            tensor.add_(1)
    assert f'File "{path}", line 2, in lend' in str(caught.value)


def test_sanitize_refuses_to_decorate_a_body_that_runs_after_the_call() -> None:
    def generate() -> Iterator[int]:
        yield 1

    async def wait() -> None:
        return None

    for function in (generate, wait):
        with pytest.raises(TypeError, match=r"^sanitize\(\) cannot check .*coroutine or generator"):
            aliasguard.sanitize()(function)


def test_the_registry_forgets_a_large_borrow_once_it_dies() -> None:
    small = np.zeros(4, dtype=np.float32)
    large = np.zeros(1 << 20, dtype=np.float32)
    with sanitize():
        kept = share(small).value
        dropped = share(large).value
        assert REGISTRY._longest == large.nbytes  # pyright: ignore[reportPrivateUsage]
        del dropped
        gc.collect()
        tensor = torch.zeros(4)
        tensor.add_(1)  # any write purges the queue of dead borrows
        assert REGISTRY._longest == small.nbytes  # pyright: ignore[reportPrivateUsage]
        del kept


def test_many_borrows_of_one_buffer_are_each_forgotten_once() -> None:
    array = np.zeros(8, dtype=np.float32)
    with sanitize():
        before = len(REGISTRY)
        borrows = [share(array).value for _ in range(500)]
        assert len(REGISTRY) == before + 500
        del borrows[::2]
        gc.collect()
        torch.zeros(1).add_(1)
        assert len(REGISTRY) == before + 250
        with pytest.raises(AliasingError):
            borrows[-1].add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
        del borrows
        gc.collect()
        torch.zeros(1).add_(1)
        assert len(REGISTRY) == before


# torch's default for dispatch modes wraps __torch_dispatch__ in a function that imports
# torch._dynamo at the first op: 1.5 s and 70 MB on the first share() inside sanitize().
NO_DYNAMO_THEN_COMPILE = textwrap.dedent(
    """
    import sys, numpy as np, torch, aliasguard
    with aliasguard.sanitize():
        borrowed = aliasguard.share(np.zeros(3, np.float32)).value
        torch.ones(3).add_(1)
        print("torch._dynamo" in sys.modules)

        def write(x):
            return x.add_(1)

        def pure(x):
            return x * 2 + 1

        print(torch.compile(pure, backend="eager")(torch.ones(2)).tolist())
        try:
            torch.compile(write, backend="eager")(borrowed)
        except aliasguard.AliasingError as error:
            print(str(error).split(" ")[0], borrowed.tolist())
        print(torch.compile(write, backend="eager")(torch.zeros(2)).tolist())
    """
)


@pytest.mark.slow
def test_sanitize_imports_no_dynamo_and_still_guards_compiled_code() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", NO_DYNAMO_THEN_COMPILE],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "False",
        "[3.0, 3.0]",
        "aten::add_.Tensor [0.0, 0.0, 0.0]",
        "[1.0, 1.0]",
    ]
