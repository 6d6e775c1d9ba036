"""How array annotations are spelled across the Python and NumPy versions aliasguard supports.

Two differences decide whether a check runs at all, so every reader of annotations goes through here:

- NumPy 2.5 made ``NDArray`` a PEP 695 alias (``type NDArray[T] = ndarray[..., dtype[T]]``):
  ``NDArray[np.float32]`` is then a generic alias whose origin is the alias, not ``np.ndarray``, and
  its one argument is the scalar type. Before 2.5 it is ``np.ndarray[Any, np.dtype[np.float32]]``.
- On Python 3.10, ``isinstance(list[int], type)`` is True (fixed in Python 3.11), so a
  parameterized generic passes for a class and then fails ``issubclass``/``isinstance``.
"""

from __future__ import annotations

import sys
import types
import typing
from typing import Any, Final

import numpy as np
from typing_extensions import TypeIs

#: The longest chain of aliases followed: aliases of aliases, but never an endless loop.
_MAX_ALIAS_DEPTH: Final = 8


def is_class(annotation: object) -> TypeIs[type]:
    """Whether ``annotation`` is a class itself, not a parameterized generic such as ``list[int]``."""
    return isinstance(annotation, type) and not isinstance(annotation, types.GenericAlias)


def _alias_value(alias: Any, arguments: tuple[object, ...]) -> object:
    """A PEP 695 alias's value with its type parameters replaced by ``arguments``."""
    value: Any = alias.__value__
    parameters: tuple[object, ...] = getattr(alias, "__type_params__", ())
    if arguments and parameters:
        substitution: object = arguments[0] if len(arguments) == 1 else arguments
        try:
            return value[substitution]
        except TypeError:
            return value  # a value that takes no parameters: the arguments add nothing
    return value


def resolve_alias(annotation: object) -> object:
    """``annotation`` with PEP 695 aliases (``type X = ...``) replaced by what they stand for.

    ``NDArray[np.float32]`` on NumPy 2.5 becomes ``np.ndarray[tuple[Any, ...], np.dtype[np.float32]]``;
    everything else comes back unchanged.
    """
    current: Any = annotation
    for _ in range(_MAX_ALIAS_DEPTH):
        origin: Any = typing.get_origin(current)
        if origin is not None and not is_class(origin) and hasattr(origin, "__value__"):
            current = _alias_value(origin, typing.get_args(current))
        elif origin is None and not is_class(current) and hasattr(current, "__value__"):
            current = _alias_value(current, ())
        else:
            return current
    return current


def ndarray_scalar_type(annotation: object) -> type | None:
    """The scalar type (an ``np.generic`` subclass) ``NDArray[T]`` admits, or ``None``.

    ``np.ndarray[S, np.dtype[T]]`` is read the same way.

    ``None`` means any dtype: a bare ``np.ndarray``, ``NDArray[Any]``, a type variable, or an
    annotation that is not an array alias at all. A generic scalar type counts as its class:
    ``np.floating[Any]`` admits what ``np.floating`` does.
    """
    resolved = resolve_alias(annotation)
    if typing.get_origin(resolved) is not np.ndarray:
        return None
    arguments = typing.get_args(resolved)
    dtype_arguments = typing.get_args(arguments[1]) if len(arguments) == 2 else ()
    if not dtype_arguments:
        return None
    scalar: object = resolve_alias(dtype_arguments[0])
    scalar = typing.get_origin(scalar) or scalar  # np.floating[Any] -> np.floating
    # issubclass would narrow to np.generic's unparameterised class, which strict checkers reject.
    generic: type = np.generic
    return scalar if is_class(scalar) and issubclass(scalar, generic) else None


def union_members(annotation: object) -> tuple[object, ...] | None:
    """The members of ``A | B`` or ``typing.Union[A, B]`` (and ``Optional``), else ``None``."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return typing.get_args(annotation)
    return None


def without_none(annotation: object) -> tuple[object, bool]:
    """``(X, True)`` for ``X | None``; the annotation and ``False`` for everything else.

    A union of several members with ``None`` keeps its members: ``A | B | None`` comes back as
    ``(A | B, True)``.
    """
    members = union_members(annotation)
    if members is None or type(None) not in members:
        return annotation, False
    rest = tuple(member for member in members if member is not type(None))
    if len(rest) == 1:
        return rest[0], True
    return typing.Union[rest], True  # noqa: UP007  # built from a tuple of members


def is_jaxtyping_annotation(annotation: object) -> bool:
    """Whether ``annotation`` is a jaxtyping array annotation (``Float[Tensor, "b c"]``).

    jaxtyping is imported by whoever wrote such an annotation, so an unimported jaxtyping means
    there is none to find.
    """
    jaxtyping = sys.modules.get("jaxtyping")
    return (
        jaxtyping is not None
        and is_class(annotation)
        and issubclass(annotation, jaxtyping.AbstractArray)
    )
