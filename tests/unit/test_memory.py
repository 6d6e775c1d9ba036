"""shares_memory() on the inputs at the edges: wrappers, tensors without memory, huge layouts.

The random views live in tests/property/test_shares_memory.py; these are the values whose memory
is elsewhere or out of NumPy's reach, where the only safe answers are exact or "may overlap".
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import as_strided
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.utils._pytree import tree_map

from aliasguard import shares_memory
from aliasguard._torch_compat import from_numpy


def _dispatch_to_wrapped(
    cls: type, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
) -> Any:
    def unwrap(value: object) -> object:
        return value.wrapped if isinstance(value, Wrapper) else value

    return func(*tree_map(unwrap, args), **tree_map(unwrap, kwargs or {}))


class Wrapper(torch.Tensor):
    """A wrapper subclass that does not say what it wraps: its own data pointer is 0."""

    wrapped: torch.Tensor
    # Typed as Any: torch's stubs describe the hook as a plain function, not a classmethod.
    __torch_dispatch__: Any = cast("Any", classmethod(_dispatch_to_wrapped))

    @staticmethod
    def __new__(cls: type[Wrapper], wrapped: torch.Tensor) -> Wrapper:
        make = cast("Any", torch.Tensor)._make_wrapper_subclass
        made: object = make(cls, wrapped.shape, dtype=wrapped.dtype, device=wrapped.device)
        assert isinstance(made, Wrapper)
        made.wrapped = wrapped
        return made


def test_a_wrapper_that_hides_its_memory_may_overlap_anything_on_its_device() -> None:
    array = np.zeros(3, np.float32)
    wrapper = Wrapper(from_numpy(array))
    wrapper.add_(1)  # the write reaches the array through the wrapper
    assert array.tolist() == [1.0, 1.0, 1.0]
    assert shares_memory(wrapper, array)
    assert shares_memory(wrapper, wrapper)


def test_jagged_nested_tensors_are_compared_through_the_tensors_they_hold() -> None:
    nested = torch.nested.nested_tensor(  # pyright: ignore[reportUnknownMemberType]
        [torch.zeros(2), torch.zeros(3)], layout=torch.jagged
    )
    assert shares_memory(nested, nested.values()[3:])
    assert not shares_memory(nested, np.zeros(5))
    assert not shares_memory(nested, torch.zeros(5))


def test_tensors_without_memory_may_overlap_anything_on_their_device() -> None:
    with FakeTensorMode():
        fake = torch.ones(3)
    assert shares_memory(fake, np.zeros(3))
    answers: list[bool] = []

    def probe(batched: torch.Tensor) -> torch.Tensor:
        answers.append(shares_memory(batched, batched))
        return batched

    torch.func.vmap(probe)(torch.zeros(2, 3))
    torch.func.functionalize(probe)(torch.zeros(3))
    assert answers == [True, True]


def test_zero_stride_and_length_one_axes_of_any_size_are_answered() -> None:
    one = torch.zeros(1, dtype=torch.float64)
    assert shares_memory(one.expand(2**60), one)
    assert shares_memory(torch.zeros(1).expand(2**31, 2**31), torch.zeros(1)) is False
    four = torch.zeros(4)
    assert shares_memory(four.as_strided((1, 4), (2**61, 1)), four[3:])
    assert not shares_memory(four.as_strided((1, 2), (2**61, 1)), four[2:])


def test_more_dimensions_than_numpy_allows_are_answered() -> None:
    deep = torch.zeros([1] * 70 + [4])
    assert shares_memory(deep, deep.view(-1)[3:])
    assert not shares_memory(deep, torch.zeros(4))


@pytest.mark.parametrize("offset", [0, 1])
def test_a_reach_past_int64_is_may_overlap_never_a_wrong_false(offset: int) -> None:
    # NumPy's own solver overflows here and answers False for a byte both views touch.
    buffer = np.zeros(16, np.uint8)
    huge = as_strided(buffer, (3, 2**40), (2**62, 1), writeable=False)
    assert shares_memory(huge, buffer[1 + offset : 2 + offset])


class Scaled(torch.Tensor):
    """A subclass with memory of its own that also names an inner tensor to torch.compile."""

    scale: torch.Tensor

    def __tensor_flatten__(self) -> tuple[list[str], None]:
        return ["scale"], None


def test_a_subclass_with_memory_of_its_own_is_compared_with_it_too() -> None:
    array = np.zeros(4, np.float32)
    scaled = from_numpy(array).as_subclass(Scaled)
    scaled.scale = torch.ones(1)
    assert shares_memory(scaled, array)
    assert shares_memory(scaled, scaled.scale)
    assert not shares_memory(scaled, np.zeros(4))


class ElsewhereInterface(np.ndarray[Any, Any]):
    """An ndarray subclass whose __array_interface__ names other memory than its own."""

    @property
    def __array_interface__(self) -> dict[str, object]:
        elsewhere = np.zeros(1)
        interface = dict(elsewhere.__array_interface__)
        interface["data"] = (elsewhere.ctypes.data + 4096, False)
        return interface


def test_an_array_subclass_is_compared_by_the_memory_numpy_reads() -> None:
    base = np.arange(8.0)
    lying = base.view(ElsewhereInterface)
    assert np.shares_memory(lying, base)
    assert shares_memory(lying, base)
    assert shares_memory(lying[2:], from_numpy(base)[5:])
    assert not shares_memory(lying[:2], base[2:])
