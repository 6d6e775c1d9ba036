"""`@checked` properties: correct code is never flagged, and shapes are judged as jaxtyping does.

No false positives: Hypothesis writes a function signature (one to three parameters, each
``Shared``, ``Owned`` or bare, NumPy or torch, over dims drawn from jaxtyping's grammar), draws
arguments that satisfy it (from our own strategies, in hard layouts: strided, Fortran, flipped,
broadcast, read-only), and a body that only reads its borrowed inputs and returns a fresh ``Owned``
value (``own(...)``, a copy, ``x + 1``) or the handle it was moved. ``@checked`` must accept every
call, leave every borrowed input bit-for-bit as it was, return the right value, and invalidate
exactly the moved handles.

Equivalence: for random dims specs and shapes, ``@checked`` on ``Shared[...]`` parameters accepts
exactly when ``jaxtyped(typechecker=beartype)`` accepts the bare annotations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jaxtyping
import numpy as np
import pytest
import torch
from beartype import beartype
from hypothesis import HealthCheck, find, given, settings, strategies as st

from aliasguard import (
    AliasingError,
    AnnotationError,
    Owned,
    Shared,
    checked,
    is_owned,
    is_shared,
    own,
    share,
)
from aliasguard.strategies import arrays, tensors
from helpers import subscript

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = ("a", "b", "c")
# Dtypes per jaxtyping category; bool only under Shaped, so ``x + 1`` keeps the category.
CATEGORY_DTYPES: dict[str, tuple[str, ...]] = {
    "Float": ("float16", "float32", "float64"),
    "Integer": ("int8", "int16", "int32", "int64", "uint8"),
    "Shaped": ("bool", "float32", "int64", "uint8"),
}
ARRAY_LAYOUTS = (
    "contiguous",
    "strided",
    "fortran",
    "negative-strides",
    "zero-strides",
    "read-only",
)
TENSOR_LAYOUTS = ("contiguous", "strided", "transposed", "zero-strides", "storage-offset")
# Layouts share() aliases (it refuses negative strides, which torch cannot express).
SHAREABLE_ARRAY_LAYOUTS = ("contiguous", "strided", "fortran", "zero-strides", "read-only")

# share() and own() on a value whose library is drawn at run time (their overloads need it known).
share_any: Callable[[Any], Shared[Any]] = share
own_any: Callable[[Any], Owned[Any]] = own


def annotation(category: str, library: str, dims: str) -> Any:
    array_type = torch.Tensor if library == "torch" else np.ndarray
    return subscript(getattr(jaxtyping, category), (array_type, dims))


def value_bytes(value: torch.Tensor | np.ndarray[Any, Any]) -> tuple[str, tuple[int, ...], bytes]:
    """dtype, shape and the bits of every element, C order: what an untouched input keeps."""
    if isinstance(value, torch.Tensor):
        array = value.detach().contiguous().numpy()
        return str(value.dtype), tuple(value.shape), np.ascontiguousarray(array).tobytes()
    return str(value.dtype), tuple(value.shape), np.ascontiguousarray(value).tobytes()


def copy_of(value: Any) -> Any:
    return value.clone() if isinstance(value, torch.Tensor) else value.copy()


# ----------------------------------------------------------------------------------------------
# Signatures and arguments


@dataclass(frozen=True)
class Parameter:
    role: str  # "shared", "owned" or "bare"
    library: str  # "torch" or "numpy": the payload's library
    category: str  # jaxtyping dtype category
    dims: str  # the dims string, e.g. "a #b *batch"
    shape: tuple[int, ...]  # a shape that satisfies dims under the drawn sizes


@st.composite
def dims_and_shape(
    draw: st.DrawFn, sizes: dict[str, int], batch: tuple[int, ...]
) -> tuple[str, tuple[int, ...]]:
    """A dims string from jaxtyping's grammar, and a shape consistent with ``sizes``/``batch``."""
    tokens: list[str] = []
    shape: list[int] = []
    variadic_at = draw(st.none() | st.integers(0, 3))
    count = draw(st.integers(0, 3))
    for index in range(count + 1):
        if index == variadic_at:
            if draw(st.booleans()):
                tokens.append("*batch")
                shape.extend(batch)
            else:
                tokens.append("...")
                shape.extend(draw(st.lists(st.integers(0, 3), max_size=2)))
        if index == count:
            break
        kind = draw(st.sampled_from(["named", "fixed", "anonymous", "broadcast"]))
        if kind == "named":
            name = draw(st.sampled_from(NAMES))
            tokens.append(name)
            shape.append(sizes[name])
        elif kind == "fixed":
            size = draw(st.integers(1, 3))
            tokens.append(str(size))
            shape.append(size)
        elif kind == "anonymous":
            tokens.append("_")
            shape.append(draw(st.integers(0, 3)))
        else:
            name = draw(st.sampled_from(NAMES))
            tokens.append(f"#{name}")
            shape.append(draw(st.sampled_from([1, sizes[name]])))
    return " ".join(tokens), tuple(shape)


