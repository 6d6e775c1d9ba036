"""`from_annotation` and `call_arguments`: drawn values satisfy their annotations, as both judges read them.

Hypothesis writes annotations from jaxtyping's grammar (named, fixed, ``_``, ``#``, symbolic,
``*batch``, ``*#batch``, ``...`` axes; dtype categories; NumPy, torch or both), wrapped in
``Shared``, ``Owned`` or bare; the strategies then draw values for them. Every value must pass
``isinstance``, ``jaxtyped(typechecker=beartype)`` and ``@checked``, with one axis memo across a
whole signature; ``Owned`` arguments must overlap nothing, ``share()``-made ones must alias their
sources. The last sections cover ``st.from_type`` and the argument errors.
"""

from __future__ import annotations

import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jaxtyping
import numpy as np
import pytest
import torch
from beartype import beartype
from hypothesis import HealthCheck, Phase, find, given, settings, strategies as st
from hypothesis.errors import InvalidArgument
from jaxtyping import Float, Float32, Shaped
from numpy.typing import NDArray
from torch import Tensor

from aliasguard import Owned, Shared, checked, is_owned, is_shared, shares_memory
from aliasguard.strategies import (
    ARRAY_DTYPES,
    TENSOR_DTYPES,
    call_arguments,
    from_annotation,
)
from helpers import subscript

# For find(): the first example found, unshrunk (these tests ask whether one exists at all).
FIRST_FOUND = settings(database=None, max_examples=1000, phases=[Phase.generate])
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = ("a", "b")
CATEGORIES = ("Float", "Float32", "Int", "Integer", "UInt8", "Bool", "Shaped", "Num", "Inexact")
ARRAY_TYPES: dict[str, object] = {
    "torch": Tensor,
    "numpy": np.ndarray,
    "either": np.ndarray | Tensor,
}
WRAPPERS: dict[str, object] = {"bare": None, "shared": Shared, "owned": Owned}


def payload(argument: Any) -> Any:
    """The array or tensor an argument carries, wrapped or not."""
    return argument.value if is_shared(argument) else argument


def make_function(names: list[str], *, keyword_only: bool = False) -> Callable[..., None]:
    """A function of the named parameters that returns None (annotations are set by the caller)."""
    namespace: dict[str, Any] = {}
    listed = ", ".join(names)
    parameters = f"*, {', '.join(f'{name}=None' for name in names)}" if keyword_only else listed
    exec(f"def function({parameters}):\n    return None", namespace)
    function: Callable[..., None] = namespace["function"]
    return function


def jaxtyped_check(annotations: dict[str, Any], arguments: dict[str, Any]) -> None:
    """Call a function with these annotations under ``jaxtyped(typechecker=beartype)``."""
    names = [name for name in annotations if name != "return"]
    function = make_function(names, keyword_only=True)
    function.__annotations__ = {**annotations, "return": None}
    typechecked = jaxtyping.jaxtyped(typechecker=beartype)  # pyright: ignore[reportUnknownMemberType]
    typechecked(function)(**arguments)


def size_of(value: Any) -> int:
    return int(value.numel()) if isinstance(value, torch.Tensor) else int(value.size)


def is_instance(value: object, annotation: object) -> bool:
    """``isinstance``, reading a ``typing.Union`` of jaxtyping classes member by member."""
    members = typing.get_args(annotation) if typing.get_origin(annotation) is typing.Union else ()
    if members:
        return any(isinstance(value, member) for member in members)
    return isinstance(value, typing.cast("type", annotation))


# ----------------------------------------------------------------------------------------------
# Annotations from jaxtyping's grammar


@dataclass(frozen=True)
class Spec:
    wrapper: str  # "bare", "shared" or "owned"
    category: str
    library: str  # "torch", "numpy" or "either"
    dims: str

    @property
    def annotation(self) -> Any:
        inner = subscript(getattr(jaxtyping, self.category), (ARRAY_TYPES[self.library], self.dims))
        wrapper = WRAPPERS[self.wrapper]
        return inner if wrapper is None else subscript(wrapper, inner)


