"""Annotations that hold `Shared`/`Owned` leaves inside containers, compiled once and walked per call.

RL environments and data pipelines pass and return ``tuple``/``dict``/``NamedTuple``/dataclass
bundles of arrays. `@checked` compiles such an annotation into a tree whose leaves are ordinary
slots, walks a value along it at each call (naming each leaf by its path: ``x[0]``,
``return['pixels']``, ``batch.obs``), and rebuilds the container when a leaf must be replaced (a
moved ``Owned`` gets a fresh handle, a lent NumPy array becomes a read-only view). Rebuilt mutable
containers are shallow copies: the callee sees the same members, in a new list, dict or object.
"""

from __future__ import annotations

import copy
import dataclasses
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from ._annotation_compat import without_none

#: Container kinds.
TUPLE: Final = "tuple"  # tuple[A, B]: fixed length
SEQUENCE: Final = "sequence"  # list[A], tuple[A, ...]
MAPPING: Final = "mapping"  # dict[K, A]
RECORD: Final = "record"  # NamedTuple or dataclass: fields by name


@dataclass(frozen=True, slots=True)
class Leaf:
    """A member checked on its own: a wrapper or array slot, or anything else (beartype)."""

    slot: Any  # the checker's Slot, named by its path when walked


@dataclass(frozen=True, slots=True)
class Node:
    """A container: its kind, its runtime class, and the trees of its members."""

    kind: str
    cls: type
    hint: object
    #: TUPLE: one tree per position; RECORD: one per field; SEQUENCE/MAPPING: the single member tree.
    members: tuple[Node | Leaf, ...]
    #: RECORD: the field names, in the order of ``members``.
    fields: tuple[str, ...] = ()
    key_hint: object = object
    optional: bool = False


CompileLeaf = Callable[[str, object], Any]


def _record_fields(hint: object) -> dict[str, object] | None:
    """The field annotations of a NamedTuple class or a dataclass, or None for other hints."""
    if not isinstance(hint, type):
        return None
    record: Any = hint  # NamedTuple classes are tuple subclasses the checkers know no fields of
    names: tuple[str, ...] | None = getattr(record, "_fields", None)
    if names is not None and issubclass(hint, tuple):
        hints = typing.get_type_hints(record, include_extras=True)
        return {name: hints.get(name, Any) for name in names}
    if dataclasses.is_dataclass(record):
        hints = typing.get_type_hints(record, include_extras=True)
        return {field.name: hints.get(field.name, Any) for field in dataclasses.fields(record)}
    return None


def is_container_hint(hint: object, involves_contract: Callable[[object], bool]) -> bool:
    """Whether ``hint`` is a tuple/list/dict/NamedTuple/dataclass holding a wrapper somewhere."""
    origin = typing.get_origin(hint)
    if origin in (tuple, list, dict):
        return any(involves_contract(argument) for argument in typing.get_args(hint))
    fields = _record_fields(hint)
    return fields is not None and any(involves_contract(member) for member in fields.values())


def compile_container(
    hint: object,
    path: str,
    compile_leaf: CompileLeaf,
    involves_contract: Callable[[object], bool],
    *,
    optional: bool = False,
) -> Node | Leaf:
    """The tree for ``hint``; members without wrappers are leaves checked by beartype."""
    if not is_container_hint(hint, involves_contract):
        return Leaf(compile_leaf(path, hint))
    origin = typing.get_origin(hint)
    arguments = typing.get_args(hint)

    def member(sub_hint: object, sub_path: str) -> Node | Leaf:
        inner, sub_optional = without_none(sub_hint)
        if is_container_hint(inner, involves_contract):
            return compile_container(
                inner, sub_path, compile_leaf, involves_contract, optional=sub_optional
            )
        return Leaf(compile_leaf(sub_path, sub_hint))

    if origin is tuple:
        if len(arguments) == 2 and arguments[1] is Ellipsis:  # tuple[A, ...]
            return Node(
                SEQUENCE, tuple, hint, (member(arguments[0], f"{path}[]"),), optional=optional
            )
        members = tuple(
            member(argument, f"{path}[{index}]") for index, argument in enumerate(arguments)
        )
        return Node(TUPLE, tuple, hint, members, optional=optional)
    if origin is list:
        return Node(SEQUENCE, list, hint, (member(arguments[0], f"{path}[]"),), optional=optional)
    if origin is dict:
        return Node(
            MAPPING,
            dict,
            hint,
            (member(arguments[1], f"{path}[]"),),
            key_hint=arguments[0],
            optional=optional,
        )
    fields = _record_fields(hint)
    assert fields is not None
    assert isinstance(hint, type)
    names = tuple(fields)
    members = tuple(member(fields[name], f"{path}.{name}") for name in names)
    return Node(RECORD, hint, hint, members, fields=names, optional=optional)


