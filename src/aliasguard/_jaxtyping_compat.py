# This module is the one place that reads jaxtyping's private parse results.
# pyright: reportPrivateUsage=false
"""Reading jaxtyping's parsed annotations: every touch of its private dimension classes is here.

`@checked` reuses jaxtyping's own parse of ``Float[Tensor, "b c"]`` (its dtype names and dimension
objects) instead of parsing shape strings again, and compiles it into the small tuples below, which
the per-call checker walks without calling back into jaxtyping. A jaxtyping upgrade that renames
these classes should need a change here and nowhere else.
"""

from __future__ import annotations

import builtins
import sys
import typing
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import torch

from ._annotation_compat import (
    is_class,
    is_jaxtyping_annotation,
    ndarray_scalar_type,
    runtime_class,
    union_members,
)

# Dimension kinds, as small ints for the per-call loop.
NAMED: Final = 0
FIXED: Final = 1
ANONYMOUS: Final = 2
BROADCAST_NAMED: Final = 3  # "#b": size 1, or the size bound to b
SYMBOLIC: Final = 4  # "b+1": evaluated against the sizes bound so far
BROADCAST_FIXED: Final = 5  # "#3": size 1 or 3
BROADCAST_SYMBOLIC: Final = 6  # "#n+1": size 1, or what n+1 evaluates to

Dim = tuple[int, Any]  # (kind, name | size | expression)


@dataclass(frozen=True, slots=True)
class Variadic:
    """``*name``, ``*#name`` or ``...``: any number of axes, bound as a tuple when named."""

    name: str | None
    broadcastable: bool


@dataclass(frozen=True, slots=True)
class ArraySpec:
    """What an array annotation demands, compiled for fast checks.

    Attributes:
        annotation: the annotation as written, for messages.
        array_class: what ``isinstance`` checks (a class or a tuple of classes).
        torch_dtypes: the accepted torch dtypes, or ``None`` for any dtype.
        numpy_dtype_names: the accepted NumPy dtype names (jaxtyping's spelling), or ``None``.
        prefix: dimensions before the variadic one (all of them when there is none).
        variadic: the variadic dimension, if any.
        suffix: dimensions after the variadic one.
        description: the dtype category and shape string as written (``Float 'b c'``).
        members: for a union (``Float[Tensor, "n"] | Float[np.ndarray, "n"]``), each member
            compiled: a value must match one, and the first it matches binds the axes.
    """

    annotation: object
    array_class: type | tuple[type, ...]
    torch_dtypes: frozenset[torch.dtype] | None
    numpy_dtype_names: frozenset[str] | None
    prefix: tuple[Dim, ...] | None
    variadic: Variadic | None
    suffix: tuple[Dim, ...]
    description: str
    members: tuple[ArraySpec, ...] | None = None

    @property
    def checks_shape(self) -> bool:
        return self.prefix is not None

    def admits_numpy_dtype(self, dtype: np.dtype[Any]) -> bool:
        """Whether an array of ``dtype`` meets the annotation's dtype (its shape aside)."""
        return self.numpy_dtype_names is None or numpy_dtype_name(dtype) in self.numpy_dtype_names


def _all_torch_dtypes() -> list[torch.dtype]:
    return [value for value in vars(torch).values() if isinstance(value, torch.dtype)]


def _jaxtyping_name_of_torch_dtype(dtype: torch.dtype) -> str:
    # jaxtyping names a torch dtype by the text after "torch." in its repr.
    return str(dtype).rsplit(".", 1)[-1]


