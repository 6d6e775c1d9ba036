"""`@checked`'s generated call path agrees with the general checker in every verdict, error
message and side effect.

The properties decorate the same functions twice, with the generated path switched off
(``_fast_path.enabled``) and on, and feed both the same random calls: tensors and arrays of
drawn dtypes and shapes, wrapped in ``Shared``, ``Owned`` or bare, plain values and ``None``, with a
body that may write into its borrow or return a value of a drawn shape.
"""

# pyright: reportPrivateUsage=false
# jaxtyping's shape strings read as names to ruff.
# ruff: noqa: F821

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
from jaxtyping import Float, Int, Shaped
from torch import Tensor

from aliasguard import Owned, Shared
from fast_path import decorated_both_ways

# The generated path is the one taken outside a sanitizer (inside one, every call is general).
pytestmark = pytest.mark.aliasguard_unsanitized

AGREEMENT = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------------------------
# Agreement with the general path


DTYPES = ("float32", "float64", "int32", "bool")
# Each recipe: (library, dtype, shape, wrapper); libraries "torch"/"numpy", wrappers
# "shared"/"owned"/"bare"; or ("plain", value) for a non-array value.
Recipe = tuple[Any, ...]

array_recipes = st.tuples(
    st.sampled_from(("torch", "numpy")),
    st.sampled_from(DTYPES),
    st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple),
    st.sampled_from(("shared", "shared", "bare", "owned")),
)
plain_recipes = st.tuples(
    st.just("plain"), st.sampled_from((None, 0, True, 1.5, "s", b"b", 2**70, np.float64(0.5)))
)
recipes = st.one_of(array_recipes, array_recipes, plain_recipes)


def _make(recipe: Recipe) -> object:
    if recipe[0] == "plain":
        return recipe[1]
    library, dtype, shape, wrapper = recipe
    value: Any = (
        torch.zeros(shape, dtype=getattr(torch, dtype))
        if library == "torch"
        else np.zeros(shape, dtype=dtype)
    )
    if wrapper == "shared":
        return Shared(value)
    if wrapper == "owned":
        return Owned(value)
    return value


class Plan:
    """What the bodies below do in this example (shared by both decorations)."""

    write = False
    returned: Recipe = ("plain", None)


def _body_result(first: object) -> Any:
    if Plan.write and isinstance(first, Shared):
        inner: Any = first.value
        if isinstance(inner, torch.Tensor):
            inner.add_(1)
        else:
            inner[...] = 1
    return typing.cast("Any", first if Plan.returned == ("first",) else _make(Plan.returned))


def two_borrows(
    x: Shared[Float[Tensor, "b c"]], y: Shared[Float[Tensor, "b c"]]
) -> Shared[Float[Tensor, "b c"]]:
    return typing.cast("Shared[Tensor]", _body_result(x))


def numpy_borrow(x: Shared[Float[np.ndarray, "n"]]) -> Float[np.ndarray, "n"]:
    return typing.cast("np.ndarray", _body_result(x))


def mixed(x: Float[Tensor, "b c"], z: Float[Tensor, "c"], k: int, f: float) -> Float[Tensor, "b c"]:
    return typing.cast("Tensor", _body_result(x))


def optional_and_defaults(
    x: Shared[Shaped[np.ndarray | Tensor, "... n"]] | None = None,
    /,
    m: Int[Tensor, "n 2"] | None = None,
    *,
    s: str = "a",
    b: bool | None = None,
) -> Float[Tensor, "n _"] | None:
    return typing.cast("Tensor | None", _body_result(x))


def fixed_and_broadcast(x: Float[np.ndarray, "2 #3 _"], y: Shared[Float[Tensor, "#2"]]) -> bytes:
    return typing.cast("bytes", _body_result(x))


def owned_return(
    x: Float[Tensor, "n"], y: Shared[Float[np.ndarray, "n"]] | None = None
) -> Owned[Float[Tensor, "n"]]:
    return typing.cast("Owned[Tensor]", _body_result(x))


SIGNATURES = {
    function.__name__: (function, count, decorated_both_ways(function))
    for function, count in (
        (two_borrows, 2),
        (numpy_borrow, 1),
        (mixed, 4),
        (optional_and_defaults, 2),
        (fixed_and_broadcast, 2),
        (owned_return, 2),
    )
}


