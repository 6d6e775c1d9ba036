"""own() round trips are bitwise exact, for every dtype and layout the strategies draw.

NumPy -> Owned[Tensor] -> Owned[ndarray] and torch -> Owned[ndarray] -> Owned[Tensor] must give back
the same bits: NaN payloads, -0.0 and subnormals included, compared as raw bytes, never as floats.
Lazy conjugate and negative bits come back resolved. The last section checks that the strategies
reach every dtype and layout they promise, since the properties are only as strong as their inputs.
"""

from __future__ import annotations

import importlib
import itertools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
import pytest
import torch
from hypothesis import HealthCheck, Phase, find, given, settings, strategies as st
from hypothesis.errors import InvalidArgument

import aliasguard
from aliasguard import ConversionError, own
from aliasguard.strategies import (
    ARRAY_DTYPES,
    ARRAY_LAYOUTS,
    TENSOR_DTYPES,
    TENSOR_LAYOUTS,
    arrays,
    tensors,
)
from dtype_names import numpy_dtype_named
from helpers import run_python

ROUND_TRIP = settings(max_examples=200, deadline=None)


def value_bytes_of_array(array: npt.NDArray[Any]) -> bytes:
    """The bits of ``array``'s values, C order, native byte order: what an exact copy must hold."""
    contiguous = np.ascontiguousarray(array).reshape(-1)
    if contiguous.dtype.isnative:
        return contiguous.tobytes()
    # Swap each real component (a complex number is two floats), as integers: exact for NaNs.
    size = contiguous.itemsize // 2 if contiguous.dtype.kind == "c" else contiguous.itemsize
    stored = np.dtype(f"u{size}").newbyteorder(contiguous.dtype.byteorder)
    return contiguous.view(stored).astype(f"=u{size}").tobytes()


def value_bytes_of_tensor(tensor: torch.Tensor) -> bytes:
    """The bits of ``tensor``'s values (lazy bits resolved, sparse made dense), C order."""
    dense = tensor.detach()
    if dense.layout != torch.strided:
        dense = dense.to_dense()
    if dense.numel() == 0:
        return b""
    dense = dense.resolve_conj().resolve_neg().clone(memory_format=torch.contiguous_format)
    dense = dense.reshape(-1)
    return dense.view(torch.uint8).numpy().tobytes()


