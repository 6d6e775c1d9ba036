"""The report's inputs and routes, as data: add a row here and every cell of it gets measured.

Inputs are built fresh for every cell by a zero-argument function, so no cell sees another cell's
side effects. A route holds one call per library it accepts; ``None`` marks a library it does not
take, and the report skips those pairs.

Example:
    >>> from aliasguard._report_cases import ROUTES, planned_cells
    >>> ROUTES[0].name
    'torch.from_numpy'
    >>> ("torch.from_numpy", "ndarray float32") in planned_cells()
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import torch
import torch.utils.dlpack
from numpy.typing import NDArray

from ._convert import own, share

Library: TypeAlias = Literal["numpy", "torch"]
ArrayOrTensor: TypeAlias = "NDArray[Any] | torch.Tensor"
CellKey: TypeAlias = tuple[str, str]
"""(route name, input name)."""


# ---------------------------------------------------------------------------------------------
# The inputs. Layout cases are float32 so that the layout is the only thing that differs from the
# plain float32 case; each value list holds something a lossy route would visibly change.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputCase:
    """One input fed to every route that accepts its library.

    Attributes:
        name: the row label, unique across both libraries.
        library: which library the input belongs to.
        build: makes a fresh input, so no cell sees another cell's side effects.
    """

    name: str
    library: Library
    build: Callable[[], ArrayOrTensor]


_BEYOND_FLOAT64 = 2**53 + 1  # the smallest integer a float64 (and so a float32) cannot hold


def _read_only_array() -> NDArray[Any]:
    array = np.array([1.5, 2.5, 3.5], dtype=np.float32)
    array.flags.writeable = False
    return array


def _neg_bit_tensor() -> torch.Tensor:
    # `.imag` of a conjugated view is a lazily negated view: torch sets the neg bit, no copy.
    return torch.tensor([1 + 2j, 3 - 4j]).conj().imag


INPUTS: tuple[InputCase, ...] = (
    InputCase(
        "ndarray float32",
        "numpy",
        lambda: np.array([0.1, -0.0, math.nan, 1e-40], dtype=np.float32),
    ),
    InputCase(
        "ndarray float64",
        "numpy",
        lambda: np.array([0.1, -0.0, math.nan, 1e-300], dtype=np.float64),
    ),
    InputCase(
        "ndarray int64 2**53+1",
        "numpy",
        lambda: np.array([_BEYOND_FLOAT64, -_BEYOND_FLOAT64, 1], dtype=np.int64),
    ),
    InputCase(
        "ndarray negative strides",
        "numpy",
        lambda: np.arange(4, dtype=np.float32)[::-1],
    ),
    InputCase("ndarray read-only", "numpy", _read_only_array),
    InputCase("ndarray big-endian >f8", "numpy", lambda: np.array([0.1, 2.5], dtype=">f8")),
    InputCase(
        "ndarray non-contiguous",
        "numpy",
        lambda: np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2],
    ),
    InputCase("ndarray 0-d", "numpy", lambda: np.array(2.5, dtype=np.float32)),
    InputCase(
        "tensor float32",
        "torch",
        lambda: torch.tensor([0.1, -0.0, math.nan, 1e-40], dtype=torch.float32),
    ),
    InputCase(
        "tensor float64",
        "torch",
        lambda: torch.tensor([0.1, -0.0, math.nan, 1e-300], dtype=torch.float64),
    ),
    InputCase(
        "tensor int64 2**53+1",
        "torch",
        lambda: torch.tensor([_BEYOND_FLOAT64, -_BEYOND_FLOAT64, 1], dtype=torch.int64),
    ),
    InputCase(
        "tensor requires_grad",
        "torch",
        lambda: torch.tensor([1.5, 2.5], requires_grad=True),
    ),
    InputCase("tensor conj bit", "torch", lambda: torch.tensor([1 + 2j, 3 - 4j]).conj()),
    InputCase("tensor neg bit", "torch", _neg_bit_tensor),
    InputCase(
        "tensor bfloat16",
        "torch",
        lambda: torch.tensor([1.5, 0.1, -0.0], dtype=torch.bfloat16),
    ),
    InputCase(
        "tensor expanded (zero stride)",
        "torch",
        lambda: torch.tensor([1.5, 2.5]).expand(3, 2),
    ),
    InputCase(
        "tensor non-contiguous",
        "torch",
        lambda: torch.arange(12, dtype=torch.float32).reshape(3, 4)[:, ::2],
    ),
)

# ---------------------------------------------------------------------------------------------
# The routes. A route takes the inputs of one library or both; `from_numpy` / `from_torch` is
# None where the route does not apply.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One way to move data between NumPy and torch.

    Attributes:
        name: the column label, as users write the call.
        from_numpy: the call on an ndarray input, or None when the route takes no ndarray.
        from_torch: the call on a tensor input, or None when the route takes no tensor.
    """

    name: str
    from_numpy: Callable[[NDArray[Any]], ArrayOrTensor] | None = None
    from_torch: Callable[[torch.Tensor], ArrayOrTensor] | None = None

    def accepts(self, case: InputCase) -> bool:
        """Whether this route applies to `case` at all."""
        if case.library == "numpy":
            return self.from_numpy is not None
        return self.from_torch is not None


