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
