"""How messages name what they are about: a function, a value (never its data).

Every error aliasguard raises names the function and the values involved; they are said the same
way everywhere, from here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ._articles import with_article
from ._wrappers import Shared, is_ndarray, is_tensor, unwrap_unchecked


def function_name(function: Callable[..., Any]) -> str:
    """``Class.method()``: a function as messages name it."""
    return f"{getattr(function, '__qualname__', repr(function))}()"


def body_runs_later(function: Callable[..., Any]) -> bool:
    """Whether calling ``function`` returns before its body runs (a coroutine or a generator).

    A decorator that checks what happens during the call would miss the body entirely.
    """
    return (
        inspect.iscoroutinefunction(function)
        or inspect.isgeneratorfunction(function)
        or inspect.isasyncgenfunction(function)
    )


def dtype_name(value: np.ndarray[Any, Any] | torch.Tensor) -> str:
    """The dtype's name, the same for both libraries: ``float32``, ``bfloat16``."""
    return str(value.dtype).removeprefix("torch.")


def array_summary(value: np.ndarray[Any, Any] | torch.Tensor) -> str:
    """``float32 Tensor of shape (2, 3)`` or ``int64 ndarray of shape (3,)``."""
    if is_tensor(value):
        return f"{dtype_name(value)} Tensor of shape {tuple(value.shape)}"
    return f"{value.dtype} ndarray of shape {value.shape}"


def describe(value: Any) -> str:
    """A value's kind, dtype, shape and device: what an error shows instead of the data."""
    if is_tensor(value):
        try:
            shape = f"of shape {tuple(value.shape)}"
        except RuntimeError:  # a nested tensor of the strided layout has no single shape
            shape = f"(nested, {value.size(0)} tensors)"
        return f"{dtype_name(value)} Tensor {shape} on {value.device}"
    if is_ndarray(value):
        return array_summary(value)
    if issubclass(type(value), Shared):  # type(), not __class__, which an object can fake
        return f"{type(value).__name__} of {described(unwrap_unchecked(value))}"
    return type(value).__name__


def described(value: Any) -> str:
    """`describe` with its article: "a float32 Tensor...", "an int64 ndarray..."."""
    return with_article(describe(value))


def describe_lent(value: np.ndarray[Any, Any] | torch.Tensor, made_by: str) -> str:
    """A lent value as the sanitizer's findings show it, lent by ``made_by``.

    The NumPy view that ``share()`` makes of a tensor says so, since the user holds the view and
    must look for the tensor.
    """
    if is_ndarray(value):
        if made_by == "share()":
            return f"a read-only {value.dtype} NumPy view of shape {value.shape}, of a tensor"
        return with_article(f"{value.dtype} NumPy array of shape {value.shape}")
    return f"a {value.dtype} tensor of shape {tuple(value.shape)}"  # "torch.<dtype>": always "a"


def copy_expression(value: object) -> str:
    """How a fix copies a wrapper's value: ``x.value.clone()`` for a tensor, ``.copy()`` for NumPy."""
    return "x.value.clone()" if is_tensor(value) else "x.value.copy()"