def _compile_dims(
    dims: tuple[Any, ...],
) -> tuple[tuple[Dim, ...], Variadic | None, tuple[Dim, ...]]:
    # Lazy: `import aliasguard` leaves jaxtyping unimported. Private: the dimension classes.
    from jaxtyping import _array_types as parsed

    prefix: list[Dim] = []
    suffix: list[Dim] = []
    variadic: Variadic | None = None
    for dim in dims:
        target = suffix if variadic is not None else prefix
        if dim is parsed._anonymous_variadic_dim:
            variadic = Variadic(None, broadcastable=False)
        elif isinstance(dim, parsed._NamedVariadicDim):
            variadic = Variadic(dim.name, broadcastable=dim.broadcastable)
        elif dim is parsed._anonymous_dim:
            target.append((ANONYMOUS, None))
        elif isinstance(dim, parsed._FixedDim):
            target.append((BROADCAST_FIXED if dim.broadcastable else FIXED, dim.size))
        elif isinstance(dim, parsed._SymbolicDim):
            target.append((BROADCAST_SYMBOLIC if dim.broadcastable else SYMBOLIC, dim.elem))
        elif isinstance(dim, parsed._NamedDim):
            if dim.treepath:
                raise TypeError(
                    f"@checked does not support jaxtyping's tree-path dimensions (?{dim.name}): "
                    "they depend on jaxtyping's PyTree context. Use a plain named dimension."
                )
            target.append((BROADCAST_NAMED if dim.broadcastable else NAMED, dim.name))
        else:
            raise TypeError(
                f"@checked cannot read the jaxtyping dimension {dim!r}: this jaxtyping version "
                "has a dimension kind aliasguard does not know. Please report it."
            )
    return tuple(prefix), variadic, tuple(suffix)


_EITHER_LIBRARY: Final = (np.ndarray, torch.Tensor)


def array_check(annotation: object, *, payload: bool = False) -> type | tuple[type, ...]:
    """What ``isinstance`` checks for an array annotation: a class, or a tuple of classes.

    ``Any`` checks both libraries' classes; a union, its members' classes (flattened); an alias
    (``NDArray[...]``, ``np.ndarray[...]``), the class it stands for (see `runtime_class`); any
    other class itself (a jaxtyping annotation, which ``isinstance`` then checks whole).

    Args:
        payload: read the payload of a ``Shared[...]``/``Owned[...]``, which must name an
            ``np.ndarray`` or a ``torch.Tensor`` (see `is_array_payload`). Otherwise ``object``
            (what jaxtyping reads an unbound type variable as) checks both libraries too, and
            any class checks itself: ``Float[jax.Array, "n"]`` checks a ``jax.Array``.

    Raises:
        TypeError: the annotation, or a member of its union, names no such class.
    """
    if annotation is typing.Any or (annotation is object and not payload):
        # Float[Any, "n"] (and an unbound TypeVar, which jaxtyping reads as Any): any array.
        return _EITHER_LIBRARY
    members = union_members(annotation)
    if members is not None:
        classes: list[type] = []
        for member in members:
            found = array_check(member, payload=payload)
            classes.extend(found if isinstance(found, tuple) else (found,))
        return tuple(classes)
    if payload and not is_array_payload(annotation):
        raise TypeError(
            f"{annotation!r} cannot be wrapped: Shared[...] and Owned[...] take np.ndarray, "
            "torch.Tensor, a jaxtyping annotation of one (Float[Tensor, 'b c']) or a union of them."
        )
    candidate = runtime_class(annotation)
    if is_class(candidate):
        return candidate
    raise TypeError(f"{annotation!r} is not an array class: use np.ndarray or torch.Tensor.")


def is_array_payload(annotation: object) -> bool:
    """Whether one annotation (not a union) names an ``np.ndarray`` or a ``torch.Tensor``.

    A subclass counts, and so does an alias of one (``NDArray[np.float32]``) and a jaxtyping
    annotation of one, or of ``Any`` (``Float[Any, "n"]``: an array of either library).
    """
    origin = runtime_class(annotation)
    if is_class(origin) and issubclass(origin, _EITHER_LIBRARY):
        return True
    if is_jaxtyping_annotation(annotation):
        array_type: object = getattr(annotation, "array_type", None)
        return array_type is typing.Any or is_array_payload(array_type)
    return False


