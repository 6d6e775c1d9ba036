"""Hypothesis strategies for NumPy arrays and torch tensors in every dtype and layout aliasguard converts.

Like ``hypothesis.extra.numpy``, but aimed at the inputs that break conversions: every dtype in
aliasguard's table (bfloat16 and float8 through ``ml_dtypes``), the hard layouts (negative and
zero strides, unaligned (odd-address) memory, Fortran order, storage offsets, read-only and
memory-mapped memory, non-native byte order, conjugate and negative bits), and the hard values (NaN with payloads, ``-0.0``, subnormals,
infinities, extremes), drawn as raw bits so that a bitwise comparison catches any change.

`from_annotation` draws values of jaxtyping annotations and of ``Shared``/``Owned`` around them,
and `call_arguments` draws keyword arguments for a whole signature, axes consistent across them.
Importing this module registers them with Hypothesis: ``st.from_type(Owned[Float[Tensor, "b c"]])``
and ``st.from_type(Float[Tensor, "b c"])`` work, and so does ``@given(x=...)`` inference.

This module imports Hypothesis; ``import aliasguard`` does not import this module.

Examples:
    >>> from hypothesis import given
    >>> import aliasguard
    >>> from aliasguard.strategies import arrays
    >>> @given(arrays(layouts=("negative-strides",)))
    ... def test_own_copies_anything(a):
    ...     assert aliasguard.own(a).value.shape == a.shape
    >>> test_own_copies_anything()
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeAlias, cast

import numpy as np
import torch

from .._optional import missing_extra

try:
    from hypothesis import strategies as st
    from hypothesis.errors import InvalidArgument
    from hypothesis.extra import numpy as hnp
except ModuleNotFoundError as error:
    if error.name != "hypothesis":
        raise
    why = "it draws and shrinks the values"
    raise missing_extra("hypothesis", "aliasguard.strategies", why) from None

from .._dtypes import DTYPE_NAMES, DtypeInfo, numpy_dtype_of, resolve_dtype
from .._jaxtyping_compat import is_jaxtyping_annotation
from .._temp_folders import make_process_folder
from .._wrappers import Owned, Shared, watch_checkable_classes
from ._annotation_values import from_annotation
from ._signatures import call_arguments

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "ARRAY_DTYPES",
    "ARRAY_LAYOUTS",
    "TENSOR_DTYPES",
    "TENSOR_LAYOUTS",
    "arrays",
    "call_arguments",
    "from_annotation",
    "tensors",
]

#: One value for ``dtypes=``: a name (``"bfloat16"``), a NumPy dtype or scalar type, a torch dtype.
DtypeSpec: TypeAlias = "str | np.dtype[Any] | type[np.generic] | torch.dtype"

# ----------------------------------------------------------------------------------------------
# Tables

#: Every dtype aliasguard converts with the installed torch, by the name both libraries share
#: (``float8_e8m0fnu`` needs torch 2.7 or newer).
TENSOR_DTYPES: Final[tuple[str, ...]] = DTYPE_NAMES


def _has_numpy_dtype(name: str) -> bool:
    info = resolve_dtype(name)
    return info is not None and numpy_dtype_of(info) is not None


#: The dtypes of `TENSOR_DTYPES` that NumPy can hold here: the built-in ones, plus those that the
#: installed ``ml_dtypes`` supplies (bfloat16 and float8; complex32 from ml_dtypes 0.6 on).
ARRAY_DTYPES: Final[tuple[str, ...]] = tuple(
    name for name in TENSOR_DTYPES if _has_numpy_dtype(name)
)

# Layouts come in two sorts. Each drawn value has exactly one *shape* layout (how its elements are
# laid out), plus any subset of the requested *modifiers* (properties of its memory or its flags).
_ARRAY_SHAPE_LAYOUTS: Final = (
    "contiguous",
    "0-d",
    "empty",
    "strided",
    "fortran",
    "negative-strides",
    "zero-strides",
    "unaligned",
)
_ARRAY_MODIFIERS: Final = ("read-only", "byte-swapped", "memmap")
_TENSOR_SHAPE_LAYOUTS: Final = (
    "contiguous",
    "0-d",
    "empty",
    "strided",
    "transposed",
    "zero-strides",
    "storage-offset",
    "sparse",
)
_TENSOR_MODIFIERS: Final = ("requires-grad", "conjugate", "negative")

#: Every layout `arrays` draws. Shape layouts, one per array:
#:
#: - ``contiguous``: C order, owning its memory.
#: - ``0-d``: shape ``()``, a view into a larger buffer.
#: - ``empty``: a drawn shape with one axis set to 0.
#: - ``strided``: a slice with positive steps and offsets, not contiguous where the shape allows.
#: - ``fortran``: Fortran order (C order for fewer than 2 dimensions).
#: - ``negative-strides``: a slice flipped along one or more axes, ``a[::-1]``, ``np.flip``; on a
#:   length-1 axis the negative stride is inert (numpy #23349), a case of its own.
#: - ``zero-strides``: a broadcast view, as ``np.broadcast_to`` makes, one or more axes with
#:   stride 0 (length-1 axes included); writable unless ``read-only`` is drawn too.
#: - ``unaligned``: a contiguous array at an odd address (multi-byte dtypes only).
#:
#: Modifiers, any subset per array:
#:
#: - ``read-only``: ``flags.writeable`` is False (the memory itself stays writable).
#: - ``byte-swapped``: non-native byte order (multi-byte built-in dtypes only).
#: - ``memmap``: the memory is an ``np.memmap`` of a small temporary file (deleted at once; the
#:   mapping lives as long as the array).
ARRAY_LAYOUTS: Final[tuple[str, ...]] = _ARRAY_SHAPE_LAYOUTS + _ARRAY_MODIFIERS

#: Every layout `tensors` draws. Shape layouts, one per tensor:
#:
#: - ``contiguous``, ``0-d``, ``empty``, ``strided``, ``zero-strides`` (``expand``): as for arrays.
#: - ``transposed``: a permutation of a contiguous tensor's dimensions.
#: - ``storage-offset``: contiguous, starting past the beginning of its storage.
#: - ``sparse``: a sparse COO tensor (dtypes with sparse kernels only).
#:
#: Modifiers, any subset per tensor:
#:
#: - ``requires-grad``: part of an autograd graph (floating and complex dtypes only).
#: - ``conjugate``: the lazy conjugate bit, ``z.conj()`` (complex dtypes only).
#: - ``negative``: the lazy negative bit, ``z.conj().imag`` (float16, float32, float64 only).
TENSOR_LAYOUTS: Final[tuple[str, ...]] = _TENSOR_SHAPE_LAYOUTS + _TENSOR_MODIFIERS

# Exponent and mantissa widths of the IEEE-like formats, to build NaNs with chosen payloads.
_IEEE_FORMATS: Final = {
    "float16": (5, 10),
    "bfloat16": (8, 7),
    "float32": (8, 23),
    "float64": (11, 52),
}
# torch has no sparse kernels ("nonzero_count_cpu") for these.
_NO_SPARSE: Final = frozenset(
    {
        "uint16",
        "uint32",
        "uint64",
        "float8_e4m3fn",
        "float8_e4m3fnuz",
        "float8_e5m2",
        "float8_e5m2fnuz",
        "float8_e8m0fnu",
    }
)
# A float whose negative-bit view exists: the imaginary part of this complex dtype's conjugate.
_COMPLEX_OF: Final = {"float16": "complex32", "float32": "complex64", "float64": "complex128"}
#: Each complex dtype's real component.
_COMPONENT_OF: Final = {complex_name: real for real, complex_name in _COMPLEX_OF.items()}
# Creating complex32 tensors warns once per process (torch's EmptyTensor.cpp); the warning says
# nothing about the value drawn, and would fail test suites that turn warnings into errors.
_COMPLEX_HALF_WARNING: Final = "ComplexHalf support is experimental"
_LAZY_BITS: Final = ("conjugate", "negative")
_BUILTIN_FLOATS: Final = ("float16", "float32", "float64")
_TORCH_INTEGER_OF_SIZE: Final = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
_CONSTANT_PREFIX: Final = {"arrays": "ARRAY", "tensors": "TENSOR"}
_DEFAULT_SHAPES: Final = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


# ----------------------------------------------------------------------------------------------
# Values, as raw bits


@dataclass(frozen=True)
class _Elements:
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
    integer = _TORCH_INTEGER_OF_SIZE[info.itemsize]
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


def _float_elements(info: DtypeInfo, components: int) -> _Elements:
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
    return _Elements(info, components, size, bits, fill)


def _elements_for(info: DtypeInfo) -> _Elements:
    size = info.itemsize
    if info.kind == "b":
        zero_or_one = st.integers(0, 1)
        return _Elements(info, 1, 1, zero_or_one, zero_or_one)
    if info.kind in "ui":
        top = (1 << (8 * size)) - 1
        boundaries = [0, 1, top, top >> 1, (top >> 1) + 1]  # 0, 1, -1 or max, max, min
        fill = st.sampled_from(boundaries) | st.integers(0, top)
        return _Elements(info, 1, size, fill, fill)
    return _float_elements(info, 2 if info.kind == "c" else 1)


def _draw_bits(draw: st.DrawFn, elements: _Elements, count: int) -> NDArray[Any]:
    """``count`` elements' raw bits, as native unsigned integers, components last."""
    return draw(
        hnp.arrays(
            elements.component_dtype,
            (count * elements.components,),
            elements=elements.bits,
            fill=elements.fill,
        )
    )


