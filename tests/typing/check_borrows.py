"""A `Shared` value is read-only to checkers; an `Owned` one is not. Never executed.

Each kind of write into a borrow is an expected error in both checkers: a torch in-place method,
item assignment, an augmented operator, and NumPy's writing methods. pyright strict also reports
the methods' PEP 702 deprecation (``reportDeprecated``), whose text says what to do instead.
Reading a borrow, passing it on, copying it, and writing an owned value stay clean.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from jaxtyping import Float
from numpy.typing import NDArray
from torch import Tensor
from typing_extensions import assert_type

from aliasguard import Owned, Shared, own, share
from aliasguard._readonly import (  # pyright: ignore[reportMissingModuleSource]
    ReadOnlyArray,
    ReadOnlyTensor,
)


def takes_tensor(x: torch.Tensor) -> float:
    return float(x.sum())


def takes_array(x: NDArray[Any]) -> float:
    return float(x.sum())


def in_place_tensor_methods(shared: Shared[torch.Tensor], other: torch.Tensor) -> None:
    shared.value.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.copy_(other)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.clamp_(0.0, 1.0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.masked_fill_(other > 0, 0.0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.index_put_((other,), other)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.scatter_(0, other, 1.0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.resize_(3)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.set_(other)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.share_memory_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.requires_grad_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]


def tensor_item_assignment(shared: Shared[torch.Tensor], other: torch.Tensor) -> None:
    shared.value[0] = 1  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]
    shared.value[:, 1] = other  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]
    # An element is a view of the borrow: its augmented operator is refused before its write-back.
    shared.value[0] += 1  # type: ignore[misc]  # pyright: ignore[reportDeprecated]


def tensor_augmented_operators(shared: Shared[torch.Tensor]) -> None:
    # Each on its own name: after a refused `+=` the name holds no tensor any more.
    added = shared.value
    added += 1  # type: ignore[misc]  # pyright: ignore[reportDeprecated]
    multiplied = shared.value
    multiplied *= 2  # type: ignore[misc]  # pyright: ignore[reportDeprecated]
    divided = shared.value
    divided /= 2  # type: ignore[misc]  # pyright: ignore[reportDeprecated]


def tensor_payloads_of_every_spelling(
    jaxtyped: Shared[Float[Tensor, "b c"]], shared: Shared[torch.Tensor]
) -> None:
    assert_type(jaxtyped.value, ReadOnlyTensor)
    assert_type(share(np.zeros(3)).value, ReadOnlyTensor)
    jaxtyped.value.mul_(2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]


def array_writing_methods(shared: Shared[NDArray[np.float32]]) -> None:
    shared.value.fill(0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.put([0], [1.0])  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.sort()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.partition(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.resize((2, 2))  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.setflags(write=True)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.setfield(1.0, np.dtype(np.float32))  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]


def array_item_assignment_and_augmented_operators(shared: Shared[NDArray[Any]]) -> None:
    shared.value[0] = 1  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]
    shared.value[shared.value > 0] = 0  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]
    added = shared.value
    added += 1  # type: ignore[misc]  # pyright: ignore[reportDeprecated]
    subtracted = shared.value
    subtracted -= 1  # type: ignore[misc]  # pyright: ignore[reportDeprecated]


def views_of_a_borrowed_tensor_are_borrows(
    shared: Shared[torch.Tensor], other: torch.Tensor
) -> None:
    shared.value[0].add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value[:, 1:].zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.T.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.mT.zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.view(-1).fill_(0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.transpose(0, 1).copy_(other)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.permute(1, 0).mul_(2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.narrow(0, 0, 1).zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.select(0, 0).zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.expand(3, 3).zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.unsqueeze(0).zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.squeeze().zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.diagonal().zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.detach().zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.real.zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.as_strided((1,), (1,)).zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.split(1)[0].zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.chunk(2)[0].zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.unbind()[0].zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.view(-1)[0] = 1  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]
    for row in shared.value:
        row.zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    # Those that may copy are read-only too: a write into what may be the borrow is a bug.
    shared.value.reshape(-1).zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.flatten().zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.contiguous().zero_()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    transposed = shared.value.T
    transposed += 1  # type: ignore[misc]  # pyright: ignore[reportDeprecated]
    # A view's attribute cannot be rebound to other data either.
    shared.value.real = other  # type: ignore[misc, assignment]  # pyright: ignore[reportAttributeAccessIssue]
    # The views keep torch's parameters, so a wrong argument is still reported.
    shared.value.narrow("0", 0, 1)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    # Tensor.numpy() shares the tensor's memory.
    shared.value.numpy().fill(0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    shared.value.numpy()[0] = 1  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]


def views_of_a_borrowed_array_are_borrows(array: Shared[NDArray[np.float32]]) -> None:
    array.value[1:].fill(0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    array.value[1:][0] = 1  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]
    array.value[..., 0].sort()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    array.value.T.fill(0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    array.value.transpose().fill(0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    array.value.swapaxes(0, 1).fill(0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    array.value.reshape(2, -1)[0] = 1  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]
    array.value.ravel().sort()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    array.value.view(np.int32).fill(0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    array.value.squeeze().fill(0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    array.value.real.fill(0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    array.value.imag = 0  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]
    tail = array.value[1:]
    tail += 1  # type: ignore[misc]  # pyright: ignore[reportDeprecated]


def reading_views_of_a_borrow_is_clean(
    shared: Shared[torch.Tensor], array: Shared[NDArray[np.float32]], other: torch.Tensor
) -> None:
    assert_type(shared.value[0], ReadOnlyTensor)
    assert_type(shared.value.T, ReadOnlyTensor)
    assert_type(shared.value.view(-1), ReadOnlyTensor)
    assert_type(shared.value.unbind(), tuple[ReadOnlyTensor, ...])
    assert_type(shared.value.numpy(), ReadOnlyArray[Any, np.dtype[Any]])
    assert_type(array.value[1:], ReadOnlyArray[tuple[Any, ...], np.dtype[np.float32]])
    assert_type(array.value.T, ReadOnlyArray[tuple[Any, ...], np.dtype[np.float32]])
    takes_tensor(shared.value.T)
    takes_array(array.value.reshape(2, -1))
    total = shared.value.view(-1).sum() + shared.value.T @ other + shared.value.mT.mean()
    print(total, float(array.value[0]), np.sum(array.value.ravel()))
    # A copy of a view is the caller's own.
    shared.value.T.clone().add_(1)
    shared.value[0].clone()[0] = 1
    array.value[1:].copy().fill(0)
    own(shared.value.T).value.fill(0)


def the_wrapper_attribute_is_read_only_too(shared: Shared[torch.Tensor]) -> None:
    shared.value += 1  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue, reportDeprecated]


def reading_a_borrow_is_clean(shared: Shared[torch.Tensor], array: Shared[NDArray[Any]]) -> None:
    assert_type(shared.value, ReadOnlyTensor)
    assert_type(array.value, ReadOnlyArray[tuple[Any, ...], np.dtype[Any]])
    assert_type(shared.value + 1, torch.Tensor)
    assert_type(shared.value.sum(), torch.Tensor)
    assert_type(shared.value.shape, torch.Size)
    total = float(array.value.sum()) + float(np.mean(array.value))
    print(total, shared.value[0], array.value[0])


def passing_a_borrow_on_is_clean(shared: Shared[torch.Tensor], array: Shared[NDArray[Any]]) -> None:
    takes_tensor(shared.value)
    takes_array(array.value)
    torch.relu(shared.value)
    np.clip(array.value, 0.0, 1.0)


def copying_a_borrow_gives_a_writable_value(
    shared: Shared[torch.Tensor], array: Shared[NDArray[Any]]
) -> None:
    assert_type(own(shared.value), Owned[NDArray[Any]])
    assert_type(own(shared.value).value, NDArray[Any])
    own(array.value).value.add_(1)
    copy = shared.value.clone()
    copy.add_(1)
    copy[0] = 1
    copy += 1
    array_copy = array.value.copy()
    array_copy.fill(0)
    array_copy[0] = 1


def writing_an_owned_value_is_clean(
    owned: Owned[torch.Tensor],
    owned_array: Owned[NDArray[Any]],
    jaxtyped: Owned[Float[Tensor, "b c"]],
) -> None:
    assert_type(owned.value, torch.Tensor)
    assert_type(jaxtyped.value, torch.Tensor)
    owned.value.add_(1)
    owned.value[0] = 1
    jaxtyped.value.zero_()
    owned_array.value.fill(0)
    owned_array.value[0] = 1
    tensor = owned.value
    tensor += 1
