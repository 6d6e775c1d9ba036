"""Static types of `share` and `own`: checked by mypy and pyright, never executed.

`assert_type` lines must type-check exactly. Lines ending in ``# type: ignore[...]`` plus
``# pyright: ignore[...]`` must stay errors: mypy's ``warn_unused_ignores`` and pyright's
``reportUnnecessaryTypeIgnoreComment`` fail the check if one stops being an error. See README.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from jaxtyping import Float, Int
from numpy.typing import NDArray
from typing_extensions import assert_type

from aliasguard import Owned, Shared, own, share
from aliasguard._readonly import ReadOnlyArray, ReadOnlyTensor  # pyright: ignore[reportMissingModuleSource]

# numpy.typing.NDArray[Any] is ndarray[tuple[Any, ...], dtype[Any]]: the converters return that
# alias, so the assertions below name it the same way.


def share_follows_the_input_library(
    *,
    array: NDArray[Any],
    tensor: torch.Tensor,
    shared_array: Shared[NDArray[Any]],
    shared_tensor: Shared[torch.Tensor],
    owned_array: Owned[NDArray[Any]],
    owned_tensor: Owned[torch.Tensor],
) -> None:
    assert_type(share(array), Shared[torch.Tensor])
    assert_type(share(tensor), Shared[NDArray[Any]])
    # A wrapper converts its payload: the direction follows what it holds, not the wrapper kind.
    assert_type(share(shared_array), Shared[torch.Tensor])
    assert_type(share(shared_tensor), Shared[NDArray[Any]])
    assert_type(share(owned_array), Shared[torch.Tensor])
    assert_type(share(owned_tensor), Shared[NDArray[Any]])
    # Concrete NumPy shapes and dtypes still pick the array overload.
    assert_type(share(np.zeros((2, 3), dtype=np.float32)), Shared[torch.Tensor])
    # A borrow's value is read-only to checkers; see check_borrows.py.
    assert_type(share(array).value, ReadOnlyTensor)
    assert_type(share(tensor).value, ReadOnlyArray[tuple[Any, ...], np.dtype[Any]])
    assert_type(share(tensor).source, object)


def own_follows_the_input_library(
    *,
    array: NDArray[Any],
    tensor: torch.Tensor,
    shared_array: Shared[NDArray[Any]],
    shared_tensor: Shared[torch.Tensor],
    owned_array: Owned[NDArray[Any]],
    owned_tensor: Owned[torch.Tensor],
) -> None:
    assert_type(own(array), Owned[torch.Tensor])
    assert_type(own(tensor), Owned[NDArray[Any]])
    assert_type(own(shared_array), Owned[torch.Tensor])
    assert_type(own(shared_tensor), Owned[NDArray[Any]])
    assert_type(own(owned_array), Owned[torch.Tensor])
    assert_type(own(owned_tensor), Owned[NDArray[Any]])
    assert_type(own(array).value, torch.Tensor)
    assert_type(own(tensor).value, NDArray[Any])


def own_keyword_arguments(array: NDArray[Any], tensor: torch.Tensor) -> None:
    assert_type(own(array, dtype=np.float32), Owned[torch.Tensor])
    assert_type(own(array, dtype=torch.bfloat16), Owned[torch.Tensor])
    assert_type(own(array, dtype="bfloat16", casting="same_kind"), Owned[torch.Tensor])
    assert_type(own(array, device="cuda:0"), Owned[torch.Tensor])
    assert_type(own(array, device=torch.device("cpu")), Owned[torch.Tensor])
    assert_type(own(array, device=0), Owned[torch.Tensor])
    assert_type(own(tensor, dtype=torch.float16, casting="unsafe"), Owned[NDArray[Any]])
    assert_type(own(tensor, device=None), Owned[NDArray[Any]])


def either_library_gives_a_union(value: NDArray[Any] | torch.Tensor) -> None:
    assert_type(share(value), Shared[torch.Tensor] | Shared[NDArray[Any]])
    assert_type(own(value), Owned[torch.Tensor] | Owned[NDArray[Any]])


def jaxtyping_annotations_are_their_array_type(
    tensor: Float[torch.Tensor, "b c"],
    array: Int[np.ndarray, " n"],
    owned: Owned[Float[torch.Tensor, "b c"]],
    shared: Shared[Float[np.ndarray, "b c"]],
) -> None:
    # jaxtyping's TYPE_CHECKING branch makes Float[T, "..."] an Annotated[T, ...], which is T.
    assert_type(tensor, torch.Tensor)
    assert_type(owned, Owned[torch.Tensor])
    assert_type(shared, Shared[NDArray[Any]])
    assert_type(share(array), Shared[torch.Tensor])
    assert_type(own(tensor), Owned[NDArray[Any]])


def takes_shared_matrix(x: Shared[Float[torch.Tensor, "b c"]]) -> Owned[Float[torch.Tensor, "b c"]]:
    return own(own(x).value)


def jaxtyping_parameters_accept_converter_results(
    array: Float[np.ndarray, "b c"],
    tensor: torch.Tensor,
) -> None:
    assert_type(takes_shared_matrix(share(array)), Owned[torch.Tensor])
    assert_type(takes_shared_matrix(own(array)), Owned[torch.Tensor])
    takes_shared_matrix(share(tensor))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def bad_arguments_are_errors(array: NDArray[Any], tensor: torch.Tensor) -> None:
    # casting is a Literal of NumPy's five rules.
    own(array, dtype=np.float32, casting="bogus")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    own(tensor, dtype=np.float32, casting="bogus")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    # Tensors always come back to the host as NumPy arrays: the tensor overload has device: None,
    # and the array overload does not take a tensor, so no overload matches.
    own(tensor, device="cuda")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    own(tensor, device=torch.device("cpu"))  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    # Only arrays, tensors and wrappers of them convert.
    share(5)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    own([1.0, 2.0])  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    # dtype and the rest are keyword-only.
    own(array, np.float32)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]


def wants_owned_tensor(x: Owned[torch.Tensor]) -> None: ...
def wants_shared_tensor(x: Shared[torch.Tensor]) -> None: ...


def results_keep_their_kind(array: NDArray[Any], tensor: torch.Tensor) -> None:
    wants_owned_tensor(own(array))
    wants_shared_tensor(own(array))
    wants_shared_tensor(share(array))
    wants_owned_tensor(share(array))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    wants_shared_tensor(share(tensor))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    wants_shared_tensor(own(tensor))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