# ----------------------------------------------------------------------------------------------
# Argument validation


def _resolve_dtypes(
    function: str, dtypes: DtypeSpec | Iterable[DtypeSpec] | None, allowed: tuple[str, ...]
) -> tuple[DtypeInfo, ...]:
    if dtypes is None:
        specs: list[object] = list(allowed)
    elif isinstance(dtypes, str | np.dtype | torch.dtype | type):
        specs = [dtypes]
    else:
        specs = list(dtypes)
    if not specs:
        msg = (
            f"{function}(dtypes=[]) got no dtypes: there is nothing to draw. Pass None for every "
            f"dtype, or names from aliasguard.strategies.{_CONSTANT_PREFIX[function]}_DTYPES."
        )
        raise InvalidArgument(msg)
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
            msg = (
                f"{function}(dtypes=...) got {spec!r}: {why}. Pass names from "
                f"aliasguard.strategies.{_CONSTANT_PREFIX[function]}_DTYPES: {', '.join(allowed)}."
            )
            raise InvalidArgument(msg)
        if info not in infos:
            infos.append(info)
    return tuple(infos)


def _resolve_layouts(
    function: str, layouts: Iterable[str] | None, known: tuple[str, ...]
) -> tuple[str, ...]:
    if layouts is None:
        return known
    if isinstance(layouts, str):
        msg = (
            f"{function}(layouts={layouts!r}) got a string where a collection of names belongs: "
            f"it would be read letter by letter. Pass layouts=({layouts!r},)."
        )
        raise InvalidArgument(msg)
    chosen = tuple(dict.fromkeys(layouts))
    unknown = [name for name in chosen if name not in known]
    if unknown or not chosen:
        got = f"unknown layout {unknown[0]!r}" if unknown else "no layouts"
        msg = (
            f"{function}(layouts=...) got {got}: there is no such layout to draw. Pass names from "
            f"aliasguard.strategies.{_CONSTANT_PREFIX[function]}_LAYOUTS: {', '.join(known)}."
        )
        raise InvalidArgument(msg)
    return chosen


