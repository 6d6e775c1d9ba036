"""Element values drawn as raw bits: the hard values of every dtype, each component's bits at a time.

Floats draw from pools of their edges (``0.0``, ``-0.0``, NaN, infinities), named values (``±1``,
the extremes, the smallest normal and subnormal) and NaNs with chosen payloads, plus raw bits and,
for NumPy's own floats, Hypothesis's float distribution. Drawing bits, not values, lets a bitwise
comparison catch any change a conversion makes.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, cast

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .._dtypes import DtypeInfo

if TYPE_CHECKING:
    from numpy.typing import NDArray

# Exponent and mantissa widths of the IEEE-like formats, to build NaNs with chosen payloads.
_IEEE_FORMATS: Final = {
    "float16": (5, 10),
    "bfloat16": (8, 7),
    "float32": (8, 23),
    "float64": (11, 52),
}
#: Each float that has a complex dtype, to it: a negative-bit view of the float exists, the
#: imaginary part of that complex dtype's conjugate.
COMPLEX_OF: Final = {"float16": "complex32", "float32": "complex64", "float64": "complex128"}
#: Each complex dtype's real component.
_COMPONENT_OF: Final = {complex_name: real for real, complex_name in COMPLEX_OF.items()}
_BUILTIN_FLOATS: Final = ("float16", "float32", "float64")
#: The signed torch integer of each size: raw bits move through it into any torch dtype.
TORCH_INTEGER_OF_SIZE: Final = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


@dataclass(frozen=True)
class Elements:
    """How to draw one dtype's values: the raw bits of each real component."""

    info: DtypeInfo
    components: int  # 2 for complex dtypes
    component_size: int  # bytes
    bits: st.SearchStrategy[int]  # may contain mapped values: for explicitly drawn elements
    fill: st.SearchStrategy[int]  # reusable values only: for the rest of a large array

    @property
    def component_dtype(self) -> np.dtype[Any]:
        return np.dtype(f"u{self.component_size}")


