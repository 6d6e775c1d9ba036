"""Under the sanitizer: an op whose written argument partly overlaps a read one, and storage swaps
under a live NumPy view, are refused before torch runs them.

``b[:, 2:] = b[:, :-2]`` gives a different answer on CPU, CUDA and NumPy (pytorch #144861), and
``tensor.share_memory_()`` leaves an array made earlier by ``tensor.numpy()`` reading memory the
tensor no longer has (pytorch #51849: spawned DataLoader workers do it while pickling).
"""

from __future__ import annotations

from collections.abc import Callable
from multiprocessing.reduction import ForkingPickler
from typing import Any, cast

import numpy as np
import pytest
import torch

from aliasguard import AliasingError, sanitize, share

pytestmark = pytest.mark.aliasguard_unsanitized


def share_memory(tensor: torch.Tensor) -> object:
    """``tensor.share_memory_()``, which torch's stubs leave unannotated."""
    return cast("Any", tensor).share_memory_()


def is_shared(tensor: torch.Tensor) -> bool:
    return bool(cast("Any", tensor).is_shared())


TORCH: Any = torch  # the _foreach ops are not in torch's stubs


def grid() -> torch.Tensor:
    return torch.arange(12.0).reshape(2, 6)


PARTIAL_OVERLAPS: dict[str, Callable[[torch.Tensor], object]] = {
    "shifted columns": lambda b: b[:, 2:].copy_(b[:, :-2]),
    "shifted flat": lambda b: b.view(-1)[1:].copy_(b.view(-1)[:-1]),
    "transposed block": lambda b: b[:, :2].copy_(b[:, :2].T),
    "out= over an input": lambda b: torch.add(b[:, 1:], b[:, :-1], out=b[:, :-1]),
    "in-place op reading a shifted view": lambda b: b[:, 1:].add_(b[:, :-1]),
    "foreach, item by item": lambda b: TORCH._foreach_add_([b[0, 1:]], [b[0, :-1]]),
}


@pytest.mark.parametrize("write", list(PARTIAL_OVERLAPS.values()), ids=list(PARTIAL_OVERLAPS))
def test_a_partial_overlap_between_written_and_read_is_refused_before_the_kernel(
    write: Callable[[torch.Tensor], object],
) -> None:
    b = grid()
    with sanitize(), pytest.raises(AliasingError, match="partly overlaps it") as caught:
        write(b)
    assert torch.equal(b, grid())  # nothing was written
    first_line = str(caught.value).splitlines()[0]
    assert ".clone()" in first_line
    assert caught.value.rule == "sanitizer"


def test_the_slice_assignment_of_the_report_is_refused() -> None:
    arr = torch.arange(9).reshape(3, 3)
    with sanitize(), pytest.raises(AliasingError, match=r"aten::copy_"):
        arr[:, 1:] = arr[:, :-1]
    assert torch.equal(arr.flatten(), torch.arange(9))


ALLOWED: dict[str, Callable[[torch.Tensor], object]] = {
    "the same memory": lambda b: b.add_(b),
    "copy onto itself": lambda b: b.copy_(b),
    "out= the input itself": lambda b: torch.mul(b, 2, out=b),
    "interleaved, disjoint": lambda b: b.view(-1)[::2].copy_(b.view(-1)[1::2]),
    "neighbouring, disjoint": lambda b: b[:, :3].copy_(b[:, 3:]),
    "from a copy": lambda b: b[:, 2:].copy_(b[:, :-2].clone()),
    "another tensor": lambda b: b.sub_(torch.ones(6)),
}


@pytest.mark.parametrize("write", list(ALLOWED.values()), ids=list(ALLOWED))
def test_identical_or_disjoint_memory_is_allowed(write: Callable[[torch.Tensor], object]) -> None:
    expected = grid()
    write(expected)
    b = grid()
    with sanitize():
        write(b)
    assert torch.equal(b, expected)


# ------------------------------------------------------------------------------------------------
# Storage swaps


SWAPS: dict[str, Callable[[torch.Tensor], object]] = {
    "share_memory_()": share_memory,
    "set_()": lambda t: t.set_(torch.zeros(3).untyped_storage()),
    "pickled for a spawned worker": ForkingPickler.dumps,
}


@pytest.mark.parametrize("swap", list(SWAPS.values()), ids=list(SWAPS))
def test_a_storage_swap_under_a_share_view_is_refused(
    swap: Callable[[torch.Tensor], object],
) -> None:
    tensor = torch.arange(10.0)
    with sanitize():
        array = share(tensor).value
        address = tensor.data_ptr()
        with pytest.raises(AliasingError, match=r"made by share\(\)") as caught:
            swap(tensor)
    assert tensor.data_ptr() == address == array.ctypes.data  # still one memory
    assert not is_shared(tensor)
    assert "pytorch #51849" in str(caught.value)


@pytest.mark.parametrize("swap", list(SWAPS.values()), ids=list(SWAPS))
def test_a_storage_swap_under_a_raw_numpy_view_is_refused(
    swap: Callable[[torch.Tensor], object],
) -> None:
    tensor = torch.arange(10.0)
    with sanitize(raw_routes=True):
        array = tensor.numpy()
        with pytest.raises(AliasingError, match=r"made by Tensor\.numpy\(\)"):
            swap(tensor)
    assert tensor.data_ptr() == array.ctypes.data


def test_resize_under_a_numpy_view_is_refused_with_the_reason() -> None:
    tensor = torch.arange(10.0)
    with sanitize(raw_routes=True):
        array = tensor.numpy()
        with pytest.raises(AliasingError, match="other memory"):
            tensor.resize_(100)
        tensor.resize_(10)  # the same shape: nothing moves
    assert array.shape == (10,)


def test_swaps_with_no_live_numpy_view_are_allowed() -> None:
    with sanitize(raw_routes=True):
        before = torch.arange(4.0)
        share_memory(before)  # first, then the view: the order the fix uses
        array = before.numpy()
        assert is_shared(before)
        assert np.shares_memory(array, before.numpy())
        lone = torch.arange(4.0)
        lone.numpy()  # a temporary nobody keeps
        share_memory(lone)
        assert is_shared(lone)
        replaced = torch.arange(4.0)
        replaced.set_(torch.zeros(2).untyped_storage())
        assert torch.equal(replaced, torch.zeros(2))


def test_nothing_is_patched_once_the_sanitizer_exits() -> None:
    originals = [
        vars(torch.UntypedStorage).get(name) for name in ("_share_fd_cpu_", "_share_filename_cpu_")
    ]
    with sanitize(raw_routes=True):
        pass
    assert [
        vars(torch.UntypedStorage).get(name) for name in ("_share_fd_cpu_", "_share_filename_cpu_")
    ] == originals
    tensor = torch.arange(3.0)
    keep = tensor.numpy()
    share_memory(tensor)  # unguarded outside the sanitizer, as torch itself
    assert keep.shape == (3,)
