"""The annotation reader: what an annotation asks of a value, read once, in one place.

`@checked`, the import hook, `aliasguard.strategies`, `from_annotation` and `aliasguard fuzz` all
start from `read` (or the predicates below it), so a spelling one of them understands, all of them
do: ``Shared[...]``/``Owned[...]`` (bare, subscripted, in unions of one kind), jaxtyping
annotations (``Float[Tensor, "b c"]``, their unions, ``Float[Any, "n"]``), ``np.ndarray``,
``torch.Tensor``, ``NDArray[...]`` in every NumPy's spelling, and ``X | None``.

This module and the three below it are the only ones that inspect annotations
(``tests/unit/test_one_reader.py`` holds the rest of the package to that): how the spellings differ
across Python and NumPy versions, and how an annotation is shown in messages and reprs
(`annotation_text`), live in `_annotation_compat`; what jaxtyping's private parse results mean, and
which classes an array annotation (a ``Shared[...]``/``Owned[...]`` payload included) checks, live
in `_jaxtyping_compat`; containers of wrappers (``tuple``/``list``/``dict``/NamedTuple/dataclass)
are walked by `_containers`. The runtime ``Shared[...]`` classes in `_wrappers`, below this module,
ask those two compatibility modules directly; everything above asks this one.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import torch

from ._annotation_compat import (
    is_class,
    # Offered from here: the faces' type lookup resolves bare jaxtyping annotations.
    is_jaxtyping_annotation as is_jaxtyping_annotation,  # noqa: PLC0414
    runtime_class,
    union_members,
    without_none,
)
from ._containers import is_container_hint
from ._jaxtyping_compat import ArraySpec, spec_of
from ._wrappers import Owned, Shared, subscript_parts

# What an annotation asks for, as small ints for the per-call loop.
SHARED: Final = 0  # Shared[...]: a borrow; an Owned is accepted too
OWNED: Final = 1  # Owned[...]: moved in
ARRAY: Final = 2  # a bare jaxtyping annotation, array class, or a union of them: dtype and shape
OTHER: Final = 3  # anything else: checked by beartype
CONTAINER: Final = 4  # tuple/list/dict/NamedTuple/dataclass holding wrappers somewhere

KIND_NAMES: Final = {SHARED: "Shared", OWNED: "Owned"}

_ANY_ARRAY: Final[object] = np.ndarray | torch.Tensor


@dataclass(frozen=True, slots=True)
class Reading:
    """What one annotation asks of a value.

    Attributes:
        hint: the annotation as written.
        kind: `SHARED`, `OWNED`, `ARRAY`, `CONTAINER` or `OTHER`.
        payload: for `SHARED`/`OWNED`, the array annotation inside the wrapper (a union for
            ``Shared[A] | Shared[B]``); for `ARRAY` and `CONTAINER`, the annotation without its
            ``| None``; else ``None``.
        spec: the payload compiled (library classes, dtypes, shape), or ``None``.
        optional: the annotation admits ``None``.
    """

    hint: object
    kind: int
    payload: object
    spec: ArraySpec | None
    optional: bool


def wrapper_parts(hint: object) -> tuple[int, object] | None:
    """``(SHARED or OWNED, payload)`` for a wrapper annotation, or ``None``.

    Bare ``Shared``/``Owned`` hold any array; ``Shared[A] | Shared[B]`` reads as ``Shared[A | B]``
    (a value must match one member, and the first it matches binds the axes).
    """
    if hint is Shared:
        return SHARED, _ANY_ARRAY
    if hint is Owned:
        return OWNED, _ANY_ARRAY
    parts = subscript_parts(hint)
    if parts is not None:
        origin, payload = parts
        return (OWNED if origin is Owned else SHARED), payload
    members = union_members(hint)
    if members is None or type(None) in members:
        return None
    found = [wrapper_parts(member) for member in members]
    kinds = {part[0] for part in found if part is not None}
    if None in found or len(kinds) != 1:
        return None  # a mixed union (Shared[A] | Owned[B], Shared[A] | int) is beartype's
    payloads = tuple(part[1] for part in found if part is not None)
    return kinds.pop(), typing.Union[payloads]  # noqa: UP007  # built from a tuple


def alternatives(hint: object) -> tuple[object, ...]:
    """The members of a union annotation (``A | B``, ``typing.Union``, ``Optional``), else ``(hint,)``."""
    return union_members(hint) or (hint,)


def array_spec(annotation: object) -> ArraySpec:
    """One array annotation compiled, as `Reading.spec` holds it (``Any`` reads as either library).

    For those who take a payload apart themselves: `aliasguard.strategies` draws each member of a
    union payload on its own.

    Raises:
        TypeError: the annotation names no array class, or a jaxtyping dimension aliasguard cannot
            check.
    """
    return spec_of(annotation)


def is_array_class(hint: object) -> bool:
    """Whether ``hint`` checks as ``np.ndarray``/``torch.Tensor`` (``NDArray[...]`` included)."""
    origin = runtime_class(hint)
    return is_class(origin) and issubclass(origin, np.ndarray | torch.Tensor)


def is_array_annotation(hint: object) -> bool:
    """A jaxtyping annotation, an array class, or a union made only of those."""
    if is_jaxtyping_annotation(hint) or is_array_class(hint):
        return True
    members = union_members(hint)
    return members is not None and all(
        member is not type(None) and is_array_annotation(member) for member in members
    )


def names_an_array(hint: object) -> bool:
    """Whether a wrapper or array annotation is ``hint`` or one of its union's members."""
    return any(
        wrapper_parts(member) is not None or is_array_annotation(member)
        for member in alternatives(hint)
    )