def _resolve_shapes(function: str, shapes: object) -> st.SearchStrategy[tuple[int, ...]]:
    if shapes is None:
        return _DEFAULT_SHAPES
    if isinstance(shapes, st.SearchStrategy):
        return cast("st.SearchStrategy[tuple[int, ...]]", shapes)
    if isinstance(shapes, tuple):
        sides = cast("tuple[object, ...]", shapes)
        if all(isinstance(side, int) and side >= 0 for side in sides):
            return st.just(cast("tuple[int, ...]", sides))
    msg = (
        f"{function}(shapes={shapes!r}) is not a shape: it takes a tuple of non-negative ints or a "
        "strategy of them. Pass e.g. shapes=(2, 3) or shapes=hypothesis.extra.numpy.array_shapes()."
    )
    raise InvalidArgument(msg)


@dataclass(frozen=True, repr=False)
class _Plan:
    """What one strategy may draw: per dtype, the shape layouts and modifiers that apply to it."""

    choices: tuple[tuple[DtypeInfo, tuple[str, ...], tuple[str, ...]], ...]
    modifier_required: bool  # only modifiers were requested: each value gets at least one

    def __repr__(self) -> str:  # Hypothesis prints it in every failure report: keep it short
        dtypes = ", ".join(info.name for info, _, _ in self.choices)
        layouts = dict.fromkeys(name for _, shapes, mods in self.choices for name in shapes + mods)
        return f"<dtypes: {dtypes}; layouts: {', '.join(layouts)}>"


