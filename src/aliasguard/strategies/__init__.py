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

from .._optional import missing_extra

try:
    # Every module below draws with Hypothesis: without it, name the extra that brings it.
    from ._registration import register_strategies
except ModuleNotFoundError as error:
    if error.name != "hypothesis":
        raise
    raise ModuleNotFoundError(
        missing_extra("hypothesis", "aliasguard.strategies", "it draws and shrinks the values"),
        name="hypothesis",
    ) from None

from .._dtypes import DtypeSpec as DtypeSpec
from ._annotation_values import from_annotation
from ._arrays import arrays
from ._dtype_tables import ARRAY_DTYPES, TENSOR_DTYPES
from ._layouts import ARRAY_LAYOUTS, TENSOR_LAYOUTS
from ._signatures import call_arguments
from ._tensors import tensors

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


def _set_public_module() -> None:
    # The public functions name this module, so docs, reprs and the docstring examples (found by
    # module) say aliasguard.strategies.X wherever in the package they are defined.
    for public in (arrays, tensors, from_annotation, call_arguments):
        public.__module__ = __name__


_set_public_module()
register_strategies()
