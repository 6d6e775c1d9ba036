"""`Slot`: one annotated parameter, return value or container member, as `@checked` compiled it.

The lowest module of the checker: the signature is compiled into slots once per decoration, and the
general path, the generated path and the messages all read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .._jaxtyping_compat import ArraySpec

#: An argument the call omitted, where no checked default stands in for it.
NO_VALUE: Final = object()


@dataclass(frozen=True, slots=True)
class Slot:
    name: str
    position: int | None  # index among positional arguments; None for keyword-only
    kind: int
    spec: ArraySpec | None
    hint: object
    optional: bool  # the annotation admits None
    #: Positional-only: never read from keyword arguments (those belong to ``**kwargs``).
    positional_only: bool = False
    #: CONTAINER: the compiled tree of the container's members (see `_containers`).
    tree: Any = None
    #: A leaf inside a container: replaced by rebuilding its container, never by position.
    in_container: bool = False