def _plan(
    function: str,
    infos: tuple[DtypeInfo, ...],
    layouts: tuple[str, ...],
    *,
    explicit: tuple[bool, bool],
) -> _Plan:
    """Which dtype takes which layout; with ``explicit`` (dtypes, layouts) every one must be drawn."""
    shape_layouts = _ARRAY_SHAPE_LAYOUTS if function == "arrays" else _TENSOR_SHAPE_LAYOUTS
    applies = _array_applies if function == "arrays" else _tensor_applies
    requested_shapes = tuple(name for name in layouts if name in shape_layouts)
    modifiers = tuple(name for name in layouts if name not in shape_layouts)
    modifier_required = not requested_shapes
    shapes_to_use = requested_shapes or ("contiguous",)
    choices: list[tuple[DtypeInfo, tuple[str, ...], tuple[str, ...]]] = []
    used: set[str] = set()
    for info in infos:
        usable_shapes = tuple(name for name in shapes_to_use if applies(name, info))
        usable_modifiers = tuple(name for name in modifiers if applies(name, info))
        if not usable_shapes or (modifier_required and not usable_modifiers):
            continue
        choices.append((info, usable_shapes, usable_modifiers))
        used.update(usable_shapes + usable_modifiers)
    explicit_dtypes, explicit_layouts = explicit
    unused_layouts = [name for name in layouts if name not in used] if explicit_layouts else []
    drawn = {info for info, _, _ in choices}
    unused_dtypes = [info.name for info in infos if info not in drawn] if explicit_dtypes else []
    constants = f"aliasguard.strategies.{_CONSTANT_PREFIX[function]}_LAYOUTS"
    if unused_layouts or not choices:
        names = ", ".join(info.name for info in infos)
        wanted = repr(unused_layouts[0]) if unused_layouts else "these layouts"
        msg = (
            f"{function}(layouts=...) asked for {wanted}, which none of the dtypes ({names}) "
            f"can take: it would never be drawn. Add a dtype it applies to (see {constants}) "
            "or drop it from layouts."
        )
        raise InvalidArgument(msg)
    if unused_dtypes:
        msg = (
            f"{function}(dtypes=...) asked for {unused_dtypes[0]!r}, which takes none of the "
            f"layouts ({', '.join(layouts)}): it would never be drawn. Add a layout it takes "
            f"(see {constants}) or drop it from dtypes."
        )
        raise InvalidArgument(msg)
    return _Plan(tuple(choices), modifier_required)


def _draw_choice(draw: st.DrawFn, plan: _Plan) -> tuple[DtypeInfo, str, tuple[str, ...]]:
    info, shape_layouts, modifiers = draw(st.sampled_from(plan.choices))
    shape_layout = draw(st.sampled_from(shape_layouts))
    if shape_layout == "sparse":
        # torch.Tensor.to_sparse resolves lazy bits: a sparse tensor carries neither.
        modifiers = tuple(name for name in modifiers if name not in _LAZY_BITS)
    chosen: tuple[str, ...] = ()
    if modifiers:
        minimum = 1 if plan.modifier_required else 0
        drawn = draw(st.lists(st.sampled_from(modifiers), min_size=minimum, unique=True))
        chosen = tuple(name for name in modifiers if name in drawn)
    return info, shape_layout, chosen


def _draw_shape(
    draw: st.DrawFn, layout: str, shapes: st.SearchStrategy[tuple[int, ...]]
) -> tuple[int, ...]:
    if layout == "0-d":
        return ()
    shape = draw(shapes)
    if layout == "empty":
        if not shape:
            return (0,)
        axis = draw(st.integers(0, len(shape) - 1))
        return (*shape[:axis], 0, *shape[axis + 1 :])
    return shape


