"""Static types of `Shared` and `Owned`: checked by mypy and pyright, never executed.

`assert_type` lines must type-check exactly. Lines ending in ``# type: ignore[...]`` plus
``# pyright: ignore[...]`` must stay errors: mypy's ``warn_unused_ignores`` and pyright's
``reportUnnecessaryTypeIgnoreComment`` fail the check if one stops being an error. See README.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from typing_extensions import assert_type

from aliasguard import Owned, Shared, is_owned, is_shared
from aliasguard._readonly import ReadOnlyTensor  # pyright: ignore[reportMissingModuleSource]


def wants_shared_tensor(x: Shared[torch.Tensor]) -> None: ...
def wants_owned_tensor(x: Owned[torch.Tensor]) -> None: ...
def wants_shared_array(x: Shared[NDArray[Any]]) -> None: ...
def wants_owned_array(x: Owned[NDArray[Any]]) -> None: ...
def wants_shared_either(x: Shared[torch.Tensor | NDArray[Any]]) -> None: ...
def wants_owned_either(x: Owned[torch.Tensor | NDArray[Any]]) -> None: ...


def an_owned_value_is_a_borrow_never_the_reverse(
    shared: Shared[torch.Tensor], owned: Owned[torch.Tensor]
) -> None:
    wants_shared_tensor(owned)
    wants_shared_tensor(shared)
    wants_owned_tensor(owned)
    wants_owned_tensor(shared)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def the_payload_type_is_covariant(
    shared: Shared[torch.Tensor], owned: Owned[torch.Tensor], owned_array: Owned[NDArray[Any]]
) -> None:
    wants_shared_either(shared)
    wants_shared_either(owned)
    wants_shared_either(owned_array)
    wants_owned_either(owned)
    wants_owned_either(owned_array)
    # Covariant, not anything-goes: a tensor payload is no array payload.
    wants_shared_array(shared)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    wants_owned_array(owned)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    wants_shared_tensor(owned_array)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def value_and_source(
    shared: Shared[torch.Tensor], owned: Owned[NDArray[Any]], either: Shared[Any]
) -> None:
    assert_type(shared.value, ReadOnlyTensor)  # read-only to checkers: see check_borrows.py
    assert_type(owned.value, NDArray[Any])
    assert_type(either.value, Any)
    assert_type(shared.source, object)
    assert_type(owned.source, object)


def value_and_source_are_read_only(shared: Shared[torch.Tensor], tensor: torch.Tensor) -> None:
    shared.value = tensor  # type: ignore[misc, assignment]  # pyright: ignore[reportAttributeAccessIssue]
    shared.source = tensor  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    # pyright only: mypy never checks `del` against a property's deleter (python/mypy#12904).
    # The runtime raises AttributeError either way.
    del shared.value  # pyright: ignore[reportAttributeAccessIssue]


def constructors(array: NDArray[Any], tensor: torch.Tensor) -> None:
    assert_type(Shared(tensor), Shared[torch.Tensor])
    assert_type(Shared(tensor, source=array), Shared[torch.Tensor])
    assert_type(Shared(array), Shared[NDArray[Any]])
    assert_type(Owned(tensor), Owned[torch.Tensor])
    assert_type(Owned(np.zeros(3)), Owned[np.ndarray[tuple[int], np.dtype[np.float64]]])
    # The payload is bound to arrays and tensors.
    Shared(5)  # type: ignore[type-var]  # pyright: ignore[reportArgumentType]
    Owned([1.0])  # type: ignore[type-var]  # pyright: ignore[reportArgumentType]
    Owned(tensor, source=array)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


def bad_payload_annotation(x: Shared[int]) -> None: ...  # type: ignore[type-var]  # pyright: ignore[reportInvalidTypeArguments]


def is_shared_narrows_anything(value: object) -> None:
    if is_shared(value):
        assert_type(value, Shared[Any])
    else:
        assert_type(value, object)


def is_shared_narrows_a_union(value: NDArray[Any] | Shared[NDArray[Any]]) -> None:
    if is_shared(value):
        assert_type(value, Shared[NDArray[Any]])
    else:
        assert_type(value, NDArray[Any])


def is_owned_narrows_anything(value: object) -> None:
    if is_owned(value):
        assert_type(value, Owned[Any])


def is_owned_keeps_the_payload(handle: Shared[torch.Tensor]) -> None:
    if is_owned(handle):
        assert_type(handle, Owned[torch.Tensor])  # the payload type survives the narrowing
    else:
        assert_type(handle, Shared[torch.Tensor])


# Last in the module on purpose: Owned.__init_subclass__ is annotated NoReturn, so mypy treats
# everything after a subclass of Owned as unreachable and silently stops checking it.
class MoreOwned(Owned[torch.Tensor]):  # type: ignore[misc]  # pyright: ignore[reportGeneralTypeIssues]
    pass
