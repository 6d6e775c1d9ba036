"""The device paths: run where a CUDA GPU is present, skipped cleanly elsewhere (conftest.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import torch
from jaxtyping import Float
from torch import Tensor

import aliasguard
from aliasguard import AliasingError, Owned, Shared, ShareError, checked, own, share, shares_memory

pytestmark = pytest.mark.cuda


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12.0).reshape(3, 4),
        np.arange(12.0).reshape(3, 4)[::-1, ::2],
        np.arange(6, dtype=">i4"),
        np.broadcast_to(np.arange(3, dtype=np.float32), (2, 3)),
        np.array(7, dtype=np.uint16),
        np.zeros((0, 3), dtype=np.complex64),
    ],
    ids=["contiguous", "negative-strides", "big-endian", "broadcast", "0-d", "empty"],
)
def test_own_places_every_layout_on_the_gpu_exactly(array: npt.NDArray[Any]) -> None:
    on_gpu = own(array, device="cuda").value
    assert on_gpu.device.type == "cuda"
    assert on_gpu.is_contiguous()
    assert tuple(on_gpu.shape) == array.shape
    back = own(on_gpu).value
    assert back.dtype == array.dtype.newbyteorder("=")
    np.testing.assert_array_equal(back, array)


def test_own_casts_on_the_way_to_the_gpu() -> None:
    array = np.array([1.5, -2.25, 3.0], dtype=np.float32)
    result = own(array, device="cuda:0", dtype=torch.bfloat16, casting="same_kind").value
    assert result.dtype == torch.bfloat16
    assert result.device == torch.device("cuda", 0)
    assert own(result, dtype=np.float32).value.tolist() == [1.5, -2.25, 3.0]


def test_own_brings_gpu_tensors_home_resolving_lazy_bits() -> None:
    z = torch.tensor([1 + 2j, 3 - 4j], device="cuda")
    assert own(z.conj()).value.tolist() == [1 - 2j, 3 + 4j]
    assert own(z.conj().imag).value.tolist() == [-2.0, 4.0]
    grad = torch.ones(3, device="cuda", requires_grad=True) * 2
    assert own(grad).value.tolist() == [2.0, 2.0, 2.0]


def test_share_refuses_gpu_tensors_and_names_own() -> None:
    with pytest.raises(ShareError) as caught:
        share(torch.ones(2, device="cuda"))
    assert caught.value.reason == "device"
    assert "own(t)" in str(caught.value).splitlines()[0]


def test_shares_memory_on_the_gpu() -> None:
    base = torch.arange(12.0, device="cuda")
    assert shares_memory(base[::2], base[4:5])
    assert not shares_memory(base[::2], base[1::2])
    assert not shares_memory(base, base.cpu())
    host = np.arange(12.0)
    assert not shares_memory(own(host, device="cuda").value, host)


def test_checked_borrow_rule_sees_gpu_writes() -> None:
    @checked
    def scale_in_place(x: Shared[Float[Tensor, " n"]]) -> None:
        x.value.mul_(2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]

    @checked
    def scaled(x: Shared[Float[Tensor, " n"]]) -> Owned[Float[Tensor, " n"]]:
        return Owned(x.value * 2)

    tensor = torch.ones(4, device="cuda")
    with pytest.raises(AliasingError, match="borrow rule"):
        scale_in_place(Shared(tensor))
    assert scaled(Shared(tensor)).value.device.type == "cuda"


def test_sanitizer_lets_gpu_work_through_and_flags_self_overlap() -> None:
    with aliasguard.sanitize():
        borrowed = share(np.zeros(4, dtype=np.float32)).value
        gpu = borrowed.to("cuda")  # reads the borrow: fine
        # writes GPU memory nobody borrowed: fine at run time; to checkers .to() may return
        # the borrow itself (it does when no conversion is needed), so the write is refused
        gpu.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
        assert gpu.sum().item() == 4.0
        with pytest.raises(AliasingError):
            torch.zeros(3, device="cuda").expand(2, 3).fill_(1)
        with pytest.raises(AliasingError, match="borrowed by share"):
            borrowed.copy_(gpu)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]  # a GPU -> host copy into the borrowed array