# ----------------------------------------------------------------------------------------------
# Arrays


_memmap_directory: str | None = None


def _memmap_bytes(size: int) -> NDArray[np.uint8]:
    """``size`` writable bytes (at least one) mapped from a fresh file in a per-process temp folder.

    The file is deleted as soon as it is mapped (on POSIX the mapping outlives it); the folder goes
    when the process exits, or, if the process is killed, when the next one makes its folder.
    """
    global _memmap_directory  # noqa: PLW0603 - one folder per process, made on first use
    if _memmap_directory is None or not os.path.isdir(_memmap_directory):
        # Remade if gone: a cleaner that took this process for a dead one must not break it.
        _memmap_directory = str(make_process_folder("strategies"))
    descriptor, name = tempfile.mkstemp(dir=_memmap_directory, suffix=".bin")
    os.close(descriptor)
    mapped = np.memmap(name, dtype=np.uint8, mode="w+", shape=(max(size, 1),))
    with contextlib.suppress(OSError):  # Windows cannot delete a mapped file: the folder goes later
        Path(name).unlink()
    return mapped


def _array_applies(name: str, info: DtypeInfo) -> bool:
    if name == "unaligned":
        return info.itemsize > 1
    if name == "byte-swapped":
        # ml_dtypes' dtypes lose their type under newbyteorder (they become raw "V" dtypes).
        return info.itemsize > 1 and info.numpy is not None
    return True


def _array_storage(
    draw: st.DrawFn,
    elements: _Elements,
    dtype: np.dtype[Any],
    shape: tuple[int, ...],
    *,
    memmap: bool,
    offset: int,
) -> NDArray[Any]:
    """A C-contiguous array of ``shape`` filled with drawn bits, in fresh or mapped memory."""
    count = int(np.prod(shape, dtype=np.int64))
    bits = _draw_bits(draw, elements, count)
    component = elements.component_dtype.newbyteorder(
        dtype.byteorder if dtype.byteorder in "<>" else "="
    )
    if not memmap and offset == 0:
        array = np.empty(shape, dtype)
        array.reshape(-1).view(component)[...] = bits
        return array
    size = count * dtype.itemsize
    raw = _memmap_bytes(offset + size) if memmap else np.empty(offset + size, np.uint8)
    region = raw[offset : offset + size]
    region.view(component)[...] = bits
    return region.view(dtype).reshape(shape)


def _slices(
    draw: st.DrawFn, shape: tuple[int, ...], *, gap: bool = False
) -> tuple[tuple[int, ...], tuple[slice, ...]]:
    """A larger shape and the positive-step slices that cut ``shape`` out of it.

    With ``gap``, one axis longer than 1 (where there is one) steps by 2 or more, so the result is
    not contiguous.
    """
    long_axes = [axis for axis, size in enumerate(shape) if size > 1]
    gapped = draw(st.sampled_from(long_axes)) if gap and long_axes else None
    base_shape: list[int] = []
    slices: list[slice] = []
    for axis, size in enumerate(shape):
        step = draw(st.integers(2 if axis == gapped else 1, 3))
        start = draw(st.integers(0, 2))
        stop = start + (size - 1) * step + 1 if size else start
        base_shape.append(stop + draw(st.integers(0, 1)))
        slices.append(slice(start, stop, step))
    return tuple(base_shape), tuple(slices)


def _axes(draw: st.DrawFn, ndim: int) -> tuple[int, ...]:
    """A non-empty set of axes (empty only when there are none)."""
    if ndim == 0:
        return ()
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, unique=True))
    return tuple(sorted(axes))


def _permutation(draw: st.DrawFn, ndim: int) -> tuple[int, ...]:
    """A permutation of ``range(ndim)``, never the identity when there are two axes or more."""
    identity = tuple(range(ndim))
    if ndim < 2:
        return identity
    order = tuple(draw(st.permutations(identity)))
    return order if order != identity else identity[::-1]