@st.composite
def signatures(draw: st.DrawFn) -> tuple[Parameter, ...]:
    sizes = {name: draw(st.integers(0, 3)) for name in NAMES}
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    parameters: list[Parameter] = []
    for _ in range(draw(st.integers(1, 3))):
        dims, shape = draw(dims_and_shape(sizes, batch))
        parameters.append(
            Parameter(
                role=draw(st.sampled_from(["shared", "owned", "bare"])),
                library=draw(st.sampled_from(["torch", "numpy"])),
                category=draw(st.sampled_from(sorted(CATEGORY_DTYPES))),
                dims=dims,
                shape=shape,
            )
        )
    return tuple(parameters)


def raw_values(
    library: str, dtype: str, shape: tuple[int, ...], *, shareable: bool
) -> st.SearchStrategy[Any]:
    """Arrays or tensors of ``shape`` in hard layouts (only C order for rank 0)."""
    if library == "numpy":
        layouts = SHAREABLE_ARRAY_LAYOUTS if shareable else ARRAY_LAYOUTS
        return arrays(dtypes=[dtype], shapes=shape, layouts=layouts if shape else ("contiguous",))
    return tensors(
        dtypes=[dtype], shapes=shape, layouts=TENSOR_LAYOUTS if shape else ("contiguous",)
    )


OTHER_LIBRARY = {"torch": "numpy", "numpy": "torch"}


@st.composite
def argument_for(draw: st.DrawFn, parameter: Parameter) -> Any:
    """A value the caller may pass for ``parameter``: wrapped as its role allows."""
    dtype = draw(st.sampled_from(CATEGORY_DTYPES[parameter.category]))
    library, shape = parameter.library, parameter.shape
    if parameter.role == "bare":
        return draw(raw_values(library, dtype, shape, shareable=False))
    # Shared parameters also take Owned handles; Owned ones take only Owned handles.
    routes = ["own", "Owned"] if parameter.role == "owned" else ["Shared", "share", "own", "Owned"]
    route = draw(st.sampled_from(routes))
    if route == "Shared":
        return Shared(draw(raw_values(library, dtype, shape, shareable=False)))
    if route == "Owned":
        return Owned(copy_of(draw(raw_values(library, dtype, shape, shareable=False))))
    other = draw(raw_values(OTHER_LIBRARY[library], dtype, shape, shareable=True))
    return share_any(other) if route == "share" else own_any(other)


@dataclass(frozen=True)
class Returned:
    kind: str  # "none", "own", "copy", "plus_one" or "moved"
    source: int  # the parameter it is made from


