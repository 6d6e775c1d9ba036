"""Copies or views: a write shows through exactly when the result is Shared, for every layout.

share() either aliases (same data pointer, same element addresses, writes visible both ways) or
raises ShareError, never a silent copy. own() never aliases: writes on either side stay on that side.
Bytes are compared as stored in memory, so no float comparison can hide a change.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import aliasguard
from aliasguard import ShareError, own, share, shares_memory
from aliasguard.strategies import ARRAY_DTYPES, ARRAY_LAYOUTS, arrays, tensors
from dtype_names import numpy_dtype_named
from helpers import address

MUTATION = settings(max_examples=150, deadline=None)
INTEGER_OF_SIZE = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
#: Arrays whose memory a shared tensor may write: aliasable, writable, with elements.
WRITABLE_SHAREABLE = tuple(
    layout
    for layout in ARRAY_LAYOUTS
    if layout not in ("read-only", "byte-swapped", "unaligned", "negative-strides", "empty")
)


class _Interface:
    def __init__(self, interface: dict[str, object]) -> None:
        self.__array_interface__ = interface


def byte_strides(value: npt.NDArray[Any] | torch.Tensor) -> tuple[int, ...]:
    if isinstance(value, torch.Tensor):
        return tuple(stride * value.element_size() for stride in value.stride())
    return value.strides


def memory_of(
    value: npt.NDArray[Any] | torch.Tensor, *, writable: bool = False
) -> npt.NDArray[Any]:
    """The bytes each element of ``value`` occupies, shaped ``value.shape + (itemsize,)``.

    Built from the address and strides alone, so it sees what is stored, whatever the value's
    flags, byte order or lazy conjugate/negative bits say.
    """
    shape = tuple(value.shape)
    itemsize = value.element_size() if isinstance(value, torch.Tensor) else value.itemsize
    if 0 in shape:
        return np.zeros((*shape, itemsize), np.uint8)
    interface: dict[str, object] = {
        "version": 3,
        "shape": (*shape, itemsize),
        "strides": (*byte_strides(value), 1),
        "typestr": "|u1",
        "data": (address(value), not writable),
    }
    return np.asarray(_Interface(interface))


def stored_bytes(value: npt.NDArray[Any] | torch.Tensor) -> bytes:
    return memory_of(value).tobytes()


def is_bool(value: npt.NDArray[Any] | torch.Tensor) -> bool:
    if isinstance(value, torch.Tensor):
        return value.dtype == torch.bool
    return value.dtype == np.bool_


def flip_mask(value: npt.NDArray[Any] | torch.Tensor) -> np.uint8:
    return np.uint8(1 if is_bool(value) else 0xFF)  # a bool must stay 0 or 1


def write_to_array(array: npt.NDArray[Any]) -> None:
    """Invert every stored bit of ``array``: through NumPy when it is writable, else in memory."""
    if array.flags.writeable:
        inverted = np.array(array)  # same dtype and byte order: a bit-exact copy
        copy_memory = memory_of(inverted, writable=True)
        copy_memory[...] = copy_memory ^ flip_mask(array)
        array[...] = inverted  # same-dtype assignment moves bits, no float arithmetic
    else:
        memory = memory_of(array, writable=True)
        memory[...] = memory ^ flip_mask(array)  # a temporary first: zero strides flip once


def write_to_tensor(tensor: torch.Tensor) -> None:
    """Invert every stored bit of ``tensor`` with an in-place torch op (no internal overlap)."""
    if tensor.dtype == torch.bool:
        tensor.logical_not_()
        return
    if tensor.element_size() == 16:  # complex128: no 16-byte integer
        tensor = torch.view_as_real(tensor)
    tensor.view(INTEGER_OF_SIZE[tensor.element_size()]).bitwise_not_()


def flipped(stored: bytes, value: npt.NDArray[Any] | torch.Tensor) -> bytes:
    return (np.frombuffer(stored, np.uint8) ^ flip_mask(value)).tobytes()


def array_share_refusal(array: npt.NDArray[Any]) -> str | None:
    """The ShareError reason share() must give for ``array``, or None where it must alias."""
    if not array.dtype.isnative:
        return "byte-order"
    if not array.flags.aligned:
        return "unaligned"
    steps_backwards = any(
        stride < 0 and size > 1 for size, stride in zip(array.shape, array.strides, strict=True)
    )
    if array.size and steps_backwards:
        return "negative-strides"
    return None


def tensor_share_refusal(tensor: torch.Tensor) -> str | None:
    """The ShareError reason share() must give for ``tensor``, or None where it must alias."""
    if tensor.layout != torch.strided:
        return "layout"
    if tensor.requires_grad:
        return "requires-grad"
    if tensor.is_conj():
        return "conjugate"
    if tensor.is_neg():
        return "negative"
    if str(tensor.dtype).removeprefix("torch.") not in ARRAY_DTYPES:
        return "dtype"
    return None


def assert_same_elements(
    first: npt.NDArray[Any] | torch.Tensor, second: npt.NDArray[Any] | torch.Tensor
) -> None:
    """Same shape, and each element at the same address: the very same memory, not a copy."""
    shape = tuple(first.shape)
    assert tuple(second.shape) == shape
    if 0 in shape:
        return
    assert address(first) == address(second)
    for size, one, other in zip(shape, byte_strides(first), byte_strides(second), strict=True):
        assert size == 1 or one == other, (byte_strides(first), byte_strides(second))


# ----------------------------------------------------------------------------------------------
# share(): the same memory, or ShareError


@MUTATION
@given(arrays())
def test_share_array_aliases_or_refuses(array: npt.NDArray[Any]) -> None:
    refusal = array_share_refusal(array)
    if refusal is not None:
        with pytest.raises(ShareError) as raised:
            share(array)
        assert raised.value.reason == refusal
        return
    before = stored_bytes(array)
    shared = share(array)
    assert type(shared) is aliasguard.Shared
    tensor = shared.value
    assert isinstance(tensor, torch.Tensor)
    assert tensor.dtype == getattr(torch, array.dtype.name)
    assert_same_elements(array, tensor)
    assert stored_bytes(tensor) == before
    assert shares_memory(array, tensor) == (array.size > 0)
    assert shares_memory(array, shared) == (array.size > 0)
    # ... and back: the tensor shares into the very same memory again.
    assert_same_elements(array, share(tensor).value)

    # A write to the source shows through the tensor.
    write_to_array(array)
    assert stored_bytes(array) == flipped(before, array)
    assert stored_bytes(tensor) == stored_bytes(array)


@MUTATION
@given(arrays(layouts=("negative-strides",), shapes=hnp.array_shapes(max_dims=3, max_side=1)))
def test_share_aliases_inert_negative_strides(array: npt.NDArray[Any]) -> None:
    # A negative stride on a length-1 axis never steps (numpy #23349: even np.ascontiguousarray
    # keeps it): the elements lie forward, so share() must alias them, whatever the dtype.
    assert min(array.strides) < 0
    tensor = share(array).value
    assert_same_elements(array, tensor)
    assert stored_bytes(tensor) == stored_bytes(array)


# Writing through a borrow is what the sanitizer forbids (the plugin runs every test under it);
# here the write is the point: it shows the borrow really is the same memory.
@pytest.mark.aliasguard_unsanitized
@MUTATION
@given(arrays(layouts=WRITABLE_SHAREABLE), st.data())
def test_write_through_shared_tensor_reaches_source(
    array: npt.NDArray[Any], data: st.DataObject
) -> None:
    tensor = share(array).value
    index = data.draw(st.tuples(*(st.integers(0, size - 1) for size in array.shape)))
    before = memory_of(array).copy()
    write_to_tensor(tensor[index])  # a 0-d view: torch refuses in-place ops on overlapping ones
    after = memory_of(array)
    assert (after[index] == before[index] ^ flip_mask(array)).all()
    assert stored_bytes(tensor) == after.tobytes()
    changed = (after != before).any(axis=-1)
    if 0 not in array.strides:  # without zero strides, no other element holds those bytes
        assert changed.sum() == 1


@pytest.mark.aliasguard_unsanitized  # it writes the source tensor while NumPy borrows it
@MUTATION
@given(tensors())
def test_share_tensor_aliases_read_only_or_refuses(tensor: torch.Tensor) -> None:
    refusal = tensor_share_refusal(tensor)
    if refusal is not None:
        with pytest.raises(ShareError) as raised:
            share(tensor)
        assert raised.value.reason == refusal
        return
    before = stored_bytes(tensor)
    shared = share(tensor)
    assert type(shared) is aliasguard.Shared
    array = shared.value
    assert type(array) is np.ndarray
    assert array.dtype == numpy_dtype_named(str(tensor.dtype).removeprefix("torch."))
    assert_same_elements(tensor, array)
    assert stored_bytes(array) == before
    assert shares_memory(tensor, array) == (tensor.numel() > 0)

    assert not array.flags.writeable

    # A write to the source tensor shows through the array.
    if tensor.numel():
        write_to_tensor(tensor[(0,) * tensor.dim()])  # one element: zero strides overlap
        assert stored_bytes(tensor) != before
        assert stored_bytes(array) == stored_bytes(tensor)


def assert_cannot_be_made_writable(array: npt.NDArray[Any]) -> None:
    # Truly read-only: neither the array nor a view of it can be made writable again. (Setting
    # flags.writeable = False alone is not enough: the flag can be set back on an array that owns
    # its memory, or on a view whose base is writable.)
    for view in (array, array[...], array.view(array.dtype)):
        assert not view.flags.writeable
        with pytest.raises(ValueError, match="WRITEABLE"):
            view.flags.writeable = True


SHAREABLE_TENSORS = ("contiguous", "0-d", "strided", "transposed", "zero-strides", "storage-offset")


@MUTATION
@given(tensors(dtypes=ARRAY_DTYPES, layouts=SHAREABLE_TENSORS))
def test_shared_array_cannot_be_made_writable(tensor: torch.Tensor) -> None:
    assert_cannot_be_made_writable(share(tensor).value)


@settings(max_examples=50, deadline=None)
@given(tensors(dtypes=ARRAY_DTYPES, layouts=("empty",)))
def test_shared_empty_array_cannot_be_made_writable(tensor: torch.Tensor) -> None:
    assert_cannot_be_made_writable(share(tensor).value)


@MUTATION
@given(st.one_of(arrays(), arrays(layouts=("negative-strides",)), tensors()))
def test_shared_source_is_the_input(value: npt.NDArray[Any] | torch.Tensor) -> None:
    # share()'s docstring: ".source is x, kept alive as long as the result lives".
    try:
        shared = share(value)
    except ShareError:
        return
    assert shared.source is value


# ----------------------------------------------------------------------------------------------
# own(): fresh memory, written on one side only


@MUTATION
@given(arrays())
def test_own_array_never_aliases(array: npt.NDArray[Any]) -> None:
    before = stored_bytes(array)
    owned = own(array)
    tensor = owned.value
    assert not shares_memory(array, tensor)
    assert not shares_memory(array, owned)
    copy_before = stored_bytes(tensor)

    write_to_tensor(tensor)  # contiguous and fresh: the whole tensor at once
    assert stored_bytes(array) == before
    copy_after = stored_bytes(tensor)
    assert copy_after == flipped(copy_before, tensor)

    write_to_array(array)
    assert stored_bytes(array) == flipped(before, array)
    assert stored_bytes(tensor) == copy_after


@MUTATION
@given(tensors(dtypes=ARRAY_DTYPES))  # own() makes NumPy arrays of what NumPy can hold
def test_own_tensor_never_aliases(tensor: torch.Tensor) -> None:
    owned = own(tensor)
    array = owned.value
    assert array.flags.writeable
    assert not shares_memory(tensor, array)
    assert not shares_memory(tensor, owned)
    if tensor.layout != torch.strided:
        return  # a sparse tensor's memory is its index and value tensors: shares_memory covers it
    before = stored_bytes(tensor)
    copy_before = stored_bytes(array)

    memory = array.reshape(-1).view(np.uint8)  # C-contiguous: every byte of the copy
    memory ^= flip_mask(array)
    assert stored_bytes(tensor) == before
    copy_after = stored_bytes(array)
    assert copy_after == flipped(copy_before, array)

    source_memory = memory_of(tensor, writable=True)  # lazy bits, grad: write under torch's eyes
    source_memory[...] = source_memory ^ flip_mask(tensor)
    assert stored_bytes(tensor) == flipped(before, tensor)
    assert stored_bytes(array) == copy_after