def _outcome(decorated: Callable[..., Any], args: list[object], kwargs: dict[str, object]) -> str:
    result: Any
    try:
        result = decorated(*args, **kwargs)
    except Exception as error:  # the verdict itself is compared
        return f"{type(error).__name__}: {error} (cause: {type(error.__cause__).__name__})"
    kind = type(typing.cast("object", result)).__name__
    inner = typing.cast("object", result.value if kind in {"Shared", "Owned"} else result)
    writeable = getattr(getattr(inner, "flags", None), "writeable", None)  # NumPy's only
    described = f"{getattr(inner, 'shape', None)} {getattr(inner, 'dtype', '')} {writeable}"
    return f"returned {kind} {described}"


@AGREEMENT
@given(
    name=st.sampled_from(sorted(SIGNATURES)),
    arguments=st.lists(recipes, min_size=0, max_size=5),
    keywords=st.dictionaries(st.sampled_from(("x", "y", "m", "s", "b", "k")), recipes, max_size=2),
    write=st.booleans(),
    returned=st.one_of(st.just(("first",)), recipes),
)
def test_the_generated_path_agrees_with_the_general_one(
    name: str,
    arguments: list[Recipe],
    keywords: dict[str, Recipe],
    write: bool,
    returned: Recipe,
) -> None:
    _, count, (general, fast) = SIGNATURES[name]
    Plan.write, Plan.returned = write, returned
    arguments = arguments[: count + 1]  # one too many now and then: the function's own error
    outcomes: list[str] = []
    for decorated in (general, fast):
        # Fresh values for each route: a move or a write must not leak into the other's call.
        args = [_make(recipe) for recipe in arguments]
        kwargs = {key: _make(recipe) for key, recipe in keywords.items()}
        outcomes.append(_outcome(decorated, args, kwargs))
    assert outcomes[0] == outcomes[1]


@AGREEMENT
@given(
    dims=st.lists(st.integers(1, 2), min_size=2, max_size=2),
    other=st.lists(st.integers(1, 2), min_size=2, max_size=2),
    dtype=st.sampled_from(("float32", "float64", "int32")),
    write=st.booleans(),
    returned=st.lists(st.integers(1, 2), min_size=0, max_size=3),
)
def test_the_generated_path_agrees_on_borrowed_tensors(
    dims: list[int], other: list[int], dtype: str, write: bool, returned: list[int]
) -> None:
    """Calls that mostly pass the argument checks: the borrow and return rules decide."""
    _, _, (general, fast) = SIGNATURES["two_borrows"]
    Plan.write, Plan.returned = write, ("torch", "float32", tuple(returned), "shared")
    outcomes = [
        _outcome(
            decorated,
            [
                Shared(torch.zeros(*dims, dtype=getattr(torch, dtype))),
                Shared(torch.zeros(*other)),
            ],
            {},
        )
        for decorated in (general, fast)
    ]
    assert outcomes[0] == outcomes[1]


@AGREEMENT
@given(
    size=st.integers(0, 3),
    dtype=st.sampled_from(("float32", "float64", "int32")),
    write=st.booleans(),
    returned=st.one_of(st.just(("first",)), array_recipes),
    by_keyword=st.booleans(),
)
def test_the_generated_path_agrees_on_borrowed_arrays(
    size: int, dtype: str, write: bool, returned: Recipe, by_keyword: bool
) -> None:
    _, _, (general, fast) = SIGNATURES["numpy_borrow"]
    Plan.write, Plan.returned = write, returned
    array = np.zeros(size, dtype=dtype)
    wrapper = Shared(array)
    outcomes: list[str] = []
    for decorated in (general, fast, fast):  # the fast path twice: the view kept for the wrapper
        args: list[object] = [] if by_keyword else [wrapper]
        kwargs: dict[str, object] = {"x": wrapper} if by_keyword else {}
        outcomes.append(_outcome(decorated, args, kwargs))
        assert array.flags.writeable
        assert not array.any()
    assert outcomes[0] == outcomes[1] == outcomes[2]
