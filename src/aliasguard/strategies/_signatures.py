"""`call_arguments`: keyword arguments for a whole signature, drawn from its annotations.

Array parameters are compiled and drawn as `aliasguard.strategies.from_annotation` draws them, with
one axis memo per draw shared across the parameters, in their order, as ``@checked`` keeps one memo
per call. `aliasguard.strategies` re-exports `call_arguments`.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from typing_extensions import TypeIs

from .._annotations import names_an_array, resolved_hints
from .._checking import unresolvable_annotations
from .._describing import function_name
from .._dtypes import DtypeSpec
from ._annotation_compiling import Compiled, compile_annotation, resolve_restriction
from ._annotation_shapes import Memo
from ._annotation_values import compiled_values

#: What `call_arguments` draws for plain scalar annotations: small finite values a pipeline can
#: compute with (``from_type(int)`` draws sizes that exhaust memory when used as a shape).
_SCALARS: Final[Mapping[object, st.SearchStrategy[Any]]] = {
    bool: st.booleans(),
    int: st.integers(0, 8),
    float: st.floats(-8.0, 8.0),
    complex: st.complex_numbers(max_magnitude=8.0, allow_nan=False, allow_infinity=False),
}


@dataclass(frozen=True)
class _Parameter:
    name: str
    compiled: Compiled | None  # an array annotation; else `strategy` draws it
    strategy: st.SearchStrategy[Any] | None
    has_default: bool  # left out of some draws, so the function's default is used

    def __repr__(self) -> str:
        drawn = repr(self.compiled) if self.compiled is not None else repr(self.strategy)
        return f"{self.name}={drawn}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _scalar_strategy(hint: object) -> st.SearchStrategy[Any]:
    try:
        known = _SCALARS.get(hint)
    except TypeError:  # an unhashable annotation
        known = None
    return known if known is not None else st.from_type(typing.cast("type[Any]", hint))


def _plan_parameter(
    shown_name: str,
    parameter: inspect.Parameter,
    hint: object,
    override: st.SearchStrategy[Any] | None,
    restriction: frozenset[str] | None,
) -> _Parameter | None:
    has_default = parameter.default is not parameter.empty
    if override is not None:
        return _Parameter(parameter.name, None, override, has_default)
    if hint is None or hint is typing.Any:
        if has_default:
            return None
        raise InvalidArgument(
            f"call_arguments() cannot draw parameter {parameter.name!r} of {shown_name}: it "
            "has no annotation to draw from. Annotate it, or pass "
            f"overrides={{{parameter.name!r}: <strategy>}}."
        )
    if names_an_array(hint):
        return _Parameter(parameter.name, compile_annotation(hint, restriction), None, has_default)
    if has_default:
        return None  # keeps its default: from_type(str) would draw devices and modes at random
    # Anything else, containers of Shared[...] included (registered with Hypothesis, though their
    # axes are not tied to the other arguments'), goes to from_type.
    return _Parameter(parameter.name, None, _scalar_strategy(hint), has_default=False)


def _is_strategy(value: object) -> TypeIs[st.SearchStrategy[Any]]:
    return isinstance(value, st.SearchStrategy)


def _plan_signature(
    function: Callable[..., Any],
    overrides: Mapping[str, object],
    restriction: frozenset[str] | None,
) -> tuple[_Parameter, ...]:
    name = function_name(function)
    try:
        hints = resolved_hints(function)
    except Exception as error:  # whatever evaluating the user's expression raised
        raise InvalidArgument(
            unresolvable_annotations(function, error, reader="call_arguments()")
        ) from None
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError) as error:
        raise InvalidArgument(
            f"call_arguments() cannot read the signature of {name} ({error}): pass a function."
        ) from None
    unknown = sorted(set(overrides) - set(parameters))
    if unknown:
        raise InvalidArgument(
            f"call_arguments(overrides=...) names {unknown[0]!r}, which is not a parameter of "
            f"{name}: it would never be used. Use one of {', '.join(parameters) or 'none'}."
        )
    plan: list[_Parameter] = []
    for parameter in parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        override = overrides.get(parameter.name)
        if override is not None and not _is_strategy(override):
            raise InvalidArgument(
                f"call_arguments(overrides=...) maps {parameter.name!r} to {override!r}, which is "
                "not a strategy. Pass hypothesis.strategies.just(value) for a fixed value."
            )
        if parameter.kind == parameter.POSITIONAL_ONLY and parameter.default is parameter.empty:
            raise InvalidArgument(
                f"call_arguments() draws keyword arguments, but parameter {parameter.name!r} of "
                f"{name} is positional-only. Wrap the function in one that takes it by keyword."
            )
        if parameter.kind == parameter.POSITIONAL_ONLY:
            continue  # keeps its default: it cannot be passed by keyword
        planned = _plan_parameter(name, parameter, hints.get(parameter.name), override, restriction)
        if planned is not None:
            plan.append(planned)
    return tuple(plan)


@st.composite
def _drawn_arguments(draw: st.DrawFn, plan: tuple[_Parameter, ...]) -> dict[str, Any]:
    memo: Memo = {}  # one per call, as @checked keeps one per call
    arguments: dict[str, Any] = {}
    for parameter in plan:
        if parameter.has_default and draw(st.booleans()):
            continue  # the function's own default
        if parameter.compiled is not None:
            arguments[parameter.name] = draw(compiled_values(parameter.compiled, memo))
        else:
            assert parameter.strategy is not None
            arguments[parameter.name] = draw(parameter.strategy)
    return arguments


def call_arguments(
    function: Callable[..., Any],
    /,
    *,
    overrides: Mapping[str, st.SearchStrategy[Any]] | None = None,
    dtypes: DtypeSpec | Iterable[DtypeSpec] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments for a call of ``function``, drawn from its annotations.

    Array parameters (jaxtyping, ``Shared``, ``Owned``, ``np.ndarray``, ``torch.Tensor``) are
    drawn as `from_annotation` draws them, with one axis memo per draw, in parameter order, so
    ``b`` has one size across every argument, as `aliasguard.checked` demands. Each argument lies
    in memory of its own: ``Owned`` arguments overlap nothing, ``Shared`` ones alias only their
    own sources. ``bool``, ``int``, ``float`` and ``complex`` parameters get small finite values
    (``int`` from 0 to 8); other annotations go to ``hypothesis.strategies.from_type``. Parameters
    with a default are drawn only when their annotation is an array one (and then left out of
    some draws, so that the default is used); the others keep their defaults. ``*args`` and
    ``**kwargs`` are left out. Call the function as ``function(**arguments)``.

    Args:
        function: the function whose parameters to draw.
        overrides: strategies for some parameters by name, used instead of their annotations.
        dtypes: draw only these dtypes for array parameters (see `from_annotation`).

    Returns:
        A strategy of ``dict``s from parameter name to argument.

    Raises:
        hypothesis.errors.InvalidArgument: a required parameter is positional-only, has no
            annotation, or has one no value can be drawn for; or ``overrides`` names no parameter.

    Examples:
        >>> from hypothesis import given
        >>> from jaxtyping import Float
        >>> from torch import Tensor
        >>> from aliasguard import Shared
        >>> from aliasguard.strategies import call_arguments
        >>> def add(x: Shared[Float[Tensor, "b c"]], y: Shared[Float[Tensor, "b c"]]) -> None: ...
        >>> @given(call_arguments(add))
        ... def test_same_shapes(arguments):
        ...     assert arguments["x"].value.shape == arguments["y"].value.shape
        >>> test_same_shapes()
    """
    restriction = resolve_restriction("call_arguments", dtypes)
    plan = _plan_signature(function, dict(overrides or {}), restriction)
    return _drawn_arguments(plan)
