"""Hypothesis's type lookup: ``st.from_type`` and ``@given`` inference draw with `from_annotation`.

``Shared[...]``, ``Owned[...]`` and jaxtyping's classes are made on first use, so each is registered
as it is made (``Shared``/``Owned``), or found by a resolver Hypothesis consults (jaxtyping).
"""

from __future__ import annotations

import importlib
from typing import Any, cast

from hypothesis import strategies as st

from .._annotations import is_jaxtyping_annotation
from .._wrappers import Owned, Shared, watch_checkable_classes
from ._annotation_values import from_annotation


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


def register_strategies() -> None:
    """Let Hypothesis draw ``Shared``, ``Owned`` and jaxtyping annotations (once per process)."""
    # Shared[...] and Owned[...] are classes made on first use; each is registered as it is made.
    st.register_type_strategy(Shared, _strategy_for_type)
    st.register_type_strategy(Owned, _strategy_for_type)
    watch_checkable_classes(_register_checkable_class)
    _register_jaxtyping_resolver()
