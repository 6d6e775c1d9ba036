"""The checks of one signature, written out as Python source for the generated call path.

Each check is the general path's (see `_axes.check_array`), inlined for one annotation: ``isinstance``
against the exact classes, dtype membership in a frozenset, the shape's length, and each named axis
compared with a local variable of its own. A failing check runs ``fail``, a line the caller chooses
(it hands the call to the general path). What the generated path does not cover raises
`UnsupportedError`, and the signature gets the general path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
import torch

from .._annotations import CONTAINER, OTHER, OWNED, plain_class
from .._jaxtyping_compat import (
    ANONYMOUS,
    BROADCAST_FIXED,
    FIXED,
    NAMED,
    ArraySpec,
    numpy_dtype_name,
)
from ._slots import Slot

UNBOUND: Final = 0  # no earlier check can have bound the axis
MAYBE: Final = 1  # an earlier, skippable check may have bound it (its local is None otherwise)
BOUND: Final = 2  # bound whenever this point is reached


class UnsupportedError(Exception):
    """The signature needs something the generated path does not do: use the general path."""


class SourceWriter:
    """The generated function's source, and the objects it names."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, object] = {}
        self.axes: dict[str, str] = {}  # axis name -> its local variable
        self.state: dict[str, int] = {}
        self.phase = "argument"  # then "return": the return's axes have locals of their own

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def constant(self, prefix: str, value: object) -> str:
        name = f"_{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def axis(self, name: str) -> str:
        if name not in self.axes:
            self.axes[name] = f"axis{len(self.axes)}_{self.phase}"
        return self.axes[name]


def _numpy_types(names: frozenset[str]) -> frozenset[type]:
    """Scalar types whose dtypes jaxtyping names in ``names`` (a subset: others take the general path)."""
    found: set[type] = set()
    for kind in set(np.sctypeDict.values()):
        try:
            dtype = np.dtype(kind)
        except TypeError:
            continue  # a scalar type without a dtype of its own: the general path judges it
        if numpy_dtype_name(dtype) in names:
            found.add(dtype.type)
    return frozenset(found)


def _array_branches(spec: ArraySpec) -> tuple[bool, bool]:
    """Whether values of ``spec``'s classes can be tensors, and whether they can be arrays."""
    classes = spec.array_class if isinstance(spec.array_class, tuple) else (spec.array_class,)
    tensors = arrays = False
    for cls in classes:
        if issubclass(cls, torch.Tensor):
            tensors = True
        elif issubclass(cls, np.ndarray):
            arrays = True
        else:
            raise UnsupportedError  # another library's array: the general path's rules
    return tensors, arrays


def write_array_check(  # noqa: PLR0917  # the generator's state, passed on
    writer: SourceWriter,
    depth: int,
    spec: ArraySpec,
    value: str,
    fail: str,
    on_tensor: Callable[[int], None] | None = None,
    on_array: Callable[[int], None] | None = None,
) -> None:
    """The checks of `_axes.check_array`, inlined; ``fail`` runs where it would complain."""
    if spec.members is not None:
        raise UnsupportedError
    tensors, arrays = _array_branches(spec)
    classes = writer.constant("classes", spec.array_class)
    # By its type, not isinstance(), which believes a faked __class__; the exact classes first,
    # as fast as isinstance() for them.
    listed = spec.array_class if isinstance(spec.array_class, tuple) else (spec.array_class,)
    exact = [writer.constant("class", cls) for cls in listed]
    tests = [f"(kind := type({value})) is not {exact[0]}"]
    tests += [f"kind is not {name}" for name in exact[1:]]
    writer.line(depth, f"if {' and '.join(tests)} and not issubclass(")
    writer.line(depth + 2, f"kind, {classes}")
    writer.line(depth, "):")
    writer.line(depth + 1, fail)
    torch_dtypes = spec.torch_dtypes
    numpy_names = spec.numpy_dtype_names

    def tensor_dtype(inner: int) -> None:
        if torch_dtypes is not None:
            dtypes = writer.constant("torch_dtypes", torch_dtypes)
            writer.line(inner, f"if {value}.dtype not in {dtypes}:")
            writer.line(inner + 1, fail)

    def array_dtype(inner: int) -> None:
        if numpy_names is not None:
            types = writer.constant("numpy_types", _numpy_types(numpy_names))
            writer.line(inner, f"if {value}.dtype.type not in {types}:")
            writer.line(inner + 1, fail)

    def by_library(on_tensor: Callable[[int], None], on_array: Callable[[int], None]) -> None:
        if tensors and arrays:
            tensor_class = writer.constant("Tensor", torch.Tensor)
            writer.line(depth, f"if issubclass(kind, {tensor_class}):")
            on_tensor(depth + 1)
            writer.line(depth + 1, "pass")
            writer.line(depth, "else:")
            on_array(depth + 1)
            writer.line(depth + 1, "pass")
        elif tensors:
            on_tensor(depth)
        else:
            on_array(depth)

    by_library(tensor_dtype, array_dtype)
    if spec.prefix is not None:
        _write_shape_check(writer, depth, spec, value, fail)
    # What a borrow takes, once the value passed every check (as on the general path).
    if on_tensor is not None and on_array is not None:
        by_library(on_tensor, on_array)