def float_components(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``array``'s real components as a flat array of its float type (complex: real, imag, ...)."""
    flat = np.ascontiguousarray(array).reshape(-1)
    if "complex" in array.dtype.name:
        component = {8: np.float32, 16: np.float64}.get(flat.itemsize, np.float16)
        return flat.view(component)
    return flat


class _Interface:
    def __init__(self, interface: dict[str, object]) -> None:
        self.__array_interface__ = interface


def stored_array(tensor: torch.Tensor) -> npt.NDArray[Any]:
    """The values ``tensor`` stores in memory, lazy bits not applied, read without torch."""
    dtype = numpy_dtype_named(str(tensor.dtype).removeprefix("torch."))
    if tensor.numel() == 0:
        return np.empty(tuple(tensor.shape), dtype)
    itemsize = tensor.element_size()
    interface: dict[str, object] = {
        "version": 3,
        "shape": (*tensor.shape, itemsize),
        "strides": (*(stride * itemsize for stride in tensor.stride()), 1),
        "typestr": "|u1",
        "data": (tensor.data_ptr(), True),
    }
    raw: npt.NDArray[np.uint8] = np.asarray(_Interface(interface))
    return np.ascontiguousarray(raw).view(dtype).reshape(tuple(tensor.shape))


def assert_fresh_array(array: object, dtype_name: str, shape: tuple[int, ...]) -> None:
    assert type(array) is np.ndarray, type(array)
    assert array.dtype == numpy_dtype_named(dtype_name)
    assert array.dtype.isnative
    assert array.shape == shape
    assert array.flags.c_contiguous
    assert array.flags.writeable
    assert array.flags.aligned


def assert_fresh_tensor(tensor: object, dtype: torch.dtype, shape: tuple[int, ...]) -> None:
    assert isinstance(tensor, torch.Tensor), type(tensor)
    assert tensor.dtype == dtype
    assert tuple(tensor.shape) == shape
    assert tensor.layout == torch.strided
    assert tensor.is_contiguous()
    assert tensor.device.type == "cpu"
    assert not tensor.requires_grad
    assert not tensor.is_conj()
    assert not tensor.is_neg()


# ----------------------------------------------------------------------------------------------
# The round trips


@ROUND_TRIP
@given(arrays())
def test_array_round_trips_bitwise(array: npt.NDArray[Any]) -> None:
    expected = value_bytes_of_array(array)
    owned = own(array)
    assert aliasguard.is_owned(owned)
    tensor = owned.value
    assert_fresh_tensor(tensor, getattr(torch, array.dtype.name), array.shape)
    assert value_bytes_of_tensor(tensor) == expected

    back = own(tensor)
    assert aliasguard.is_owned(back)
    assert_fresh_array(back.value, array.dtype.name, array.shape)
    assert value_bytes_of_array(back.value) == expected
    assert value_bytes_of_array(array) == expected, "own() changed its input"


@ROUND_TRIP
@given(tensors())
def test_tensor_round_trips_bitwise(tensor: torch.Tensor) -> None:
    name = str(tensor.dtype).removeprefix("torch.")
    expected = value_bytes_of_tensor(tensor)
    lazy_bits = (tensor.is_conj(), tensor.is_neg())
    if name not in ARRAY_DTYPES:  # bfloat16, float8 or complex32 without ml_dtypes
        with pytest.raises(ConversionError) as raised:
            own(tensor)
        assert raised.value.reason == "dtype"
        return
    owned = own(tensor)
    assert aliasguard.is_owned(owned)
    assert_fresh_array(owned.value, name, tuple(tensor.shape))
    assert value_bytes_of_array(owned.value) == expected

    back = own(owned.value)
    assert aliasguard.is_owned(back)
    assert_fresh_tensor(back.value, tensor.dtype, tuple(tensor.shape))
    assert value_bytes_of_tensor(back.value) == expected
    assert (tensor.is_conj(), tensor.is_neg()) == lazy_bits, "own() resolved its input in place"
    assert value_bytes_of_tensor(tensor) == expected, "own() changed its input"


# The dtypes with lazy bits that NumPy can hold here (complex32 needs ml_dtypes 0.6).
LAZY_BIT_DTYPES = [
    name
    for name in ("float16", "float32", "float64", "complex32", "complex64", "complex128")
    if name in ARRAY_DTYPES
]


@ROUND_TRIP
@given(tensors(dtypes=LAZY_BIT_DTYPES, layouts=("conjugate", "negative")))
def test_lazy_bits_come_back_resolved(tensor: torch.Tensor) -> None:
    # The copy holds the values the tensor reads, not the bits it stores. The expected values are
    # computed by NumPy from the stored bits, so a sign that torch and aliasguard both got wrong
    # would still show (np.from_dlpack reads neg-bit views with the wrong sign: test_upstream_facts.py).
    assert tensor.is_conj() != tensor.is_neg()
    stored = float_components(stored_array(tensor.detach()))
    expected = stored.copy()
    if tensor.is_conj():
        expected[1::2] = -stored[1::2]
    else:
        expected = -stored
    actual = float_components(own(tensor).value)
    with np.errstate(invalid="ignore"):  # signalling NaNs raise "invalid" when they are read
        np.testing.assert_array_equal(actual, expected)  # NaN where NaN, the rest equal
        not_nan = ~np.isnan(expected)
    size = expected.itemsize
    assert (actual.view(f"u{size}")[not_nan] == expected.view(f"u{size}")[not_nan]).all(), "-0.0"


# The installed ml_dtypes' types only: float8_e8m0fnu arrived in ml_dtypes 0.5.
ML_DTYPES_TYPES = [name for name in ARRAY_DTYPES if name == "bfloat16" or "float8" in name]


@pytest.mark.skipif(not ML_DTYPES_TYPES, reason="ml_dtypes is not installed")
@settings(max_examples=150, deadline=None)
@given(tensors(dtypes=ML_DTYPES_TYPES or None))
def test_bfloat16_and_float8_round_trip_through_ml_dtypes(tensor: torch.Tensor) -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    name = str(tensor.dtype).removeprefix("torch.")
    array = own(tensor).value
    assert array.dtype == np.dtype(getattr(ml_dtypes, name))
    assert value_bytes_of_array(array) == value_bytes_of_tensor(tensor)
    # Stored as ml_dtypes' type, the array's values are NumPy values: the same as torch's.
    as_float = array.astype(np.float32)
    expected = tensor.detach().to_dense() if tensor.layout != torch.strided else tensor.detach()
    np.testing.assert_array_equal(as_float, expected.float().numpy())


def test_every_dtype_own_converts_is_drawn() -> None:
    # The strategies' dtype list must not fall behind aliasguard's table: ask own() about every
    # torch dtype and collect the ones it converts.
    converted: set[str] = set()
    for value in vars(torch).values():
        if not isinstance(value, torch.dtype):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # complex32, quantized: experimental or deprecated
                sample = torch.zeros(2, dtype=value)
        except (RuntimeError, TypeError, NotImplementedError):
            continue  # torch cannot even make one (sub-byte, "bits" and quantized dtypes)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                own(sample)
        except ConversionError:
            continue
        converted.add(str(value).removeprefix("torch."))
    assert converted == set(ARRAY_DTYPES)
    assert set(ARRAY_DTYPES) <= set(TENSOR_DTYPES)


def test_conversions_do_not_warn_in_a_fresh_process() -> None:
    code = """
        import aliasguard
        from hypothesis import HealthCheck, given, settings
        from aliasguard.strategies import ARRAY_DTYPES, arrays, tensors

        def convert(value):
            try:
                aliasguard.share(value)
            except aliasguard.ShareError:
                pass
            aliasguard.own(value)

        # complex32 is left to the test below, so that one leak cannot hide another.
        @settings(max_examples=200, database=None, deadline=None, suppress_health_check=list(HealthCheck))
        @given(arrays(dtypes=[name for name in ARRAY_DTYPES if name != "complex32"]))
        def convert_arrays(array):
            convert(array)

        @settings(max_examples=200, database=None, deadline=None, suppress_health_check=list(HealthCheck))
        # Tensors of the dtypes own() can give NumPy here (bfloat16 and float8 need ml_dtypes).
        @given(tensors(dtypes=[name for name in ARRAY_DTYPES if name != "complex32"]))
        def convert_tensors(tensor):
            convert(tensor)

        convert_arrays()
        convert_tensors()
    """
    result = run_python(code, warnings_as_errors=True)
    assert result.returncode == 0, result.stderr[-3000:]


def test_own_of_complex32_array_does_not_warn() -> None:
    # The user never made a complex32 tensor: the one torch warns about is aliasguard's own.
    ml_dtypes = pytest.importorskip("ml_dtypes")
    if not hasattr(ml_dtypes, "complex32"):
        pytest.skip("this ml_dtypes has no complex32")
    code = """
        import numpy as np, ml_dtypes, aliasguard
        aliasguard.own(np.zeros(3, dtype=ml_dtypes.complex32))
        aliasguard.own(np.zeros(3, dtype=ml_dtypes.complex32)[::2])
    """
    result = run_python(code, warnings_as_errors=True)
    assert result.returncode == 0, result.stderr[-2000:]


# ----------------------------------------------------------------------------------------------
# The strategies reach every dtype and layout they promise


def _base_kind(array: npt.NDArray[Any]) -> object:
    base: object = array
    while isinstance(base, np.ndarray):
        if isinstance(base, np.memmap):
            return np.memmap
        base = base.base
    return type(base)


def _permuted(tensor: torch.Tensor) -> bool:
    """Whether an axis longer than 1 steps further than one before it: a transposed order."""
    strides = [
        stride for size, stride in zip(tensor.shape, tensor.stride(), strict=True) if size > 1
    ]
    return any(earlier < later for earlier, later in itertools.pairwise(strides))


ARRAY_LAYOUT_SEEN: dict[str, Callable[[npt.NDArray[Any]], bool]] = {
    "contiguous": lambda a: a.flags.c_contiguous and a.size > 1 and a.flags.owndata,
    "0-d": lambda a: a.ndim == 0,
    "empty": lambda a: a.size == 0,
    "strided": lambda a: not (a.flags.c_contiguous or a.flags.f_contiguous) and min(a.strides) > 0,
    "fortran": lambda a: a.flags.f_contiguous and not a.flags.c_contiguous,
    "negative-strides": lambda a: any(
        stride < 0 and size > 1 for size, stride in zip(a.shape, a.strides, strict=True)
    ),
    "zero-strides": lambda a: a.size > 1 and 0 in a.strides,
    "unaligned": lambda a: not a.flags.aligned,
    "read-only": lambda a: not a.flags.writeable,
    "byte-swapped": lambda a: not a.dtype.isnative,
    "memmap": lambda a: _base_kind(a) is np.memmap,
}
TENSOR_LAYOUT_SEEN: dict[str, Callable[[torch.Tensor], bool]] = {
    "contiguous": lambda t: t.is_contiguous() and t.numel() > 1 and t.storage_offset() == 0,
    "0-d": lambda t: t.dim() == 0,
    "empty": lambda t: t.numel() == 0,
    "strided": lambda t: (
        t.layout == torch.strided
        and not t.is_contiguous()
        and 0 not in t.stride()
        and not _permuted(t)
    ),
    "transposed": lambda t: t.layout == torch.strided and 0 not in t.stride() and _permuted(t),
    "zero-strides": lambda t: t.layout == torch.strided and t.numel() > 1 and 0 in t.stride(),
    "storage-offset": lambda t: t.layout == torch.strided and t.storage_offset() > 0,
    "sparse": lambda t: t.layout == torch.sparse_coo,
    "requires-grad": lambda t: t.requires_grad,
    "conjugate": lambda t: t.is_conj(),
    "negative": lambda t: t.is_neg(),
}
#: One pass over many draws, without shrinking: what the defaults reach, cheaply.
SURVEY = settings(
    max_examples=400,
    database=None,
    derandomize=True,
    phases=[Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
Value = TypeVar("Value")
#: For what the survey missed: keep drawing until one shows up (no shrinking: the first will do).
SEARCH = settings(max_examples=5000, database=None, phases=[Phase.generate], deadline=None)


def reach_all(
    strategy: st.SearchStrategy[Value], checks: dict[str, Callable[[Value], bool]]
) -> None:
    """Every check holds for some drawn value: survey first, then search for the stragglers."""
    seen: set[str] = set()

    @SURVEY
    @given(strategy)
    def survey(value: Value) -> None:
        seen.update(name for name, check in checks.items() if check(value))

    survey()
    for name in sorted(set(checks) - seen):
        find(strategy, checks[name], settings=SEARCH)  # NoSuchExample if the defaults miss it


def test_every_layout_is_named_and_checked() -> None:
    assert set(ARRAY_LAYOUT_SEEN) == set(ARRAY_LAYOUTS)
    assert set(TENSOR_LAYOUT_SEEN) == set(TENSOR_LAYOUTS)


def _dtype_check(name: str) -> Callable[[npt.NDArray[Any] | torch.Tensor], bool]:
    def check(value: npt.NDArray[Any] | torch.Tensor) -> bool:
        if isinstance(value, torch.Tensor):
            return str(value.dtype) == f"torch.{name}"
        return value.dtype.name == name

    return check


def test_default_arrays_reach_every_dtype_and_layout() -> None:
    checks: dict[str, Callable[[npt.NDArray[Any]], bool]] = dict(ARRAY_LAYOUT_SEEN)
    checks.update({f"dtype {name}": _dtype_check(name) for name in ARRAY_DTYPES})
    reach_all(arrays(), checks)


def test_default_tensors_reach_every_dtype_and_layout() -> None:
    checks: dict[str, Callable[[torch.Tensor], bool]] = dict(TENSOR_LAYOUT_SEEN)
    checks.update({f"dtype {name}": _dtype_check(name) for name in TENSOR_DTYPES})
    reach_all(tensors(), checks)


@pytest.mark.parametrize("layout", ARRAY_LAYOUTS)
def test_restricted_arrays_have_the_layout(layout: str) -> None:
    @settings(max_examples=30, deadline=None)
    @given(arrays(layouts=(layout,)))
    def check(array: npt.NDArray[Any]) -> None:
        # Length-1 axes and single elements can make a layout invisible in flags: allow those.
        small = array.size <= 1 or 1 in array.shape or array.ndim < 2
        assert ARRAY_LAYOUT_SEEN[layout](array) or (small and layout not in _STRICT)

    check()


@pytest.mark.parametrize("layout", TENSOR_LAYOUTS)
def test_restricted_tensors_have_the_layout(layout: str) -> None:
    @settings(max_examples=30, deadline=None)
    @given(tensors(layouts=(layout,)))
    def check(tensor: torch.Tensor) -> None:
        small = tensor.numel() <= 1 or 1 in tensor.shape or tensor.dim() < 2
        assert TENSOR_LAYOUT_SEEN[layout](tensor) or (small and layout not in _STRICT)

    check()


# Layouts that show whatever the shape: no exemption for small values.
_STRICT = frozenset(
    {"0-d", "empty", "read-only", "byte-swapped", "memmap", "unaligned", "storage-offset"}
    | {"sparse", "requires-grad", "conjugate", "negative"}
)


def _smallest_normal(name: str) -> float:
    if name in ("float16", "float32", "float64"):
        return float(np.finfo(np.dtype(name)).smallest_normal)
    ml_dtypes = importlib.import_module("ml_dtypes")
    finfo: Any = ml_dtypes.finfo(numpy_dtype_named(name))
    return float(finfo.smallest_normal)


def _hard_values_in(name: str, array: npt.NDArray[Any]) -> set[str]:
    """Which hard values ``array`` (of float dtype ``name``) holds."""
    with np.errstate(invalid="ignore"):  # signalling NaNs raise "invalid" when converted
        values = array.reshape(-1).astype(np.float64)
    found: set[str] = {"nan"} if np.isnan(values).any() else set()
    if name not in ("float16", "float32", "float64", "bfloat16"):
        return found
    dtype = array.dtype
    unsigned = np.dtype(f"u{dtype.itemsize}")
    magnitude = (1 << (8 * dtype.itemsize - 1)) - 1
    default_nan = int(np.array(np.nan, dtype=dtype).view(unsigned)) & magnitude
    bits = array.reshape(-1).view(unsigned).astype(np.uint64) & np.uint64(magnitude)
    if (np.isnan(values) & (bits != default_nan)).any():
        found.add("nan-payload")
    if ((values == 0) & np.signbit(values)).any():
        found.add("negative-zero")
    magnitudes = np.abs(values)
    if ((magnitudes > 0) & (magnitudes < _smallest_normal(name))).any():
        found.add("subnormal")
    if np.isinf(values).any():
        found.add("infinity")
    return found


def test_arrays_reach_hard_values() -> None:
    # Every float dtype yields NaN; the IEEE ones also -0.0, subnormals, infinities and NaNs whose
    # payload differs from the default NaN's.
    floats = [name for name in ARRAY_DTYPES if "float" in name]
    seen: dict[str, set[str]] = {name: set() for name in floats}

    @settings(SURVEY, max_examples=800)
    @given(arrays(dtypes=floats, layouts=("contiguous",)))
    def survey(array: npt.NDArray[Any]) -> None:
        seen[array.dtype.name] |= _hard_values_in(array.dtype.name, array)

    survey()
    ieee = {"nan", "nan-payload", "negative-zero", "subnormal", "infinity"}
    for name in floats:
        wanted = ieee if name in ("float16", "float32", "float64", "bfloat16") else {"nan"}
        assert wanted <= seen[name], (name, wanted - seen[name])


# ----------------------------------------------------------------------------------------------
# Bad arguments: each error names the argument, the reason and the fix


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: arrays(layouts=("diagonal",)), "unknown layout 'diagonal'"),
        (lambda: arrays(layouts="memmap"), "layouts=('memmap',)"),
        (lambda: arrays(layouts=()), "got no layouts"),
        (lambda: arrays(dtypes=[]), "got no dtypes"),
        (lambda: arrays(dtypes=["object"]), "converts no such dtype"),
        (lambda: arrays(dtypes=["float128-ish"]), "converts no such dtype"),
        (lambda: arrays(dtypes=["uint8"], layouts=("byte-swapped",)), "'byte-swapped'"),
        (lambda: arrays(dtypes=["int8"], layouts=("unaligned", "contiguous")), "'unaligned'"),
        (lambda: arrays(shapes=cast("Any", [2, 3])), "is not a shape"),
        (lambda: arrays(shapes=(2, -1)), "is not a shape"),
        (lambda: tensors(dtypes=["float32"], layouts=("conjugate",)), "'conjugate'"),
        (lambda: tensors(dtypes=["int64"], layouts=("requires-grad",)), "'requires-grad'"),
        (lambda: tensors(dtypes=["uint32"], layouts=("sparse",)), "'sparse'"),
        (lambda: tensors(dtypes=["complex64"], layouts=("negative",)), "'negative'"),
        (lambda: tensors(layouts=("fortran",)), "unknown layout 'fortran'"),
        (lambda: tensors(dtypes=["int8", "float32"], layouts=("requires-grad",)), "'int8'"),
    ],
)
def test_bad_arguments_are_explained(call: Callable[[], object], message: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        call()
    first_line = str(raised.value).splitlines()[0]
    assert message in first_line
    assert "Pass" in first_line or "Add" in first_line, first_line  # the fix, on the first line


def test_arrays_without_numpy_dtype_are_refused() -> None:
    missing = [name for name in TENSOR_DTYPES if name not in ARRAY_DTYPES]
    if not missing:
        pytest.skip("ml_dtypes supplies every dtype here")
    with pytest.raises(InvalidArgument, match="NumPy has no such dtype"):
        arrays(dtypes=missing[:1])


SPELLINGS: list[str | np.dtype[Any] | type[np.generic] | torch.dtype] = [
    "float32",
    np.float32,
    np.dtype("float32"),
    torch.float32,
]


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_dtype_arguments_accept_every_spelling(data: st.DataObject) -> None:
    spelling = data.draw(st.sampled_from(SPELLINGS))
    array = data.draw(arrays(dtypes=spelling, shapes=(2,)))
    tensor = data.draw(tensors(dtypes=[spelling], shapes=(2,)))
    assert array.dtype.name == "float32"
    assert tensor.dtype == torch.float32
    assert array.shape in ((2,), (0,), ())  # "empty" and "0-d" override shapes
    assert tuple(tensor.shape) in ((2,), (0,), ())