def _bits_of(values: Iterable[float], dtype: np.dtype[Any]) -> list[int]:
    """The raw bits of ``values`` rounded to ``dtype``; values it cannot hold round as NumPy says."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converted = np.array(list(values), dtype=np.float64).astype(dtype)
    return [int(bits) for bits in converted.view(f"u{dtype.itemsize}").tolist()]


def _nan_bits(name: str) -> list[int]:
    """NaNs with chosen payloads: signalling and quiet, both signs, small and full payloads."""
    if name not in _IEEE_FORMATS:
        return []
    exponent_bits, mantissa_bits = _IEEE_FORMATS[name]
    exponent = ((1 << exponent_bits) - 1) << mantissa_bits
    quiet = 1 << (mantissa_bits - 1)
    everything = (1 << mantissa_bits) - 1
    alternating = int("01" * mantissa_bits, 2) & everything
    sign = 1 << (exponent_bits + mantissa_bits)
    payloads = (1, quiet, quiet | 1, everything, alternating)
    return [s | exponent | payload for s in (0, sign) for payload in payloads]


def _float_pools(
    edge_bits: list[int],
    named_values: list[float],
    bits_of: Callable[[Iterable[float]], list[int]],
    name: str,
) -> tuple[list[int], list[int], list[int]]:
    """Separate pools, so that a dozen NaN payloads do not crowd out the values that matter most."""
    edges = sorted(set(edge_bits))
    named = sorted(set(bits_of(named_values)) - set(edges))
    payloads = sorted(set(_nan_bits(name)) - set(edges) - set(named))
    return edges, named, payloads


_EDGE_VALUES: Final = (0.0, -0.0, float("nan"), float("inf"), float("-inf"))


def _builtin_float_pools(component: np.dtype[Any]) -> tuple[list[int], list[int], list[int]]:
    finfo = np.finfo(component)
    extremes = [
        float(finfo.max),
        float(finfo.min),
        float(finfo.smallest_normal),
        float(finfo.smallest_subnormal),
    ]
    return _float_pools(
        _bits_of(_EDGE_VALUES, component),
        [1.0, -1.0, *extremes, *(-x for x in extremes)],
        functools.partial(_bits_of, dtype=component),
        component.name,
    )


def _torch_float_pools(info: DtypeInfo) -> tuple[list[int], list[int], list[int]]:
    """The pools of a float NumPy has no dtype for (bfloat16, float8), decoded by torch alone.

    These formats are at most 16 bits wide, so every bit pattern is decoded once and the extremes
    are read off the decoded values: nothing here needs ``ml_dtypes``.
    """
    integer = TORCH_INTEGER_OF_SIZE[info.itemsize]
    width = 8 * info.itemsize
    patterns = torch.arange(1 << width, dtype=torch.int64)
    # Wrap to the signed integer of the same width, whose bits torch reinterprets as the float.
    signed = torch.where(patterns >= 1 << (width - 1), patterns - (1 << width), patterns)
    decoded = signed.to(integer).view(info.torch).to(torch.float64)
    finite = decoded[torch.isfinite(decoded)]
    positive = finite[finite > 0]
    extremes = [
        float(finite.max()),
        float(finite.min()),
        float(torch.finfo(info.torch).smallest_normal),
        float(positive.min()),  # the smallest subnormal, or the smallest normal where none
    ]

    def bits_of(values: Iterable[float]) -> list[int]:
        rounded = torch.tensor(list(values), dtype=torch.float64).to(info.torch)
        signed_bits = cast("list[int]", rounded.view(integer).tolist())  # pyright: ignore[reportUnknownMemberType]
        return [bits & ((1 << width) - 1) for bits in signed_bits]

    return _float_pools(
        bits_of(_EDGE_VALUES),
        [1.0, -1.0, *extremes, *(-x for x in extremes)],
        bits_of,
        info.name,
    )


def _hypothesis_float_bits(component: np.dtype[Any]) -> st.SearchStrategy[int]:
    as_bits = np.dtype(f"u{component.itemsize}")

    def to_bits(value: Any) -> int:
        return int(np.array(value, dtype=component).view(as_bits))

    floats = hnp.from_dtype(component, allow_nan=True, allow_infinity=True, allow_subnormal=True)
    return floats.map(to_bits)


def _float_elements(info: DtypeInfo, components: int) -> Elements:
    component_name = _COMPONENT_OF.get(info.name, info.name)
    component = np.dtype(component_name) if component_name in _BUILTIN_FLOATS else None
    if component is not None:
        size = component.itemsize
        edges, named, payloads = _builtin_float_pools(component)
    else:
        size = info.itemsize
        edges, named, payloads = _torch_float_pools(info)
    raw = st.integers(0, (1 << (8 * size)) - 1)
    fill = st.sampled_from(edges) | st.sampled_from(named) | raw
    if payloads:
        fill |= st.sampled_from(payloads)
    bits = fill
    if component is not None:  # Hypothesis's own float distribution as well
        bits = fill | _hypothesis_float_bits(component)
    return Elements(info, components, size, bits, fill)


def elements_for(info: DtypeInfo) -> Elements:
    size = info.itemsize
    if info.kind == "b":
        zero_or_one = st.integers(0, 1)
        return Elements(info, 1, 1, zero_or_one, zero_or_one)
    if info.kind in "ui":
        top = (1 << (8 * size)) - 1
        boundaries = [0, 1, top, top >> 1, (top >> 1) + 1]  # 0, 1, -1 or max, max, min
        fill = st.sampled_from(boundaries) | st.integers(0, top)
        return Elements(info, 1, size, fill, fill)
    return _float_elements(info, 2 if info.kind == "c" else 1)


def draw_bits(draw: st.DrawFn, elements: Elements, count: int) -> NDArray[Any]:
    """``count`` elements' raw bits, as native unsigned integers, components last."""
    return draw(
        hnp.arrays(
            elements.component_dtype,
            (count * elements.components,),
            elements=elements.bits,
            fill=elements.fill,
        )
    )
