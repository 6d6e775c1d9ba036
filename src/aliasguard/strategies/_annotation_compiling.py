"""Annotations compiled for drawing: each alternative's wrapper, array spec and drawable dtypes.

An annotation is compiled once into `Target` alternatives (wrapper kind, library, admissible
dtypes, the dims spec that ``@checked`` itself reads); every draw of `from_annotation` and
`call_arguments` then picks among them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import torch
from hypothesis.errors import InvalidArgument

from .._annotation_compat import annotation_text
from .._annotations import (
    KIND_NAMES,
    alternatives,
    array_spec,
    is_array_annotation,
    wrapper_parts,
)
from .._dtypes import DtypeInfo, DtypeSpec, numpy_dtype_of, resolve_dtype
from .._jaxtyping_compat import ArraySpec
from ._dtype_tables import ARRAY_DTYPES, TENSOR_DTYPES, plainest_first

_LIBRARIES: Final = ("torch", "numpy")


@dataclass(frozen=True)
class Target:
    """One way to satisfy an annotation: a wrapper kind around one array annotation.

    ``dtypes`` maps each library the annotation admits to its drawable dtypes, most plain first.
    """

    wrapper: str | None  # "Shared", "Owned", or None for a bare array
    spec: ArraySpec
    dtypes: tuple[tuple[str, tuple[DtypeInfo, ...]], ...]
    text: str  # the annotation as written, for messages

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints strategies' arguments field by field, tables included: keep it short.
        printer.text(repr(self))


@dataclass(frozen=True)
class Compiled:
    """An annotation compiled for drawing: alternatives, plus whether ``None`` is one of them."""

    targets: tuple[Target, ...]
    optional: bool
    others: tuple[object, ...]  # non-array union members, drawn by Hypothesis's from_type

    def __repr__(self) -> str:
        texts = [target.text for target in self.targets]
        texts += [_annotation_shown(other) for other in self.others]
        return " | ".join(texts + (["None"] if self.optional else []))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _annotation_shown(annotation: object) -> str:
    return annotation_text(annotation, written=True)


def _library_dtypes(
    spec: ArraySpec, restriction: frozenset[str] | None
) -> tuple[tuple[str, tuple[DtypeInfo, ...]], ...]:
    classes = spec.array_class if isinstance(spec.array_class, tuple) else (spec.array_class,)
    found: list[tuple[str, tuple[DtypeInfo, ...]]] = []
    for library in _LIBRARIES:
        value_class = torch.Tensor if library == "torch" else np.ndarray
        if not any(issubclass(value_class, cls) for cls in classes):
            continue
        names = TENSOR_DTYPES if library == "torch" else ARRAY_DTYPES
        infos: list[DtypeInfo] = []
        for name in plainest_first(names):
            info = resolve_dtype(name)
            assert info is not None, f"{name} is in aliasguard's dtype table"
            if restriction is not None and name not in restriction:
                continue
            if library == "torch":
                if spec.torch_dtypes is not None and info.torch not in spec.torch_dtypes:
                    continue
            else:
                dtype = numpy_dtype_of(info)
                if dtype is None or not spec.admits_numpy_dtype(dtype):
                    continue
            infos.append(info)
        if infos:
            found.append((library, tuple(infos)))
    return tuple(found)


def _compile_payload(
    wrapper: str | None, payload: object, restriction: frozenset[str] | None, text: str
) -> list[Target]:
    return [_compile_member(wrapper, member, restriction, text) for member in alternatives(payload)]


def _compile_member(
    wrapper: str | None, member: object, restriction: frozenset[str] | None, text: str
) -> Target:
    try:
        spec = array_spec(member)
    except TypeError as error:
        raise InvalidArgument(
            f"from_annotation() cannot draw {text}: {error} Use np.ndarray, torch.Tensor or a "
            "jaxtyping annotation of one (Float[Tensor, 'b c']), or pass a strategy of your own."
        ) from None
    dtypes = _library_dtypes(spec, restriction)
    if not dtypes:
        wanted = "" if restriction is None else f" among dtypes={sorted(restriction)}"
        raise InvalidArgument(
            f"from_annotation() cannot draw {text}: no NumPy or torch dtype that aliasguard "
            f"converts satisfies {spec.description}{wanted}. Widen the annotation or the dtypes, "
            "or pass a strategy of your own."
        )
    return Target(wrapper, spec, dtypes, text)


def compile_annotation(annotation: object, restriction: frozenset[str] | None) -> Compiled:
    targets: list[Target] = []
    others: list[object] = []
    optional = False
    for member in alternatives(annotation):
        if member is type(None) or member is None:
            optional = True
            continue
        text = _annotation_shown(member)
        parts = wrapper_parts(member)
        if parts is not None:
            targets += _compile_payload(KIND_NAMES[parts[0]], parts[1], restriction, text)
        elif is_array_annotation(member):
            targets += _compile_payload(None, member, restriction, text)
        else:
            others.append(member)
    if not targets:
        raise InvalidArgument(
            f"from_annotation() draws array annotations, got {_annotation_shown(annotation)}: it "
            "names no np.ndarray, torch.Tensor, jaxtyping, Shared or Owned type. Use "
            "hypothesis.strategies.from_type() for other types."
        )
    return Compiled(tuple(targets), optional, tuple(others))


def resolve_restriction(
    function: str, dtypes: DtypeSpec | Iterable[DtypeSpec] | None
) -> frozenset[str] | None:
    if dtypes is None:
        return None
    specs: list[object] = (
        [dtypes] if isinstance(dtypes, str | np.dtype | torch.dtype | type) else list(dtypes)
    )
    names: set[str] = set()
    for spec in specs:
        try:
            info = resolve_dtype(spec)
        except TypeError:
            info = None
        if info is None:
            raise InvalidArgument(
                f"{function}(dtypes=...) got {spec!r}: aliasguard converts no such dtype. Pass "
                "names from aliasguard.strategies.TENSOR_DTYPES, such as 'float32'."
            )
        names.add(info.name)
    if not names:
        raise InvalidArgument(
            f"{function}(dtypes=[]) got no dtypes: nothing could be drawn. Pass None for all."
        )
    return frozenset(names)
