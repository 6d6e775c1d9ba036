"""The names a function's string annotations may use from the scopes its definition sits in.

``typing.get_type_hints`` evaluates a string annotation in the function's module only. A class
local to the function that applies `@checked` (or to a function or class around it) is invisible
there, though the author can see it: as beartype does, those names are read from the frames of the
enclosing scopes while they still run, at decoration time.

A frame is taken as an enclosing scope only when its code is one of the scopes the function's
``__qualname__`` names (``make.<locals>.Holder.method``: the class body ``Holder`` and the function
``make``), so a caller's unrelated local of the same name is never picked up.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from .._annotations import names_in_string_annotations


def enclosing_names(
    function: Callable[..., Any], decorating_frame: types.FrameType | None
) -> dict[str, Any] | None:
    """The names ``function``'s string annotations use that its enclosing scopes define, innermost
    first; None when it was decorated at module level (its module is all there is)."""
    if decorating_frame is None or decorating_frame.f_locals is decorating_frame.f_globals:
        return None
    wanted = names_in_string_annotations(function)
    scopes = _enclosing_qualnames(function)
    found: dict[str, Any] = {}
    frame: types.FrameType | None = decorating_frame
    first = True
    while frame is not None and frame.f_locals is not frame.f_globals and wanted:
        # The decorating frame is a scope of the function's even when its name does not match
        # (a class body built by type(), exec'd source): it is where the decorator ran.
        if first or _is_scope(frame.f_code, scopes):
            scope = frame.f_locals
            # Only the names the annotations use: the rest of a scope may be large arrays.
            for name in [name for name in wanted if name in scope]:
                found[name] = scope[name]
                wanted.discard(name)
        first = False
        frame = frame.f_back
    return found


def classes_of_receiver(function: Callable[..., Any], receiver: object) -> dict[str, Any]:
    """The classes around a method that its first argument is (or is an instance of), by name.

    A method of a class local to a function may name its own class (``other: "Vec"``), which
    does not exist yet while the method is decorated: at the first call, ``self`` (``cls`` for a
    classmethod) leads to it. Only classes whose ``__qualname__`` is a scope of the method's own
    are taken.
    """
    scopes = _enclosing_qualnames(function)
    cls = receiver if isinstance(receiver, type) else type(receiver)
    return {
        candidate.__name__: candidate
        for candidate in cls.__mro__
        if getattr(candidate, "__qualname__", None) in scopes
    }


def _enclosing_qualnames(function: Callable[..., Any]) -> set[str]:
    """``a.<locals>.B.c`` -> ``{"a.<locals>.B", "a"}``: the scopes around the definition."""
    parts = getattr(function, "__qualname__", "").split(".")[:-1]
    scopes: set[str] = set()
    while parts:
        if parts[-1] == "<locals>":
            parts.pop()
            continue
        scopes.add(".".join(parts))
        parts.pop()
    return scopes


def _is_scope(code: types.CodeType, scopes: set[str]) -> bool:
    qualname: str | None = getattr(code, "co_qualname", None)
    if qualname is not None:
        return qualname in scopes
    # Before Python 3.11 a code object knows only its bare name: match the scopes' last parts.
    return code.co_name in {scope.rsplit(".", 1)[-1] for scope in scopes}
