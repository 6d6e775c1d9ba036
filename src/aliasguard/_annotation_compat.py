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


def runtime_class(annotation: object) -> object:
    """The class an annotation like ``NDArray[Any]`` or ``np.ndarray[...]`` checks at run time.

    Generic aliases answer their origin; PEP 695 aliases (``type X = ...``, as NumPy's ``NDArray``
    is from NumPy 2.5 on) are followed first. Anything else comes back unchanged.
    """
    resolved = resolve_alias(annotation)
    origin = typing.get_origin(resolved)
    return origin if is_class(origin) else resolved


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


def annotation_text(annotation: object, *, by_class: bool = False, written: bool = False) -> str:
    """An annotation as aliasguard's messages and reprs show it: ``Shared[Float[Tensor, 'n']] | None``.

    A union shows its members joined by `` | `` (``typing.Union[A, B]`` reads as ``A | B``),
    ``NoneType`` shows as ``None``, aliasguard's own classes as their repr without the package's
    prefix, and anything else by its name (jaxtyping's ``Float[Tensor, 'n']``) or else its repr.

    Args:
        by_class: name an alias by the class it checks, and a NumPy array class as ``ndarray``.
            The runtime ``Shared[...]``/``Owned[...]`` classes are named so, so that the class
            made for ``NDArray[np.float32]`` reads ``Shared[ndarray]`` on every NumPy, whose
            ``NDArray`` (a PEP 695 alias from 2.5 on) would otherwise name itself ``NDArray``.
        written: show what is not a class (a union, ``list[int]``, ``NDArray[np.float32]``) by its
            repr, as written: `aliasguard.strategies` quotes the annotation it was given, and its
            name alone (``list``, ``ndarray``) would drop the part that explains the refusal.
    """
    if written:
        if not is_class(annotation):
            return repr(annotation)
    else:
        members = union_members(annotation)
        if members is not None:
            return " | ".join(annotation_text(member, by_class=by_class) for member in members)
        if annotation is type(None):
            return "None"
        if by_class:
            resolved = runtime_class(annotation)
            if resolved is not annotation and is_class(resolved):
                return annotation_text(resolved, by_class=True)  # NDArray[...]: its class
            if is_class(annotation) and annotation.__module__ == "numpy":
                return "ndarray"
    if is_class(annotation) and annotation.__module__ == "aliasguard":
        return repr(annotation).removeprefix("aliasguard.")
    return getattr(annotation, "__name__", None) or repr(annotation)
