"""Shared by the generated call path's unit tests and its agreement properties."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aliasguard import checked
from aliasguard._checking import _fast_path


def decorated_both_ways(function: Callable[..., Any]) -> tuple[Any, Any]:
    """``function`` under the general path only, and under the generated one."""
    _fast_path.enabled = False
    try:
        general = checked(function)
    finally:
        _fast_path.enabled = True
    fast = checked(function)
    return general, fast