def annotation_key(annotation: object) -> object:
    """A key equal for equal annotations: jaxtyping builds a new class for each ``Float[...]``.

    Raises:
        TypeError: a union member is unhashable. Any other annotation is its own key, hashable
            or not: the caller's lookup finds out.
    """
    members = union_members(annotation)
    if members is not None:
        return frozenset(annotation_key(member) for member in members)
    if is_jaxtyping_annotation(annotation):
        attributes = ("__name__", "array_type", "dtypes", "dim_str")
        return ("jaxtyping", *(getattr(annotation, name, None) for name in attributes))
    return annotation


def _scalar_names_of(annotation: object) -> frozenset[str] | None:
    """jaxtyping's names of the dtypes ``NDArray[np.float32]`` (or ``np.floating``...) admits."""
    scalar = ndarray_scalar_type(annotation)
    if scalar is None:
        return None  # NDArray[Any], a TypeVar: any dtype
    return frozenset(
        numpy_dtype_name(np.dtype(kind))
        for kind in set(np.sctypeDict.values())
        if issubclass(kind, scalar)
    )


def spec_of(annotation: object) -> ArraySpec:
    """Compile a jaxtyping annotation, or a bare ``np.ndarray``/``torch.Tensor`` class."""
    if annotation is typing.Any or annotation is object:
        annotation = np.ndarray | torch.Tensor  # Shared[Any]: any array or tensor
    if not is_jaxtyping_annotation(annotation):
        array_class = array_check(annotation)
        names = _scalar_names_of(annotation)
        # NDArray[np.float32] calls itself "ndarray": its repr names the dtype too.
        name = (
            repr(annotation)
            if names is not None
            else getattr(annotation, "__name__", repr(annotation))
        )
        members = None
        union = union_members(annotation)
        if union is not None:
            members = tuple(spec_of(member) for member in union)
            name = " | ".join(member.description for member in members)
        return ArraySpec(annotation, array_class, None, names, None, None, (), name, members)
    # Lazy: `import aliasguard` leaves jaxtyping unimported. Private: the any-dtype sentinel.
    from jaxtyping import _array_types as parsed

    dtypes: Any = getattr(annotation, "dtypes", None)
    if dtypes is parsed._any_dtype or dtypes is None:
        torch_dtypes = None
        numpy_names = None
    else:
        names = frozenset(str(name) for name in dtypes)
        torch_dtypes = frozenset(
            dtype for dtype in _all_torch_dtypes() if _jaxtyping_name_of_torch_dtype(dtype) in names
        )
        numpy_names = names
    prefix, variadic, suffix = _compile_dims(tuple(getattr(annotation, "dims", ())))
    array_type: object = getattr(annotation, "array_type", object)
    dim_str: str = getattr(annotation, "dim_str", "")
    return ArraySpec(
        annotation=annotation,
        array_class=array_check(array_type),
        torch_dtypes=torch_dtypes,
        numpy_dtype_names=numpy_names,
        prefix=prefix,
        variadic=variadic,
        suffix=suffix,
        description=f"{annotation.__name__.split('[', 1)[0]}[{_class_name(array_type)}, {dim_str!r}]"
        if isinstance(annotation, type)
        else repr(annotation),
    )


def _class_name(array_type: object) -> str:
    return getattr(array_type, "__name__", repr(array_type))


_PLAIN_VOID: Final = np.dtype(np.void)


def numpy_dtype_name(dtype: np.dtype[Any]) -> str:
    """jaxtyping's name for a NumPy dtype: its scalar type's name (``bool``, not ``bool_``).

    A structured dtype is named by its description (``[('a', '<f4'), ('b', '<i4')]``), which is
    what ``make_numpy_struct_dtype`` annotations list.
    """
    name = dtype.type.__name__
    if name == "bool_":
        return "bool"
    if name == "void" and dtype is not _PLAIN_VOID:
        return str(dtype)
    return name


# ----------------------------------------------------------------------------------------------
# Symbolic axes: "b+1", "min(n,2)", and f-string axes that name arguments: "{dim}", "{self.n}".


class SymbolicAxisError(Exception):
    """A symbolic axis that cannot be evaluated; the message says why, for the checker's error."""


