"""Every private or version-dependent torch API aliasguard touches, in one place.

A torch upgrade that moves one of these should need a change here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
import torch

__all__ = ["component_tensors", "from_numpy", "version_counter"]

#: ``torch.from_numpy``, typed: torch's stubs leave its parameter unannotated.
from_numpy = cast("Callable[[np.ndarray[Any, Any]], torch.Tensor]", torch.from_numpy)  # pyright: ignore[reportUnknownMemberType]

_COMPRESSED_LAYOUTS = {
    torch.sparse_csr: ("crow_indices", "col_indices"),
    torch.sparse_bsr: ("crow_indices", "col_indices"),
    torch.sparse_csc: ("ccol_indices", "row_indices"),
    torch.sparse_bsc: ("ccol_indices", "row_indices"),
}


def component_tensors(tensor: torch.Tensor) -> list[torch.Tensor]:
    """The strided tensors that hold a non-strided tensor's data.

    Sparse COO tensors expose their buffers only through the private ``_indices()``/``_values()``
    (the public ``indices()`` refuses uncoalesced tensors). Layouts with no inspectable buffers
    (nested, mkldnn) are returned whole, and callers treat them as opaque.
    """
    layout = tensor.layout
    if layout == torch.sparse_coo:
        return [tensor._indices(), tensor._values()]
    if layout in _COMPRESSED_LAYOUTS:
        outer, inner = _COMPRESSED_LAYOUTS[layout]
        return [getattr(tensor, outer)(), getattr(tensor, inner)(), tensor.values()]
    return [tensor]


def version_counter(tensor: torch.Tensor) -> int:
    """torch's in-place write counter for ``tensor``'s storage view (shared with its views)."""
    return tensor._version