class ContainerMismatch(Exception):  # noqa: N818  # a signal to the checker, never raised to users
    """The value at ``path`` is not the container its annotation names."""

    def __init__(self, path: str, value: object, hint: object, detail: str) -> None:
        super().__init__(path)
        self.path = path
        self.value = value
        self.hint = hint
        self.detail = detail


def walk(tree: Node | Leaf, value: object, path: str) -> Iterator[tuple[Any, str, object]]:
    """Each leaf of ``value`` along ``tree``: ``(slot, path, member)``.

    Raises:
        ContainerMismatch: a container in ``value`` has the wrong class, length or key type.
    """
    if isinstance(tree, Leaf):
        yield tree.slot, path, value
        return
    if value is None and tree.optional:
        return
    if not isinstance(value, tree.cls):
        raise ContainerMismatch(path, value, tree.hint, f"got {type(value).__name__}")
    kind = tree.kind
    if kind == TUPLE:
        items = typing.cast("tuple[object, ...]", value)
        if len(items) != len(tree.members):
            raise ContainerMismatch(
                path, value, tree.hint, f"{len(items)} items where it has {len(tree.members)}"
            )
        for index, (member, item) in enumerate(zip(tree.members, items, strict=True)):
            yield from walk(member, item, f"{path}[{index}]")
    elif kind == SEQUENCE:
        for index, item in enumerate(typing.cast("list[object]", value)):
            yield from walk(tree.members[0], item, f"{path}[{index}]")
    elif kind == MAPPING:
        for key, item in typing.cast("dict[object, object]", value).items():
            if tree.key_hint is str and not isinstance(key, str):
                raise ContainerMismatch(
                    path, value, tree.hint, f"a key of type {type(key).__name__} ({key!r})"
                )
            yield from walk(tree.members[0], item, f"{path}[{key!r}]")
    else:
        for name, member in zip(tree.fields, tree.members, strict=True):
            yield from walk(member, getattr(value, name), f"{path}.{name}")


def rebuild(tree: Node | Leaf, value: object, path: str, replaced: dict[str, object]) -> object:
    """``value`` with the leaves at the paths in ``replaced`` swapped; untouched parts are kept."""
    if isinstance(tree, Leaf):
        return replaced.get(path, value)
    if value is None or not any(key.startswith(path) for key in replaced):
        return value
    kind = tree.kind
    if kind == TUPLE:
        items = typing.cast("tuple[object, ...]", value)
        new_items = [
            rebuild(member, item, f"{path}[{index}]", replaced)
            for index, (member, item) in enumerate(zip(tree.members, items, strict=True))
        ]
        return _same_tuple_class(items, new_items)
    if kind == SEQUENCE:
        sequence = typing.cast("list[object] | tuple[object, ...]", value)
        new_members = [
            rebuild(tree.members[0], item, f"{path}[{index}]", replaced)
            for index, item in enumerate(sequence)
        ]
        if isinstance(sequence, tuple):
            return _same_tuple_class(sequence, new_members)
        new_list = copy.copy(sequence)
        new_list[:] = new_members
        return new_list
    if kind == MAPPING:
        mapping = typing.cast("dict[object, object]", value)
        new_mapping = copy.copy(mapping)
        for key, item in mapping.items():
            new_mapping[key] = rebuild(tree.members[0], item, f"{path}[{key!r}]", replaced)
        return new_mapping
    new_values = {
        name: rebuild(member, getattr(value, name), f"{path}.{name}", replaced)
        for name, member in zip(tree.fields, tree.members, strict=True)
    }
    if isinstance(value, tuple):  # a NamedTuple
        return typing.cast("Any", value)._replace(**new_values)
    record = copy.copy(value)
    for name, new_value in new_values.items():
        # object.__setattr__ also sets the fields of frozen dataclasses, without running __init__.
        object.__setattr__(record, name, new_value)
    return record


def _same_tuple_class(original: tuple[object, ...], items: list[object]) -> tuple[object, ...]:
    if type(original) is tuple:
        return tuple(items)
    return type(original)(items)
