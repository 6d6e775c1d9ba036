"""The dtypes the strategies draw, read off aliasguard's dtype table, and the order they are drawn in.

Every name here comes from `aliasguard._dtypes`: a dtype added to that table is drawn by
`arrays`, `tensors` and `from_annotation` without a change here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from .._dtypes import DTYPE_NAMES, numpy_dtype_of, resolve_dtype

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


def plainest_first(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` in the order dtypes are drawn (the table's commonness, then the table's order),
    so that a shrunk example shows the plainest one."""
    return tuple(sorted(names, key=_commonness))


def _commonness(name: str) -> int:
    info = resolve_dtype(name)
    assert info is not None, f"{name} is not in the dtype table"  # every caller names table rows
    return info.commonness