@st.composite
def dims_strings(
    draw: st.DrawFn, bound: frozenset[str] = frozenset(), *, symbolic: bool = True
) -> str:
    """A dims string; a symbolic ``a+1`` only where ``a`` is bound before it (as @checked reads)."""
    tokens: list[str] = []
    named = set(bound)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["named", "fixed", "_", "#named", "#fixed", "symbolic"]))
        name = draw(st.sampled_from(NAMES))
        if kind == "named":
            tokens.append(name)
            named.add(name)
        elif kind == "fixed":
            tokens.append(str(draw(st.integers(1, 3))))
        elif kind == "#named":
            tokens.append(f"#{name}")
        elif kind == "#fixed":
            tokens.append(f"#{draw(st.integers(1, 3))}")
        elif kind == "symbolic" and symbolic and name in named:
            tokens.append(f"{name}+1")
        else:
            tokens.append("_")
    variadic = draw(st.sampled_from([None, "*batch", "*#batch", "..."]))
    if variadic is not None:
        tokens.insert(draw(st.integers(0, len(tokens))), variadic)
    return " ".join(tokens)


@st.composite
def specs(draw: st.DrawFn, bound: frozenset[str] = frozenset()) -> Spec:
    library = draw(st.sampled_from(sorted(ARRAY_TYPES)))
    # Float[np.ndarray | Tensor, ...] is a typing.Union of jaxtyping classes, which @checked hands
    # to beartype outside jaxtyping's axis memo: symbolic axes there cannot be evaluated.
    dims = draw(dims_strings(bound, symbolic=library != "either"))
    return Spec(
        wrapper=draw(st.sampled_from(sorted(WRAPPERS))),
        category=draw(st.sampled_from(CATEGORIES)),
        library=library,
        dims=dims,
    )


@st.composite
def signatures(draw: st.DrawFn) -> tuple[Spec, ...]:
    """One to three parameters; symbolic axes may refer to names earlier parameters bind."""
    parameters: list[Spec] = []
    bound: set[str] = set()
    for _ in range(draw(st.integers(1, 3))):
        spec = draw(specs(frozenset(bound)))
        parameters.append(spec)
        if spec.library != "either":  # @checked reads a union of jaxtyping types without axes
            bound.update(token for token in spec.dims.split() if token in NAMES)
    return tuple(parameters)


def build(parameters: tuple[Spec, ...]) -> Callable[..., None]:
    """A function with parameters ``p0``, ``p1``... annotated as ``parameters`` say."""
    function = make_function([f"p{index}" for index in range(len(parameters))])
    function.__annotations__ = {
        **{f"p{index}": spec.annotation for index, spec in enumerate(parameters)},
        "return": None,
    }
    return function


# ----------------------------------------------------------------------------------------------
# Values satisfy their annotations


@PROPERTY
@given(st.data())
def test_values_satisfy_their_annotation(data: st.DataObject) -> None:
    spec = data.draw(specs(), label="spec")
    annotation = spec.annotation
    value = data.draw(from_annotation(annotation), label="value")
    assert is_instance(value, annotation)
    jaxtyped_check({"x": annotation}, {"x": value})
    if spec.wrapper == "owned":
        assert is_owned(value)
    elif spec.wrapper == "shared":
        assert is_shared(value)
    else:
        assert isinstance(value, np.ndarray | torch.Tensor)


@PROPERTY
@given(st.data())
def test_signatures_bind_axes_consistently(data: st.DataObject) -> None:
    parameters = data.draw(signatures(), label="parameters")
    function = build(parameters)
    arguments = data.draw(call_arguments(function), label="arguments")
    assert sorted(arguments) == [f"p{index}" for index in range(len(parameters))]
    jaxtyped_check(function.__annotations__, arguments)
    checked(function)(**arguments)  # each argument, and the axes across them, as @checked reads