@st.composite
def returns_for(draw: st.DrawFn, parameters: tuple[Parameter, ...]) -> Returned:
    owned = [index for index, parameter in enumerate(parameters) if parameter.role == "owned"]
    kinds = ["none", "own", "copy", "plus_one"] + (["moved"] if owned else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "moved":
        return Returned(kind, draw(st.sampled_from(owned)))
    return Returned(kind, draw(st.integers(0, len(parameters) - 1)))


def payload(argument: Any) -> Any:
    """The array or tensor an argument carries, wrapped or not."""
    if is_shared(argument):
        return argument.value
    return argument


def make_function(arity: int, body: Callable[[tuple[Any, ...]], Any]) -> Callable[..., Any]:
    """A function of ``arity`` named parameters ``p0``... (``@checked`` skips ``*args``)."""
    if arity == 1:

        def one(p0: Any) -> Any:
            return body((p0,))

        return one
    if arity == 2:

        def two(p0: Any, p1: Any) -> Any:
            return body((p0, p1))

        return two

    def three(p0: Any, p1: Any, p2: Any) -> Any:
        return body((p0, p1, p2))

    return three


def build(parameters: tuple[Parameter, ...], returned: Returned) -> Callable[..., Any]:
    """A correct function: reads every borrowed input, returns fresh memory or its moved handle."""

    def body(arguments: tuple[Any, ...]) -> Any:
        with np.errstate(all="ignore"):  # NaN, infinity and overflow are among the drawn values
            return compute(arguments)

    def compute(arguments: tuple[Any, ...]) -> Any:
        for parameter, argument in zip(parameters, arguments, strict=True):
            if parameter.role != "owned":
                payload(argument).sum()  # a read
        if returned.kind == "none":
            return None
        source = arguments[returned.source]
        if returned.kind == "moved":
            return source
        value = payload(source)
        if returned.kind == "own":
            return own_any(value)
        if returned.kind == "copy":
            return Owned(copy_of(value))
        # NumPy turns 0-d results into scalars: asarray makes them arrays again (fresh ones).
        return Owned(value + 1 if isinstance(value, torch.Tensor) else np.asarray(value + 1))

    function = make_function(len(parameters), body)
    annotations: dict[str, Any] = {}
    for index, parameter in enumerate(parameters):
        inner = annotation(parameter.category, parameter.library, parameter.dims)
        wrapper = {"shared": Shared, "owned": Owned}.get(parameter.role)
        annotations[f"p{index}"] = inner if wrapper is None else subscript(wrapper, inner)
    if returned.kind == "none":
        annotations["return"] = None
    else:
        source = parameters[returned.source]
        library = OTHER_LIBRARY[source.library] if returned.kind == "own" else source.library
        inner = annotation(source.category, library, source.dims)
        annotations["return"] = subscript(Owned, inner)
    function.__annotations__ = annotations
    return function


def expected_result(returned: Returned, before: list[Any]) -> Any:
    """What the function must return, computed from copies taken before the call."""
    source = before[returned.source]
    if returned.kind == "own":
        return own_any(source).value
    if returned.kind == "plus_one":
        with np.errstate(all="ignore"):
            return source + 1 if isinstance(source, torch.Tensor) else np.asarray(source + 1)
    return source


@dataclass(frozen=True)
class Call:
    parameters: tuple[Parameter, ...]
    returned: Returned
    arguments: list[Any]
    positional_count: int  # the rest go by keyword
    exhaustive: bool


@st.composite
def correct_calls(draw: st.DrawFn) -> Call:
    parameters = draw(signatures())
    returned = draw(returns_for(parameters))
    arguments = [draw(argument_for(parameter)) for parameter in parameters]
    positional_count = draw(st.integers(0, len(parameters)))
    return Call(parameters, returned, arguments, positional_count, draw(st.booleans()))


@PROPERTY
@given(correct_calls())
def test_correct_functions_are_never_flagged(call: Call) -> None:
    parameters, returned, arguments = call.parameters, call.returned, call.arguments
    function = checked(exhaustive=call.exhaustive)(build(parameters, returned))
    before = [copy_of(payload(argument)) for argument in arguments]
    moved_payload = payload(arguments[returned.source]) if returned.kind == "moved" else None
    count = call.positional_count
    keywords = {f"p{index}": arguments[index] for index in range(count, len(arguments))}

    result = function(*arguments[:count], **keywords)

    for parameter, argument, copy in zip(parameters, arguments, before, strict=True):
        if parameter.role == "owned":  # moved: the caller's handle is dead
            assert is_owned(argument)
            with pytest.raises(AliasingError, match="moved"):
                _ = argument.value
        else:  # borrowed or bare: bit for bit as it was, and still usable
            assert value_bytes(payload(argument)) == value_bytes(copy)
    if returned.kind == "none":
        assert result is None
    elif returned.kind == "moved":
        assert is_owned(result)
        assert result.value is moved_payload  # the callee's handle, valid again in the caller
    else:
        assert is_owned(result)
        assert value_bytes(result.value) == value_bytes(expected_result(returned, before))


# ----------------------------------------------------------------------------------------------
# Same verdict as jaxtyping


@st.composite
def spec_tokens(draw: st.DrawFn) -> list[str]:
    """A dims spec from a small grammar: named, fixed, ``_``, ``#name``, one ``*batch`` or ``...``."""
    single = st.sampled_from(["a", "b", "1", "2", "3", "_", "#a", "#b"])
    tokens = draw(st.lists(single, max_size=3))
    variadic = draw(st.sampled_from([None, "*batch", "..."]))
    if variadic is not None:
        tokens.insert(draw(st.integers(0, len(tokens))), variadic)
    return tokens


@st.composite
def shape_near(draw: st.DrawFn, tokens: list[str], sizes: dict[str, int]) -> tuple[int, ...]:
    """Usually a shape that fits ``tokens`` under ``sizes``, sometimes one axis off or extra."""
    shape: list[int] = []
    for token in tokens:
        if token in ("*batch", "..."):
            shape.extend(draw(st.lists(st.integers(1, 3), max_size=2)))
        elif token.isdigit():
            shape.append(int(token))
        elif token == "_":
            shape.append(draw(st.integers(0, 3)))
        elif token.startswith("#"):
            shape.append(draw(st.sampled_from([1, sizes[token[1:]]])))
        else:
            shape.append(sizes[token])
    mutation = draw(st.sampled_from(["none", "none", "resize", "append", "drop"]))
    if mutation == "resize" and shape:
        shape[draw(st.integers(0, len(shape) - 1))] = draw(st.integers(0, 3))
    elif mutation == "append":
        shape.append(draw(st.integers(1, 3)))
    elif mutation == "drop" and shape:
        shape.pop(draw(st.integers(0, len(shape) - 1)))
    return tuple(shape)


EQUIVALENCE_CATEGORIES = ("Float", "Float32", "Int", "Int64", "Shaped", "Bool", "Num")
EQUIVALENCE_DTYPES = ("float16", "float32", "float64", "int32", "int64", "uint8", "bool")


@dataclass(frozen=True)
class Operand:
    tokens: list[str]
    category: str
    library: str  # the annotation's library
    value: Any


@st.composite
def operands(draw: st.DrawFn, sizes: dict[str, int]) -> Operand:
    tokens = draw(spec_tokens())
    shape = draw(shape_near(tokens, sizes))
    dtype = draw(st.sampled_from(EQUIVALENCE_DTYPES))
    value_library = draw(st.sampled_from(["torch", "numpy"]))
    library = draw(st.sampled_from([value_library, value_library, OTHER_LIBRARY[value_library]]))
    value: Any = np.zeros(shape, dtype=dtype)
    if value_library == "torch":
        value = torch.zeros(shape, dtype=getattr(torch, dtype))
    return Operand(tokens, draw(st.sampled_from(EQUIVALENCE_CATEGORIES)), library, value)


@st.composite
def operand_pairs(draw: st.DrawFn) -> tuple[Operand, Operand]:
    sizes = {"a": draw(st.integers(0, 3)), "b": draw(st.integers(0, 3))}
    return draw(operands(sizes)), draw(operands(sizes))


def verdicts(x: Operand, y: Operand) -> tuple[bool, bool]:
    """``(checked accepts, jaxtyped(beartype) accepts)`` for ``f(x, y)``."""
    x_annotation = annotation(x.category, x.library, " ".join(x.tokens))
    y_annotation = annotation(y.category, y.library, " ".join(y.tokens))

    def ours(x: Any, y: Any) -> None:
        del x, y

    def theirs(x: Any, y: Any) -> None:
        del x, y

    ours.__annotations__ = {
        "x": subscript(Shared, x_annotation),
        "y": subscript(Shared, y_annotation),
        "return": None,
    }
    theirs.__annotations__ = {"x": x_annotation, "y": y_annotation, "return": None}
    try:
        checked(ours)(Shared(x.value), Shared(y.value))
    except AnnotationError:
        ours_accepts = False
    else:
        ours_accepts = True
    try:
        typechecked = jaxtyping.jaxtyped(typechecker=beartype)  # pyright: ignore[reportUnknownMemberType]
        typechecked(theirs)(x.value, y.value)
    except jaxtyping.TypeCheckError:
        theirs_accepts = False
    else:
        theirs_accepts = True
    return ours_accepts, theirs_accepts


@settings(max_examples=400, deadline=None)
@given(operand_pairs())
def test_checked_accepts_exactly_what_jaxtyping_accepts(pair: tuple[Operand, Operand]) -> None:
    ours, theirs = verdicts(*pair)
    assert ours == theirs, f"@checked accepts: {ours}, jaxtyped(beartype) accepts: {theirs}"


def _shape_only(pair: tuple[Operand, Operand]) -> bool:
    """Both operands pass the library and dtype checks: the verdict is the shapes'."""
    return all(
        operand.library == ("torch" if isinstance(operand.value, torch.Tensor) else "numpy")
        and operand.category in ("Shaped", "Num")
        and str(operand.value.dtype).removeprefix("torch.") != "bool"
        for operand in pair
    )


def test_equivalence_cases_reach_both_verdicts_on_shapes_alone() -> None:
    """The property is only as strong as its inputs: each verdict occurs with the dims in play."""
    tuned = settings(database=None, max_examples=2000)
    for verdict in (True, False):

        def reaches(pair: tuple[Operand, Operand], verdict: bool = verdict) -> bool:
            rich = len(pair[0].tokens) + len(pair[1].tokens) >= 3
            return rich and _shape_only(pair) and verdicts(*pair) == (verdict, verdict)

        assert _shape_only(find(operand_pairs(), reaches, settings=tuned))
