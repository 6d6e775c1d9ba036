"""The arguments of `arrays` and `tensors` (``dtypes=``, ``layouts=``, ``shapes=``), checked and resolved.

Each mistake is refused when the strategy is made, with an `InvalidArgument` that names the
constants to choose from, not when Hypothesis first draws.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, cast

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

from .._dtypes import DtypeInfo, DtypeSpec, resolve_dtype
from ._layouts import CONSTANT_PREFIX

_DEFAULT_SHAPES: Final = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def resolve_dtypes(
    function: str, dtypes: DtypeSpec | Iterable[DtypeSpec] | None, allowed: tuple[str, ...]
) -> tuple[DtypeInfo, ...]:
    if dtypes is None:
        specs: list[object] = list(allowed)
    elif isinstance(dtypes, str | np.dtype | torch.dtype | type):
        specs = [dtypes]
    else:
        specs = list(dtypes)
    if not specs:
        raise InvalidArgument(
            f"{function}(dtypes=[]) got no dtypes: there is nothing to draw. Pass None for every "
            f"dtype, or names from aliasguard.strategies.{CONSTANT_PREFIX[function]}_DTYPES."
        )
    infos: list[DtypeInfo] = []
    for spec in specs:
        try:
            info = resolve_dtype(spec)
        except TypeError:
            info = None
        if info is None or info.name not in allowed:
            why = (
                "NumPy has no such dtype here (bfloat16, float8 and complex32 come from "
                "ml_dtypes, complex32 only from ml_dtypes 0.6 on)"
                if info is not None
                else "aliasguard converts no such dtype"
            )
            raise InvalidArgument(
                f"{function}(dtypes=...) got {spec!r}: {why}. Pass names from "
                f"aliasguard.strategies.{CONSTANT_PREFIX[function]}_DTYPES: {', '.join(allowed)}."
            )
        if info not in infos:
            infos.append(info)
    return tuple(infos)


def resolve_layouts(
    function: str, layouts: Iterable[str] | None, known: tuple[str, ...]
) -> tuple[str, ...]:
    if layouts is None:
        return known
    if isinstance(layouts, str):
        raise InvalidArgument(
            f"{function}(layouts={layouts!r}) got a string where a collection of names belongs: "
            f"it would be read letter by letter. Pass layouts=({layouts!r},)."
        )
    chosen = tuple(dict.fromkeys(layouts))
    unknown = [name for name in chosen if name not in known]
    if unknown or not chosen:
        got = f"unknown layout {unknown[0]!r}" if unknown else "no layouts"
        raise InvalidArgument(
            f"{function}(layouts=...) got {got}: there is no such layout to draw. Pass names from "
            f"aliasguard.strategies.{CONSTANT_PREFIX[function]}_LAYOUTS: {', '.join(known)}."
        )
    return chosen


def resolve_shapes(function: str, shapes: object) -> st.SearchStrategy[tuple[int, ...]]:
    if shapes is None:
        return _DEFAULT_SHAPES
    if isinstance(shapes, st.SearchStrategy):
        return cast("st.SearchStrategy[tuple[int, ...]]", shapes)
    if isinstance(shapes, tuple):
        sides = cast("tuple[object, ...]", shapes)
        if all(isinstance(side, int) and side >= 0 for side in sides):
            return st.just(cast("tuple[int, ...]", sides))
    raise InvalidArgument(
        f"{function}(shapes={shapes!r}) is not a shape: it takes a tuple of non-negative ints or a "
        "strategy of them. Pass e.g. shapes=(2, 3) or shapes=hypothesis.extra.numpy.array_shapes()."
    )
