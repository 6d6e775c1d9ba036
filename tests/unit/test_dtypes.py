"""The dtype table and the casting lattice, checked against NumPy itself."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from aliasguard import _dtypes
from aliasguard._dtypes import CASTING_RULES, is_cast_allowed, resolve_dtype, weakest_rule_allowing
from dtype_names import torch_has_dtype, with_torch_dtypes

NUMPY_NAMES = (
    "bool",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "int32",
    "int64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
)
TORCH_ONLY_NAMES = tuple(
    name
    for name in (
        "bfloat16",
        "float8_e4m3fn",
        "float8_e4m3fnuz",
        "float8_e5m2",
        "float8_e5m2fnuz",
        "float8_e8m0fnu",
        "complex32",
    )
    if torch_has_dtype(name)
)


def info(name: str) -> _dtypes.DtypeInfo:
    row = resolve_dtype(name)
    assert row is not None
    return row


@pytest.mark.parametrize("casting", CASTING_RULES)
def test_rules_match_numpy_for_every_numpy_pair(casting: _dtypes.Casting) -> None:
    mismatches = [
        (source, target)
        for source, target in itertools.product(NUMPY_NAMES, NUMPY_NAMES)
        if is_cast_allowed(info(source), info(target), casting)
        != np.can_cast(source, target, casting)
    ]
    assert mismatches == []


def test_rules_match_ml_dtypes_for_bfloat16_where_it_defines_safety() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    bfloat16 = np.dtype(ml_dtypes.bfloat16)
    for name in NUMPY_NAMES:
        assert is_cast_allowed(info(name), info("bfloat16"), "safe") == np.can_cast(
            np.dtype(name), bfloat16, "safe"
        ), name


@pytest.mark.parametrize(
    ("source", "target", "casting", "allowed"),
    [
        ("int8", "bfloat16", "safe", True),  # every int8 is exact in 8 significant bits
        ("uint8", "bfloat16", "safe", True),
        ("int16", "bfloat16", "safe", False),
        ("bfloat16", "float16", "safe", False),  # float16 cannot reach bfloat16's range
        ("float16", "bfloat16", "safe", False),  # bfloat16 cannot hold float16's precision
        ("bfloat16", "float32", "safe", True),
        ("float8_e4m3fn", "float16", "safe", True),
        with_torch_dtypes("float8_e8m0fnu", "float16", "safe", False),  # 2**-127 < float16's range
        with_torch_dtypes("float8_e8m0fnu", "bfloat16", "safe", True),
        with_torch_dtypes("bool", "float8_e8m0fnu", "safe", False),  # e8m0 has no zero
        ("bool", "float8_e5m2", "safe", True),
        ("float32", "bfloat16", "same_kind", True),
        ("bfloat16", "int64", "same_kind", False),
        ("complex32", "complex64", "safe", True),
        ("float16", "complex32", "safe", True),
        ("complex32", "float64", "same_kind", False),
        ("uint64", "int64", "safe", False),
        ("uint64", "int64", "same_kind", True),
        ("int64", "uint64", "same_kind", False),
        ("float64", "bool", "unsafe", True),
        ("float32", "float32", "no", True),
    ],
)
def test_torch_only_dtypes_follow_numpys_principles(
    source: str, target: str, casting: _dtypes.Casting, allowed: bool
) -> None:
    assert is_cast_allowed(info(source), info(target), casting) is allowed


def test_safe_relation_is_transitive_over_every_dtype() -> None:
    names = NUMPY_NAMES + TORCH_ONLY_NAMES
    for a, b, c in itertools.product(names, repeat=3):
        if is_cast_allowed(info(a), info(b), "safe") and is_cast_allowed(info(b), info(c), "safe"):
            assert is_cast_allowed(info(a), info(c), "safe"), (a, b, c)


def test_weakest_rule_allowing_names_the_rule_to_pass() -> None:
    assert weakest_rule_allowing(info("float64"), info("float32")) == "same_kind"
    assert weakest_rule_allowing(info("float64"), info("int8")) == "unsafe"
    assert weakest_rule_allowing(info("int8"), info("int16")) == "safe"
    assert weakest_rule_allowing(info("int8"), info("int8")) == "no"


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        (np.float32, "float32"),
        ("float64", "float64"),
        (float, "float64"),
        (torch.bfloat16, "bfloat16"),
        ("bfloat16", "bfloat16"),
        (np.dtype(">i4"), "int32"),
        (torch.uint16, "uint16"),
        (torch.complex32, "complex32"),
    ],
)
def test_resolve_dtype_accepts_both_libraries_and_names(spec: object, name: str) -> None:
    assert info(name) is resolve_dtype(spec)


@pytest.mark.parametrize("spec", [object, np.str_, "datetime64[s]", np.longdouble, torch.quint8])
def test_resolve_dtype_answers_none_for_dtypes_without_a_row(spec: object) -> None:
    assert resolve_dtype(spec) is None


def test_every_row_maps_both_ways() -> None:
    for name in NUMPY_NAMES + TORCH_ONLY_NAMES:
        row = info(name)
        assert _dtypes.info_from_torch(row.torch) is row
        numpy_dtype = _dtypes.numpy_dtype_of(row)
        if numpy_dtype is not None:
            assert _dtypes.info_from_numpy(numpy_dtype) is row
            assert numpy_dtype.itemsize == row.torch.itemsize


def test_structured_void_of_a_known_name_size_is_not_taken_for_bfloat16() -> None:
    assert _dtypes.info_from_numpy(np.dtype("V2")) is None
    assert _dtypes.info_from_numpy(np.dtype([("bfloat16", "u1"), ("x", "u1")])) is None
