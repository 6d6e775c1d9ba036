"""Layout plans: which layouts `arrays` and `tensors` draw, which dtype takes which, and their geometry.

A plan is made once per strategy from its arguments; each draw then picks a dtype, one shape layout
and a subset of modifiers from it, and the shape and slices that lay the value out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from .._dtypes import DtypeInfo
from ._elements import COMPLEX_OF

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
_LAZY_BITS: Final = ("conjugate", "negative")
#: The prefix of each strategy's constants (``ARRAY_LAYOUTS``), for messages that name them.
CONSTANT_PREFIX: Final = {"arrays": "ARRAY", "tensors": "TENSOR"}


def _array_applies(name: str, info: DtypeInfo) -> bool:
    if name == "unaligned":
        return info.itemsize > 1
    if name == "byte-swapped":
        # ml_dtypes' dtypes lose their type under newbyteorder (they become raw "V" dtypes).
        return info.itemsize > 1 and info.numpy is not None
    return True


def _tensor_applies(name: str, info: DtypeInfo) -> bool:
    if name == "sparse":
        return info.name not in _NO_SPARSE
    if name == "requires-grad":
        return info.kind in "fc"
    if name == "conjugate":
        return info.kind == "c"
    if name == "negative":
        return info.name in COMPLEX_OF
    return True


@dataclass(frozen=True, repr=False)
class Plan:
    """What one strategy may draw: per dtype, the shape layouts and modifiers that apply to it."""

    choices: tuple[tuple[DtypeInfo, tuple[str, ...], tuple[str, ...]], ...]
    modifier_required: bool  # only modifiers were requested: each value gets at least one

    def __repr__(self) -> str:  # Hypothesis prints it in every failure report: keep it short
        dtypes = ", ".join(info.name for info, _, _ in self.choices)
        layouts = dict.fromkeys(name for _, shapes, mods in self.choices for name in shapes + mods)
        return f"<dtypes: {dtypes}; layouts: {', '.join(layouts)}>"


def plan_layouts(
    function: str,
    infos: tuple[DtypeInfo, ...],
    layouts: tuple[str, ...],
    *,
    explicit: tuple[bool, bool],
) -> Plan:
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
    constants = f"aliasguard.strategies.{CONSTANT_PREFIX[function]}_LAYOUTS"
    if unused_layouts or not choices:
        names = ", ".join(info.name for info in infos)
        wanted = repr(unused_layouts[0]) if unused_layouts else "these layouts"
        raise InvalidArgument(
            f"{function}(layouts=...) asked for {wanted}, which none of the dtypes ({names}) "
            f"can take: it would never be drawn. Add a dtype it applies to (see {constants}) "
            "or drop it from layouts."
        )
    if unused_dtypes:
        raise InvalidArgument(
            f"{function}(dtypes=...) asked for {unused_dtypes[0]!r}, which takes none of the "
            f"layouts ({', '.join(layouts)}): it would never be drawn. Add a layout it takes "
            f"(see {constants}) or drop it from dtypes."
        )
    return Plan(tuple(choices), modifier_required)


def draw_choice(draw: st.DrawFn, plan: Plan) -> tuple[DtypeInfo, str, tuple[str, ...]]:
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


def draw_shape(
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


def draw_slices(
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


def draw_axes(draw: st.DrawFn, ndim: int) -> tuple[int, ...]:
    """A non-empty set of axes (empty only when there are none)."""
    if ndim == 0:
        return ()
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, unique=True))
    return tuple(sorted(axes))


def draw_permutation(draw: st.DrawFn, ndim: int) -> tuple[int, ...]:
    """A permutation of ``range(ndim)``, never the identity when there are two axes or more."""
    identity = tuple(range(ndim))
    if ndim < 2:
        return identity
    order = tuple(draw(st.permutations(identity)))
    return order if order != identity else identity[::-1]
