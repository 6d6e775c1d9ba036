"""Test oracles for dtype names, kept apart from aliasguard's own table so they can disagree."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np


def numpy_dtype_named(name: str) -> np.dtype[Any]:
    """The NumPy dtype a shared name stands for: built in, or from ml_dtypes."""
    try:
        return np.dtype(name)
    except TypeError:
        scalar: type[Any] = getattr(importlib.import_module("ml_dtypes"), name)
        return np.dtype(scalar)


def torch_has_dtype(name: str) -> bool:
    """Whether the installed torch has a dtype of this name (float8_e8m0fnu arrived in 2.7)."""
    import torch

    return isinstance(getattr(torch, name, None), torch.dtype)


def with_torch_dtypes(*values: object) -> object:
    """A parametrize row that is skipped where torch lacks a dtype its string values name."""
    import pytest
    import torch

    missing = [value for value in values if isinstance(value, str) and value.startswith("float8")]
    missing = [name for name in missing if not torch_has_dtype(name)]
    if not missing:
        return pytest.param(*values)
    reason = f"torch {torch.__version__} has no {', '.join(missing)}"
    return pytest.param(*values, marks=pytest.mark.skip(reason=reason))