@PROPERTY
@given(st.data())
def test_owned_arguments_overlap_nothing_and_borrows_alias_their_sources(
    data: st.DataObject,
) -> None:
    annotations = {
        "x": Owned[Float32[Tensor, "a b"]],
        "y": Shared[Float32[np.ndarray, "a b"]],
        "z": Shared[Float32[Tensor, "b"]],
        "w": Owned[Float32[np.ndarray, "a b"]],
        "v": Float32[Tensor, "a b"],
    }
    function = make_function(list(annotations))
    function.__annotations__ = {**annotations, "return": None}
    arguments = data.draw(call_arguments(function), label="arguments")
    values = {name: payload(argument) for name, argument in arguments.items()}
    sources = {
        name: argument.source
        for name, argument in arguments.items()
        if is_shared(argument) and argument.source is not None
    }
    for name, argument in arguments.items():
        if is_owned(argument):
            assert argument.source is None
            others = [value for other, value in values.items() if other != name]
            others += list(sources.values())
            assert not any(shares_memory(argument.value, other) for other in others)
    for name, source in sources.items():
        if size_of(values[name]):
            assert shares_memory(values[name], source)


def test_every_wrapper_route_is_drawn() -> None:
    """The properties are only as strong as their inputs: each way of making a wrapper occurs."""
    tuned = FIRST_FOUND
    annotation = Shared[Float32[Tensor, "a"]]

    def route(value: Shared[Any]) -> str:
        if is_owned(value):
            return "owned"
        return "share" if value.source is not None else "plain"

    def drawn_by(expected: str) -> Callable[[Shared[Any]], bool]:
        return lambda value: route(value) == expected

    strategy: st.SearchStrategy[Shared[Any]] = from_annotation(annotation)
    for expected in ("owned", "share", "plain"):
        assert route(find(strategy, drawn_by(expected), settings=tuned)) == expected
    strided = find(
        from_annotation(Float32[np.ndarray, "a b"]),
        lambda a: a.size > 1 and min(a.strides) < 0,
        settings=tuned,
    )
    assert min(strided.strides) < 0


# ----------------------------------------------------------------------------------------------
# Axis memo, dtypes, optional


MEMO: dict[str, int | tuple[int, ...]] = {"b": 3, "*batch": (2,)}


@settings(max_examples=60, deadline=None)
@given(
    from_annotation(Float[Tensor, "*batch a b"], memo=MEMO),
    from_annotation(Float[Tensor, "#b"], memo=MEMO),
)
def test_memo_is_honoured_and_never_written(first: Tensor, second: Tensor) -> None:
    assert (first.shape[0], first.shape[2]) == (2, 3)
    assert second.shape[0] in (1, 3)
    assert MEMO == {"b": 3, "*batch": (2,)}  # "a" is drawn afresh for every value


def test_memo_leaves_unbound_axes_free() -> None:
    strategy: st.SearchStrategy[Tensor] = from_annotation(Float[Tensor, "a b"], memo={"b": 3})
    tuned = FIRST_FOUND

    def first_axis_is(size: int) -> Callable[[Tensor], bool]:
        return lambda value: value.shape[0] == size

    for size in (1, 2):
        assert find(strategy, first_axis_is(size), settings=tuned).shape == (size, 3)


@settings(max_examples=60, deadline=None)
@given(
    from_annotation(
        Shared[Float[np.ndarray | Tensor, " n"]] | None, dtypes=["float16", torch.float64]
    )
)
def test_dtypes_restrict_the_annotation(value: Shared[Any] | None) -> None:
    if value is not None:
        assert str(value.value.dtype).removeprefix("torch.") in ("float16", "float64")


@settings(max_examples=60, deadline=None)
@given(from_annotation(Owned[NDArray[np.floating[Any]]]))
def test_numpy_typing_aliases_restrict_the_dtype(value: Owned[NDArray[Any]]) -> None:
    assert isinstance(value.value, np.ndarray)
    assert np.issubdtype(value.value.dtype, np.floating)


def test_optional_annotations_draw_none_too() -> None:
    strategy = from_annotation(Shared[Float32[Tensor, " n"]] | None)
    assert find(strategy, lambda value: value is None, settings=FIRST_FOUND) is None


def dtype_name(value: Any) -> str:
    return str(value.dtype).removeprefix("torch.")


def has_dtype(name: str) -> Callable[[Any], bool]:
    return lambda value: dtype_name(value) == name