def plain_class(hint: object) -> type | None:
    """``hint`` (``None`` set aside) when beartype checks it as ``isinstance(value, hint)``, else None.

    `@checked`'s generated path inlines that check for the annotations beartype would judge. beartype
    checks a plain class (no metaclass of its own, not a protocol) with ``isinstance``: a
    ``bool`` is an ``int``, and by default an ``int`` is not a ``float`` (its PEP 484 tower is off
    unless configured, and the checker calls beartype with the default configuration).
    """
    inner, _ = without_none(hint)
    if not isinstance(inner, type) or type(inner) is not type:
        return None
    cls = inner
    if getattr(cls, "_is_protocol", False) or cls.__dict__.get("__class_getitem__") is not None:
        return None
    return cls


def involves_contract(hint: object) -> bool:
    """Whether an annotation uses `Shared`/`Owned` or jaxtyping anywhere (the import hook's test)."""
    inner, _ = without_none(hint)
    if wrapper_parts(inner) is not None or is_jaxtyping_annotation(inner):
        return True
    if is_container_hint(inner, involves_contract):  # NamedTuple and dataclass fields too
        return True
    return any(involves_contract(argument) for argument in typing.get_args(inner))


def read(hint: object) -> Reading:
    """Read one annotation (a parameter's or a return's) into what it asks of a value.

    Raises:
        TypeError: a wrapper or jaxtyping annotation around something that is not an array.
    """
    inner, optional = without_none(hint)
    parts = wrapper_parts(inner)
    if parts is not None:
        kind, payload = parts
        return Reading(hint, kind, payload, spec_of(payload), optional)
    if is_array_annotation(inner):
        return Reading(hint, ARRAY, inner, spec_of(inner), optional)
    if is_container_hint(inner, involves_contract):
        return Reading(hint, CONTAINER, inner, None, optional)
    return Reading(hint, OTHER, None, None, optional)


def resolved_hints(
    function: Callable[..., Any], local_names: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The function's annotations, evaluated (names defined where it was decorated included).

    A ``NameError`` propagates: the name may be defined later (a method's own class), and the
    caller decides when to try again. A string annotation that is not Python at all raises
    ``SyntaxError``: unlike jaxtyping, which leaves it unchecked, `@checked` refuses it, since its
    author meant it to be checked.
    """
    return typing.get_type_hints(function, localns=local_names, include_extras=True)


def resolve_class_annotations(cls: type) -> None:
    """Evaluate a class's string annotations in the module that defines it, while it still can.

    ``typing.get_type_hints(cls)`` evaluates them in ``sys.modules[cls.__module__]``: once
    ``aliasguard/__init__`` names its public classes' module ``aliasguard``, that is the package's
    face, where names such as ``Any`` are not defined. A name imported only for type checkers
    cannot be evaluated at all, and its annotation stays a string.
    """
    own = inspect.get_annotations(cls)  # the class's own, not its bases
    if not own:
        return
    with contextlib.suppress(Exception):  # names imported only for type checkers stay strings
        hints = typing.get_type_hints(cls, include_extras=True)
        cls.__annotations__ = {name: hints.get(name, own[name]) for name in own}


def names_in_string_annotations(function: Callable[..., Any]) -> set[str]:
    """The names a function's string annotations mention (``"Local | None"``: ``Local``).

    A string inside the string (``"'Local'"``, a quoted annotation under
    ``from __future__ import annotations``) is read too, as ``typing.get_type_hints`` evaluates it.
    """
    names: set[str] = set()
    pending = [
        annotation
        for annotation in getattr(function, "__annotations__", {}).values()
        if isinstance(annotation, str)
    ]
    while pending:
        try:
            tree = ast.parse(pending.pop(), mode="eval")
        except SyntaxError:
            continue  # resolving it reports that
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                pending.append(node.value)
    return names