# Typed once here: torch's stubs leave from_numpy's parameter unannotated.
def _from_numpy(array: NDArray[Any]) -> torch.Tensor:
    return torch.from_numpy(array)  # pyright: ignore[reportUnknownMemberType]


def _route_share_array(array: NDArray[Any]) -> torch.Tensor:
    return share(array).value


def _route_share_tensor(tensor: torch.Tensor) -> NDArray[Any]:
    return share(tensor).value


def _route_own_array(array: NDArray[Any]) -> torch.Tensor:
    return own(array).value


def _route_own_tensor(tensor: torch.Tensor) -> NDArray[Any]:
    return own(tensor).value


# The recipes most code uses first (from_numpy, tensor, clone, numpy(), Tensor(), as_tensor), then the rest.
ROUTES: tuple[Route, ...] = (
    Route("torch.from_numpy", from_numpy=_from_numpy),
    Route("torch.tensor", from_numpy=torch.tensor),
    Route("torch.from_numpy(...).clone()", from_numpy=lambda array: _from_numpy(array).clone()),
    Route("Tensor.numpy()", from_torch=lambda tensor: tensor.numpy()),
    Route("torch.Tensor", from_numpy=torch.Tensor),
    Route("torch.as_tensor", from_numpy=torch.as_tensor),
    Route("torch.asarray(copy=None)", from_numpy=lambda array: torch.asarray(array, copy=None)),
    Route("torch.asarray(copy=True)", from_numpy=lambda array: torch.asarray(array, copy=True)),
    Route("torch.asarray(copy=False)", from_numpy=lambda array: torch.asarray(array, copy=False)),
    # torch.from_dlpack is this same function; torch's stubs only export it under this name.
    Route("torch.from_dlpack", from_numpy=torch.utils.dlpack.from_dlpack),
    Route("np.asarray(t)", from_torch=np.asarray),
    Route("np.from_dlpack", from_torch=np.from_dlpack),
    Route("Tensor.numpy(force=True)", from_torch=lambda tensor: tensor.numpy(force=True)),
    Route("aliasguard.share", from_numpy=_route_share_array, from_torch=_route_share_tensor),
    Route("aliasguard.own", from_numpy=_route_own_array, from_torch=_route_own_tensor),
)

ROUTES_BY_NAME = {route.name: route for route in ROUTES}
INPUTS_BY_NAME = {case.name: case for case in INPUTS}


def planned_cells() -> list[CellKey]:
    """Every (route name, input name) pair the full report measures, in table order."""
    return [(route.name, case.name) for route in ROUTES for case in INPUTS if route.accepts(case)]