@pytest.mark.parametrize(
    ("array_type", "expected"), [(Tensor, TENSOR_DTYPES), (np.ndarray, ARRAY_DTYPES)]
)
def test_shaped_draws_every_dtype_aliasguard_converts(
    array_type: type, expected: tuple[str, ...]
) -> None:
    # One search per dtype, so that the verdict does not hang on one random stream covering them all.
    strategy = from_annotation(subscript(Shaped, (array_type, "")))
    for name in expected:
        found = find(strategy, has_dtype(name), settings=FIRST_FOUND)
        assert isinstance(found, array_type)

    seen: set[str] = set()

    @settings(max_examples=200, database=None, deadline=None)
    @given(strategy)
    def record(value: Any) -> None:
        seen.add(dtype_name(value))

    record()
    assert seen <= set(expected)


# ----------------------------------------------------------------------------------------------
# Hypothesis's type lookup


OWNED_MATRIX: Any = subscript(Owned, subscript(Float, (Tensor, "b c")))
MATRIX: Any = subscript(Float, (Tensor, "b c"))


@settings(max_examples=30, deadline=None)
@given(st.from_type(OWNED_MATRIX))
def test_from_type_resolves_owned(value: Owned[Tensor]) -> None:
    assert isinstance(value, OWNED_MATRIX)


@settings(max_examples=30, deadline=None)
@given(st.from_type(MATRIX))
def test_from_type_resolves_bare_jaxtyping(value: Tensor) -> None:
    assert isinstance(value, MATRIX)


def test_from_type_resolves_classes_made_after_import() -> None:
    name = f"axis_{uuid.uuid4().hex}"  # a dims string no earlier test subscripted
    annotation = subscript(Shared, subscript(Float32, (Tensor, f"{name} 2")))
    anything = FIRST_FOUND
    assert isinstance(find(st.from_type(annotation), lambda _: True, settings=anything), annotation)
    bare: Any = Shared  # static checkers read st.from_type(Shared) as Shared[Unknown]
    assert isinstance(find(st.from_type(bare), lambda _: True, settings=anything), Shared)


# ----------------------------------------------------------------------------------------------
# Bad arguments: the first line says what, why and the fix


def unannotated(x: Any, y: Shared[Float32[Tensor, " n"]]) -> None:
    del x, y


del unannotated.__annotations__["x"]


def positional_only(x: Shared[Float32[Tensor, " n"]], /) -> None:
    del x


def plain(x: Shared[Float32[Tensor, " n"]], scale: float = 1.0) -> None:
    del x, scale


BAD_CALLS: list[tuple[Callable[[], object], str]] = [
    (lambda: from_annotation(int), r"from_annotation\(\) draws array annotations, got int"),
    (
        lambda: from_annotation(Float[Tensor, " n"], dtypes=["int64"]),
        r"cannot draw Float\[Tensor, 'n'\]: no NumPy or torch dtype",
    ),
    (lambda: from_annotation(Float[Tensor, " n"], dtypes=["nope"]), r"got 'nope'"),
    (lambda: from_annotation(Float[Tensor, " n"], memo={"n": -1}), r"binds 'n' to -1"),
    (
        lambda: call_arguments(unannotated),
        r"parameter 'x' of unannotated\(\): it has no annotation",
    ),
    (lambda: call_arguments(positional_only), r"'x' of positional_only\(\) is positional-only"),
    (lambda: call_arguments(plain, overrides={"scael": st.just(2.0)}), r"names 'scael'"),
    (
        lambda: call_arguments(plain, overrides=typing.cast("Any", {"scale": 2.0})),
        r"maps 'scale' to 2.0, which is not a strategy",
    ),
]


@pytest.mark.parametrize(("call", "message"), BAD_CALLS)
def test_bad_arguments_are_explained(call: Callable[[], object], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        call()


@settings(max_examples=30, deadline=None)
@given(call_arguments(plain, overrides={"x": st.just(Shared(torch.zeros(2)))}))
def test_overrides_and_defaults(arguments: dict[str, Any]) -> None:
    assert arguments["x"].value.shape == (2,)
    assert "scale" not in arguments  # a plain parameter with a default keeps it