def symbolic_names(expression: str) -> tuple[str, ...]:
    """The axis names a symbolic axis reads (builtins such as ``min`` excluded)."""
    try:
        code = compile(expression, "<jaxtyping dimension>", "eval")
    except SyntaxError:
        return ()
    return tuple(name for name in code.co_names if not hasattr(builtins, name))


def symbolic_size(expression: str, sizes: dict[str, Any], arguments: dict[str, Any] | None) -> Any:
    """What a symbolic axis evaluates to, under jaxtyping's rules.

    An f-string part (``{dim}``) is filled in from the call's arguments first; the text is then
    evaluated with the sizes bound so far as its names, Python's builtins included (jaxtyping's
    ``"min(n,2)"``).

    Raises:
        SymbolicAxisError: the expression names an unbound axis or argument, or fails itself.
    """
    if "{" in expression:
        if arguments is None:
            raise SymbolicAxisError(f"axis {expression} names arguments, and there are none here")
        try:
            expression = eval("f" + repr(expression), dict(arguments))
        except NameError as error:
            raise SymbolicAxisError(
                f"axis {expression} names {error.name!r}, which is not an argument"
            ) from None
        except Exception as error:
            raise SymbolicAxisError(
                f"axis {expression} cannot be filled in ({type(error).__name__}: {error})"
            ) from None
    try:
        return eval(expression, {"__builtins__": builtins}, sizes)
    except NameError:
        raise SymbolicAxisError(
            f"axis {expression} refers to an axis no earlier argument bound"
        ) from None
    except Exception as error:  # the expression's own failure: n//k with k == 0
        raise SymbolicAxisError(
            f"axis {expression} cannot be evaluated ({type(error).__name__}: {error})"
        ) from None


# ----------------------------------------------------------------------------------------------
# jaxtyping's per-call memo: `isinstance(x, Float[Tensor, "b"])` inside a checked body, and
# beartype-checked annotations, see the axis sizes the call bound, as under jaxtyped.


def shape_storage() -> Any:
    """jaxtyping's thread-local that holds the memo stack, importing jaxtyping if nothing has yet.

    A generated call path pushes onto it on every call, and a body may import jaxtyping only after
    the function was decorated.
    """
    from jaxtyping import _storage  # lazy: `import aliasguard` leaves jaxtyping unimported

    return _storage._shape_storage


def shape_memo_stack() -> list[Any] | None:
    """This thread's stack of jaxtyping memos, or ``None`` while jaxtyping is not imported.

    An entry is ``(sizes, variadic sizes, pytree structures, arguments)``. `@checked` pushes one per
    call, holding the sizes it bound (see `shape_memo_entry`), and pops it when the body returns.
    """
    storage = sys.modules.get("jaxtyping._storage")
    if storage is None:
        return None
    local: Any = storage._shape_storage
    try:
        stack: list[Any] = local.memo_stack
    except AttributeError:
        stack = local.memo_stack = []
    return stack


def shape_memo_entry(sizes: dict[str, Any], arguments: dict[str, Any]) -> tuple[Any, ...]:
    """jaxtyping's memo entry for this call's bindings, ``*name`` variadics split off.

    Without variadic bindings the entry holds ``sizes`` itself, so bindings the body makes through
    ``isinstance`` are seen by the return check, as under jaxtyped.
    """
    if not any(key[:1] == "*" for key in sizes):
        return (sizes, {}, {}, arguments)
    single = {key: value for key, value in sizes.items() if key[:1] != "*"}
    variadic = {key[1:]: value for key, value in sizes.items() if key[:1] == "*"}
    return (single, variadic, {}, arguments)


def sizes_of_entry(entry: tuple[Any, ...]) -> dict[str, Any]:
    """The bindings of a memo entry, in the checker's form (``*name`` for variadics)."""
    single, variadic = entry[0], entry[1]
    if not variadic:
        return typing.cast("dict[str, Any]", single)
    sizes = dict(single)
    sizes.update({"*" + key: value for key, value in variadic.items()})
    return sizes