@st.composite
def _array_from_plan(
    draw: st.DrawFn, plan: _Plan, shapes: st.SearchStrategy[tuple[int, ...]]
) -> NDArray[Any]:
    info, layout, modifiers = _draw_choice(draw, plan)
    elements = _elements_for(info)
    dtype = numpy_dtype_of(info)
    assert dtype is not None, f"{info.name} was checked to have a NumPy dtype"
    if "byte-swapped" in modifiers:
        dtype = dtype.newbyteorder()
    memmap = "memmap" in modifiers
    shape = _draw_shape(draw, layout, shapes)

    def storage(base_shape: tuple[int, ...], offset: int = 0) -> NDArray[Any]:
        return _array_storage(draw, elements, dtype, base_shape, memmap=memmap, offset=offset)

    array: NDArray[Any]
    if layout in ("contiguous", "empty"):
        array = storage(shape)
    elif layout == "unaligned":
        array = storage(shape, offset=1)
    elif layout == "0-d":
        index = draw(st.integers(0, 2))
        array = storage((index + 1,))[index, ...]
    elif layout == "fortran":
        array = storage(shape[::-1]).T
    elif layout == "strided":
        base_shape, slices = _slices(draw, shape, gap=True)
        # [..., ()] keeps a 0-d result an array: plain indexing would give a NumPy scalar.
        array = storage(base_shape)[slices][...]
    elif layout == "negative-strides":
        base_shape, slices = _slices(draw, shape)
        flipped = _axes(draw, len(shape))
        array = np.flip(storage(base_shape)[slices], axis=flipped) if flipped else storage(shape)
    else:  # zero-strides
        broadcast = _axes(draw, len(shape))
        base_shape = tuple(1 if axis in broadcast else size for axis, size in enumerate(shape))
        base = storage(base_shape)
        strides = tuple(
            0 if axis in broadcast else stride for axis, stride in enumerate(base.strides)
        )
        # What np.broadcast_to makes, but with stride 0 on length-1 axes too, and writable unless
        # "read-only" is drawn as well. as_strided goes through __array_interface__ typestrs, which
        # cannot name some ml_dtypes dtypes ("<f1" for float8_e5m2): move raw bytes instead.
        raw = np.dtype((np.void, dtype.itemsize))
        array = np.lib.stride_tricks.as_strided(base.view(raw), shape=shape, strides=strides)
        array = array.view(dtype)
    if "read-only" in modifiers:
        array.flags.writeable = False
    return array


def arrays(
    *,
    dtypes: DtypeSpec | Iterable[DtypeSpec] | None = None,
    shapes: st.SearchStrategy[tuple[int, ...]] | tuple[int, ...] | None = None,
    layouts: Iterable[str] | None = None,
) -> st.SearchStrategy[NDArray[Any]]:
    """NumPy arrays of every dtype and layout aliasguard converts, with hard values.

    Each array has one shape layout and any subset of the requested modifiers (see `ARRAY_LAYOUTS`).
    Values are drawn as raw bits: NaNs with payloads (signalling and quiet, both signs), ``-0.0``,
    subnormals, infinities, the extremes, and Hypothesis's own floats and integers.

    Args:
        dtypes: one dtype or several (names such as ``"bfloat16"``, NumPy dtypes, torch dtypes);
            ``None`` draws from all of `ARRAY_DTYPES`.
        shapes: a shape or a strategy of shapes; ``None`` draws 1 to 3 dimensions of 1 to 4. The
            ``0-d`` layout ignores it, and ``empty`` sets one axis of the drawn shape to 0.
        layouts: names from `ARRAY_LAYOUTS`; ``None`` draws all of them. When only modifiers are
            named, arrays are C-contiguous and carry at least one of them.

    Returns:
        A strategy of ``np.ndarray`` (``np.memmap`` for some memory-mapped ones).

    Raises:
        hypothesis.errors.InvalidArgument: an unknown dtype or layout, or a layout that none of
            the dtypes can take.

    Examples:
        >>> from hypothesis import given
        >>> from aliasguard.strategies import arrays
        >>> @given(arrays(dtypes=["float32"], layouts=("negative-strides",)))
        ... def test_flipped(a):
        ...     assert a.dtype.name == "float32" and min(a.strides) < 0
        >>> test_flipped()
    """
    infos = _resolve_dtypes("arrays", dtypes, ARRAY_DTYPES)
    chosen = _resolve_layouts("arrays", layouts, ARRAY_LAYOUTS)
    plan = _plan("arrays", infos, chosen, explicit=(dtypes is not None, layouts is not None))
    return _array_from_plan(plan, _resolve_shapes("arrays", shapes))