def _write_shape_check(
    writer: SourceWriter, depth: int, spec: ArraySpec, value: str, fail: str
) -> None:
    prefix = spec.prefix
    assert prefix is not None
    variadic = spec.variadic
    if variadic is not None and variadic.name is not None:
        raise UnsupportedError  # *batch binds a tuple: the general path's memo
    # A strided nested tensor has no shape: torch raises an internal error for it, and the general
    # path explains it, outside the handler, so that torch's error is not chained to its own.
    # The handler costs nothing until it runs.
    writer.line(depth, "try:")
    writer.line(depth + 1, f"shape = {value}.shape")
    writer.line(depth, "except RuntimeError:")
    writer.line(depth + 1, "shape = None")
    writer.line(depth, "if shape is None:")
    writer.line(depth + 1, fail)
    if variadic is None:
        writer.line(depth, f"if len(shape) != {len(prefix)}:")
        indexed = [(str(index), dim) for index, dim in enumerate(prefix)]
    else:
        suffix = spec.suffix
        writer.line(depth, f"if len(shape) < {len(prefix) + len(suffix)}:")
        indexed = [(str(index), dim) for index, dim in enumerate(prefix)]
        indexed += [(str(index - len(suffix)), dim) for index, dim in enumerate(suffix)]
    writer.line(depth + 1, fail)
    for index, (kind, argument) in indexed:
        size = f"shape[{index}]"
        if kind == ANONYMOUS:
            continue
        if kind == FIXED:
            writer.line(depth, f"if {size} != {int(argument)}:")
            writer.line(depth + 1, fail)
        elif kind == BROADCAST_FIXED:
            writer.line(depth, f"if {size} != 1 and {size} != {int(argument)}:")
            writer.line(depth + 1, fail)
        elif kind == NAMED:
            local = writer.axis(str(argument))
            state = writer.state.get(str(argument), UNBOUND)
            if state == UNBOUND:
                writer.line(depth, f"{local} = {size}")
            elif state == BOUND:
                writer.line(depth, f"if {size} != {local}:")
                writer.line(depth + 1, fail)
            else:
                writer.line(depth, f"if {local} is None:")
                writer.line(depth + 1, f"{local} = {size}")
                writer.line(depth, f"elif {size} != {local}:")
                writer.line(depth + 1, fail)
            writer.state[str(argument)] = BOUND
        else:
            raise UnsupportedError  # broadcast-named and symbolic axes


def supported_slot(slot: Slot) -> None:
    if slot.kind in (OWNED, CONTAINER):
        raise UnsupportedError
    if slot.kind == OTHER and plain_class(slot.hint) is None:
        raise UnsupportedError


def axis_names(spec: ArraySpec | None) -> set[str]:
    """The named axes of a spec the generated path checks (it takes no other named kinds)."""
    if spec is None or spec.prefix is None:
        return set()
    return {argument for kind, argument in (*spec.prefix, *spec.suffix) if kind == NAMED}
