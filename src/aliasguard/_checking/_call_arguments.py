"""The call's arguments in jaxtyping's memo, bound only when an f-string axis in the body reads them.

Under jaxtyped, ``isinstance(y, Float[Tensor, "{dim}"])`` in the body (or in a function it calls)
evaluates ``{dim}`` against the call's arguments, which jaxtyped binds by name on every call.
Binding them costs more than all of `@checked`'s other checks, and almost no body needs them, so
`@checked` puts one `CallArguments` per decorated function in each memo entry it pushes instead.
jaxtyping copies that entry on every ``isinstance`` (cheap: nothing is bound) and evaluates an
f-string axis with the copy as its namespace: only then does a name lookup miss, and the copy finds
the innermost running call of its function on this thread's stack and binds that call's arguments.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any


class CallArguments(dict[str, Any]):
    """A memo entry's arguments: empty until a lookup misses, then the running call's, by name.

    The running call is the innermost frame running ``code`` (the generated call path's, or
    `Checker.call`'s, whose ``self`` must then be ``owner``); its ``args`` and ``kwargs`` locals
    are bound by ``bind``.
    """

    __slots__ = ("_bind", "_code", "_looked", "_owner")

    def __init__(
        self,
        code: types.CodeType,
        bind: Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any]],
        owner: object = None,
    ) -> None:
        super().__init__()
        self._code = code
        self._bind = bind
        self._owner = owner
        self._looked = False

    def copy(self) -> CallArguments:  # jaxtyping copies the entry on every isinstance: stay lazy
        return CallArguments(self._code, self._bind, self._owner)

    def __missing__(self, name: str) -> Any:
        if not self._looked:
            self._looked = True
            self.update(self._running_call_arguments())
            if name in self:
                return self[name]
        raise KeyError(name)

    def _running_call_arguments(self) -> dict[str, Any]:
        frame: types.FrameType | None = sys._getframe(1)  # pyright: ignore[reportPrivateUsage]  # the running call's own frame holds its arguments
        while frame is not None:
            if frame.f_code is self._code:
                names = frame.f_locals
                if self._owner is None or names.get("self") is self._owner:
                    return self._bind(names["args"], names["kwargs"])
            frame = frame.f_back
        return {}  # read outside any call of the function: nothing to bind
