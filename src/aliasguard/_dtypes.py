"""The dtype table shared by NumPy and torch, and NumPy's casting rules extended to torch's dtypes.

Both are data: one row per dtype, one set of safe targets per dtype. Everything else (lookups by
NumPy dtype, by torch dtype, by name; the casting predicate) is derived from those tables at import.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, cast

import numpy as np
import torch

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

Casting: TypeAlias = Literal["no", "equiv", "safe", "same_kind", "unsafe"]

#: One value for a ``dtypes=`` argument: a name (``"bfloat16"``), a NumPy dtype or scalar type, a
#: torch dtype. A real object, not a string, so that ``typing.get_type_hints`` evaluates the
#: signatures that use it.
DtypeSpec: TypeAlias = str | np.dtype[Any] | type[np.generic] | torch.dtype
#: From strictest to loosest: each rule allows everything the rules before it allow.
CASTING_RULES: Final[tuple[Casting, ...]] = ("no", "equiv", "safe", "same_kind", "unsafe")


@dataclass(frozen=True, slots=True)
class DtypeInfo:
    """One element type as both libraries know it.

    Attributes:
        name: the canonical name, the same in both libraries (``"float32"``, ``"bfloat16"``).
        kind: NumPy's kind letter: ``b`` bool, ``u`` unsigned, ``i`` signed, ``f`` float, ``c`` complex.
        torch: the torch dtype.
        numpy: the native NumPy dtype, or ``None`` when NumPy has none built in (bfloat16, float8,
            complex32); ``ml_dtypes`` supplies some of those, see `numpy_dtype_of`.
        storage: a built-in NumPy dtype of the same size, used to move the raw bits of dtypes NumPy
            lacks (``uint16`` for bfloat16).
        commonness: how commonly pipelines meet the dtype, 1 for the commonest. Strategies draw
            dtypes in this order, so that a shrunk failing example shows the plainest one.
    """

    name: str
    kind: str
    torch: torch.dtype
    numpy: np.dtype[Any] | None
    storage: np.dtype[Any]
    commonness: int

    @property
    def itemsize(self) -> int:
        return self.storage.itemsize


# Dtypes no pipeline reaches for first (the float8 formats) share the last place.
_RAREST: Final = 99


def _row(
    name: str, kind: str, storage: str, commonness: int = _RAREST, *, builtin: bool = True
) -> DtypeInfo | None:
    torch_dtype = getattr(torch, name, None)
    if not isinstance(torch_dtype, torch.dtype):
        return None  # this torch predates the dtype: see _TABLE
    return DtypeInfo(
        name=name,
        kind=kind,
        torch=torch_dtype,
        numpy=np.dtype(name) if builtin else None,
        storage=np.dtype(storage),
        commonness=commonness,
    )


# torch's sub-byte, quantized and "bits" dtypes have no NumPy counterpart and no arithmetic to cast
# with, so they are deliberately absent: looking them up answers None and the caller refuses.
# Rows for dtypes the installed torch lacks are dropped: float8_e8m0fnu arrived in torch 2.7
# (its release notes), after the oldest torch aliasguard supports.
_ROWS: Final[tuple[DtypeInfo | None, ...]] = (
    _row("bool", "b", "bool", 3),
    _row("uint8", "u", "uint8", 4),
    _row("uint16", "u", "uint16", 13),
    _row("uint32", "u", "uint32", 14),
    _row("uint64", "u", "uint64", 15),
    _row("int8", "i", "int8", 10),
    _row("int16", "i", "int16", 9),
    _row("int32", "i", "int32", 5),
    _row("int64", "i", "int64", 2),
    _row("float8_e4m3fn", "f", "uint8", builtin=False),
    _row("float8_e4m3fnuz", "f", "uint8", builtin=False),
    _row("float8_e5m2", "f", "uint8", builtin=False),
    _row("float8_e5m2fnuz", "f", "uint8", builtin=False),
    _row("float8_e8m0fnu", "f", "uint8", builtin=False),
    _row("bfloat16", "f", "uint16", 8, builtin=False),
    _row("float16", "f", "float16", 7),
    _row("float32", "f", "float32", 1),
    _row("float64", "f", "float64", 6),
    _row("complex32", "c", "uint32", 16, builtin=False),
    _row("complex64", "c", "complex64", 11),
    _row("complex128", "c", "complex128", 12),
)
_TABLE: Final[tuple[DtypeInfo, ...]] = tuple(row for row in _ROWS if row is not None)
#: Every dtype aliasguard converts with the installed torch, by the name both libraries share.
DTYPE_NAMES: Final[tuple[str, ...]] = tuple(row.name for row in _TABLE)

_INTEGERS_TO_FLOAT: Final = ("float32", "float64", "complex64", "complex128")
_SMALL_FLOAT8_TARGETS: Final = (
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "complex32",
    "complex64",
    "complex128",
)

# NumPy's "safe" relation (np.can_cast(a, b, "safe")) for its own dtypes, extended to torch's by the
# same principle NumPy applies: every value of the source has an exact image in the target, except
# that NumPy calls int64 -> float64 safe, and so do we (tests/unit/test_dtypes.py checks this table
# against np.can_cast for every pair NumPy knows). Each dtype is also a safe target of itself.
_SAFE_TARGETS: Final[Mapping[str, frozenset[str]]] = types.MappingProxyType(
    {
        name: frozenset((name, *targets))
        for name, targets in {
            # float8_e8m0fnu has no zero (its smallest value is 2**-127), so False has no image.
            "bool": tuple(row.name for row in _TABLE if row.name != "float8_e8m0fnu"),
            "uint8": (
                "uint16", "uint32", "uint64", "int16", "int32", "int64",
                "float16", "bfloat16", *_INTEGERS_TO_FLOAT, "complex32",
            ),
            "uint16": ("uint32", "uint64", "int32", "int64", *_INTEGERS_TO_FLOAT),
            "uint32": ("uint64", "int64", "float64", "complex128"),
            "uint64": ("float64", "complex128"),
            "int8": (
                "int16", "int32", "int64", "float16", "bfloat16", *_INTEGERS_TO_FLOAT, "complex32",
            ),
            "int16": ("int32", "int64", *_INTEGERS_TO_FLOAT),
            "int32": ("int64", "float64", "complex128"),
            "int64": ("float64", "complex128"),
            # Every float8 value (at most 3 mantissa bits, exponents within float16's range) is
            # exact in float16 and bfloat16, except e8m0's powers of two down to 2**-127, which
            # only bfloat16's 8-bit exponent reaches.
            "float8_e4m3fn": _SMALL_FLOAT8_TARGETS,
            "float8_e4m3fnuz": _SMALL_FLOAT8_TARGETS,
            "float8_e5m2": _SMALL_FLOAT8_TARGETS,
            "float8_e5m2fnuz": _SMALL_FLOAT8_TARGETS,
            "float8_e8m0fnu": ("bfloat16", "float32", "float64", "complex64", "complex128"),
            # bfloat16 has float32's exponent but only 8 significant bits: float16 cannot hold its
            # range and it cannot hold float16's precision.
            "bfloat16": ("float32", "float64", "complex64", "complex128"),
            "float16": ("float32", "float64", "complex32", "complex64", "complex128"),
            "float32": ("float64", "complex64", "complex128"),
            "float64": ("complex128",),
            "complex32": ("complex64", "complex128"),
            "complex64": ("complex128",),
            "complex128": (),
        }.items()
    }
)  # fmt: skip

# NumPy's "same_kind": any safe cast, or a cast to a kind at least as general (u may go to i).
_KIND_RANK: Final[Mapping[str, int]] = types.MappingProxyType(
    {"b": 0, "u": 1, "i": 2, "f": 3, "c": 4}
)

_BY_NAME: Final[Mapping[str, DtypeInfo]] = types.MappingProxyType({r.name: r for r in _TABLE})
_BY_TORCH: Final[Mapping[torch.dtype, DtypeInfo]] = types.MappingProxyType(
    {r.torch: r for r in _TABLE}
)
# Keyed by native-byte-order dtypes only: a non-native dtype misses here on purpose, so the
# converters' fast paths fall through to the path that explains byte order.
_BY_NUMPY: Final[Mapping[np.dtype[Any], DtypeInfo]] = types.MappingProxyType(
    {r.numpy: r for r in _TABLE if r.numpy is not None}
)
#: torch dtype for each native NumPy dtype that torch.from_numpy accepts: the converters' fast path.
TORCH_DTYPE_BY_NUMPY: Final[Mapping[np.dtype[Any], torch.dtype]] = types.MappingProxyType(
    {key: row.torch for key, row in _BY_NUMPY.items()}
)


@functools.cache
def ml_dtypes_module() -> types.ModuleType | None:
    """The ``ml_dtypes`` module when installed: it gives NumPy bfloat16 and the float8 types."""
    try:
        import ml_dtypes  # lazy: optional (the ml-dtypes extra)
    except ImportError:
        return None
    return ml_dtypes


def numpy_dtype_of(info: DtypeInfo) -> np.dtype[Any] | None:
    """The NumPy dtype for ``info``: built in, from ``ml_dtypes``, or ``None`` when neither has it."""
    if info.numpy is not None:
        return info.numpy
    module = ml_dtypes_module()
    scalar_type = getattr(module, info.name, None) if module is not None else None
    return None if scalar_type is None else np.dtype(scalar_type)


def info_from_torch(dtype: torch.dtype) -> DtypeInfo | None:
    """The table row for a torch dtype, or ``None`` for dtypes the table leaves out."""
    return _BY_TORCH.get(dtype)


def info_from_numpy(dtype: np.dtype[Any]) -> DtypeInfo | None:
    """The table row for a NumPy dtype of either byte order, or ``None`` when torch has no match.

    ``ml_dtypes`` dtypes are recognised by name and size (they are NumPy "void" dtypes underneath).
    """
    row = _BY_NUMPY.get(dtype)
    if row is not None:
        return row
    if not dtype.isnative:
        return _BY_NUMPY.get(dtype.newbyteorder("="))
    row = _BY_NAME.get(dtype.name)
    # Only ml_dtypes' registered scalar types match by name; a structured dtype of that name does not.
    if row is not None and row.numpy is None and numpy_dtype_of(row) == dtype:
        return row
    return None


def resolve_dtype(spec: object) -> DtypeInfo | None:
    """The table row for a user's dtype argument: a torch dtype, a NumPy dtype-like, or a name.

    Returns ``None`` when the argument names a real dtype that has no row (``object``, ``str``).

    Raises:
        TypeError: ``spec`` is not a dtype at all.
    """
    if isinstance(spec, torch.dtype):
        return _BY_TORCH.get(spec)
    if isinstance(spec, str) and spec in _BY_NAME:
        # Names like "bfloat16" resolve even where NumPy itself does not know them.
        return _BY_NAME[spec]
    return info_from_numpy(np.dtype(cast("DTypeLike", spec)))


def is_cast_allowed(source: DtypeInfo, target: DtypeInfo, casting: Casting) -> bool:
    """Whether NumPy's rule ``casting`` allows ``source`` -> ``target`` (both native byte order)."""
    if casting == "unsafe" or source is target:
        return True
    if casting in ("no", "equiv"):
        return False
    if target.name in _SAFE_TARGETS[source.name]:
        return True
    return casting == "same_kind" and _KIND_RANK[source.kind] <= _KIND_RANK[target.kind]


def weakest_rule_allowing(source: DtypeInfo, target: DtypeInfo) -> Casting:
    """The strictest casting rule that still allows ``source`` -> ``target``: what to pass instead."""
    return next(rule for rule in CASTING_RULES if is_cast_allowed(source, target, rule))