# ----------------------------------------------------------------------------------------------
# Tensors


def _tensor_applies(name: str, info: DtypeInfo) -> bool:
    if name == "sparse":
        return info.name not in _NO_SPARSE
    if name == "requires-grad":
        return info.kind in "fc"
    if name == "conjugate":
        return info.kind == "c"
    if name == "negative":
        return info.name in _COMPLEX_OF
    return True


def _tensor_storage(
    draw: st.DrawFn, elements: _Elements, shape: tuple[int, ...], offset: int = 0
) -> torch.Tensor:
    """A contiguous tensor of ``shape`` filled with drawn bits, ``offset`` elements into its storage."""
    info = elements.info
    count = int(np.prod(shape, dtype=np.int64))
    bits = _draw_bits(draw, elements, offset + count)
    flat = torch.empty(offset + count, dtype=info.torch)
    integer = torch.uint8 if info.kind == "b" else _TORCH_INTEGER_OF_SIZE[elements.component_size]
    signed_bits = bits.view(np.uint8 if info.kind == "b" else f"i{elements.component_size}")
    flat.view(integer).copy_(torch.from_numpy(signed_bits))  # pyright: ignore[reportUnknownMemberType]
    if offset == 0:
        return flat.view(shape)
    return flat[offset:].view(shape)


@st.composite
def _tensor_from_plan(
    draw: st.DrawFn, plan: _Plan, shapes: st.SearchStrategy[tuple[int, ...]]
) -> torch.Tensor:
    info, layout, modifiers = _draw_choice(draw, plan)
    # A negative-bit float is the imaginary part of a conjugated complex: draw that complex.
    negative = "negative" in modifiers
    build = resolve_dtype(_COMPLEX_OF[info.name]) if negative else info
    assert build is not None
    elements = _elements_for(build)
    shape = _draw_shape(draw, layout, shapes)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_COMPLEX_HALF_WARNING, category=UserWarning)
        tensor = _tensor_layout(draw, elements, layout, shape)
        if layout == "sparse":
            # Made from a tensor that needs no grad: to_sparse has no complex derivative.
            tensor = tensor.to_sparse()
        if "requires-grad" in modifiers:
            tensor = tensor.detach().requires_grad_()
        if "conjugate" in modifiers:
            tensor = tensor.conj()
        if negative:
            tensor = tensor.conj().imag
    return tensor


def _tensor_layout(
    draw: st.DrawFn, elements: _Elements, layout: str, shape: tuple[int, ...]
) -> torch.Tensor:
    if layout in ("contiguous", "empty", "sparse"):
        return _tensor_storage(draw, elements, shape)
    if layout == "storage-offset":
        return _tensor_storage(draw, elements, shape, offset=draw(st.integers(1, 3)))
    if layout == "0-d":
        index = draw(st.integers(0, 2))
        return _tensor_storage(draw, elements, (index + 1,))[index]
    if layout == "transposed":
        order = _permutation(draw, len(shape))
        base = _tensor_storage(draw, elements, tuple(shape[axis] for axis in order))
        return base.permute(tuple(order.index(axis) for axis in range(len(shape))))
    if layout == "strided":
        base_shape, slices = _slices(draw, shape, gap=True)
        return _tensor_storage(draw, elements, base_shape)[slices]
    # zero-strides
    broadcast = _axes(draw, len(shape))
    base_shape = tuple(1 if axis in broadcast else size for axis, size in enumerate(shape))
    base = _tensor_storage(draw, elements, base_shape)
    strides = tuple(0 if axis in broadcast else stride for axis, stride in enumerate(base.stride()))
    return base.as_strided(shape, strides)


