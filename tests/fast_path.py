"""Shared by the generated call path's unit tests and its agreement properties."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aliasguard import _fast_checking, checked


def decorated_both_ways(function: Callable[..., Any]) -> tuple[Any, Any]:
    """``function`` under the general path only, and under the generated one."""
    _fast_checking.enabled = False
    try:
        general = checked(function)
    finally:
        _fast_checking.enabled = True
    fast = checked(function)
    return general, fast
