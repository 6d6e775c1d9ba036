"""How the sanitizer's messages name a value: its kind, dtype and shape, never its data."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

Value = np.ndarray[Any, Any] | torch.Tensor


def describe_value(value: Value) -> str:
    """A value's kind, dtype and shape, for messages."""
    return describe(value, "")


def describe(value: Value, made_by: str) -> str:
    """A value, as lent by ``made_by``: the NumPy view share() makes of a tensor says so."""
    if isinstance(value, np.ndarray):
        if made_by == "share()":
            return f"a read-only {value.dtype} NumPy view of shape {value.shape}, of a tensor"
        return f"a {value.dtype} NumPy array of shape {value.shape}"
    return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