def tensors(
    *,
    dtypes: DtypeSpec | Iterable[DtypeSpec] | None = None,
    shapes: st.SearchStrategy[tuple[int, ...]] | tuple[int, ...] | None = None,
    layouts: Iterable[str] | None = None,
) -> st.SearchStrategy[torch.Tensor]:
    """CPU torch tensors of every dtype and layout aliasguard converts, with hard values.

    Each tensor has one shape layout and any subset of the requested modifiers that its dtype can
    take (see `TENSOR_LAYOUTS`). Values are drawn as raw bits, as in `arrays`. A ``negative``
    tensor's stored bits are the drawn ones; the values it reads are their negations.

    Args:
        dtypes: one dtype or several (names, torch dtypes, NumPy dtypes); ``None`` draws from all
            of `TENSOR_DTYPES`, complex32 and the unsigned and float8 types included.
        shapes: a shape or a strategy of shapes; ``None`` draws 1 to 3 dimensions of 1 to 4. The
            ``0-d`` layout ignores it, and ``empty`` sets one axis of the drawn shape to 0.
        layouts: names from `TENSOR_LAYOUTS`; ``None`` draws all of them. When only modifiers are
            named, tensors are contiguous and carry at least one of them.

    Returns:
        A strategy of ``torch.Tensor``.

    Raises:
        hypothesis.errors.InvalidArgument: an unknown dtype or layout, or a layout that none of
            the dtypes can take (``conjugate`` with only real dtypes, say).

    Examples:
        >>> import torch
        >>> from hypothesis import given
        >>> from aliasguard.strategies import tensors
        >>> @given(tensors(dtypes=[torch.complex64], layouts=("conjugate",)))
        ... def test_lazy_conjugate(t):
        ...     assert t.dtype == torch.complex64 and t.is_conj()
        >>> test_lazy_conjugate()
    """
    infos = _resolve_dtypes("tensors", dtypes, TENSOR_DTYPES)
    chosen = _resolve_layouts("tensors", layouts, TENSOR_LAYOUTS)
    plan = _plan("tensors", infos, chosen, explicit=(dtypes is not None, layouts is not None))
    return _tensor_from_plan(plan, _resolve_shapes("tensors", shapes))


# ----------------------------------------------------------------------------------------------
# Hypothesis's type lookup


def _strategy_for_type(annotation: type) -> st.SearchStrategy[Any]:
    return from_annotation(annotation)


def _register_checkable_class(checkable: type) -> None:
    st.register_type_strategy(checkable, _strategy_for_type)


def _register_jaxtyping_resolver() -> None:
    """Let ``st.from_type`` resolve bare jaxtyping annotations (``Float[Tensor, "b c"]``).

    jaxtyping makes a new class for each subscript, and Hypothesis has no public hook for classes
    made on the fly, so this joins the resolvers Hypothesis consults for "extra" modules, the one
    ``hypothesis.extra.numpy`` uses (``_global_extra_lookup`` in
    ``hypothesis/strategies/_internal/types.py``). Where a Hypothesis release lacks it, bare
    jaxtyping annotations fall back to Hypothesis's own error; everything else is unaffected.
    """
    import importlib

    try:
        hypothesis_types = importlib.import_module("hypothesis.strategies._internal.types")
    except ImportError:
        return
    lookup: object = getattr(hypothesis_types, "_global_extra_lookup", None)
    if not isinstance(lookup, dict):
        return
    resolvers = cast("dict[str, Any]", lookup)
    previous = resolvers.get("jaxtyping")

    def resolve(annotation: object) -> st.SearchStrategy[Any] | None:
        if is_jaxtyping_annotation(annotation):
            return from_annotation(annotation)
        return (
            None
            if previous is None
            else cast("st.SearchStrategy[Any] | None", previous(annotation))
        )

    resolvers["jaxtyping"] = resolve


# Shared[...] and Owned[...] are classes made on first use; each is registered as it is made.
st.register_type_strategy(Shared, _strategy_for_type)
st.register_type_strategy(Owned, _strategy_for_type)
watch_checkable_classes(_register_checkable_class)
_register_jaxtyping_resolver()


def _report_public_module() -> None:
    # The public functions name this module, so docs, reprs and the docstring examples (found by
    # module) say aliasguard.strategies.X wherever in the package they are defined.
    for public in (arrays, tensors, from_annotation, call_arguments):
        public.__module__ = __name__


_report_public_module()
