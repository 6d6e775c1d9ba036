"""`fuzz`: draw arguments from a function's annotations and look for calls that break its contract.

Each example draws keyword arguments with `aliasguard.strategies.call_arguments` (inside
`sanitize`, so that the borrows ``share()`` makes are tracked) and calls the function under
``@checked(exhaustive=True)``. Hypothesis shrinks every distinct failure to a small example, which
is reported by its arguments' kinds, dtypes, shapes and layouts, never their data. `fuzz` (for
test suites) raises the findings; the command line (``aliasguard fuzz module:function``, in
`aliasguard._cli`) prints them, and both search with `run_fuzz`.

Hypothesis is imported only when a fuzz run starts: ``import aliasguard`` stays light.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import random
import traceback
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import torch

from ._annotations import involves_contract, resolved_hints
from ._articles import with_article
from ._checking import checked, is_checked
from ._describing import array_summary, function_name
from ._dtypes import DtypeSpec
from ._errors import AliasGuardError, AliasingError, AnnotationError
from ._frames import is_library_file
from ._numpy_locks import is_locked
from ._optional import missing_extra
from ._sanitizer import sanitize
from ._wrappers import MOVED, Owned, is_ndarray, is_shared, unwrap_unchecked

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

_SHOWN_REPR: Final = 60
#: Where a failing call's exception carries the description of its arguments.
_EXAMPLE_ATTRIBUTE: Final = "_aliasguard_fuzz_example"


# ----------------------------------------------------------------------------------------------
# Findings


@dataclass(frozen=True)
class FuzzFinding:
    """One shrunk failing call found by `fuzz`.

    Attributes:
        error: what the call raised.
        example: ``(parameter, description)`` per argument: kind, dtype, shape and layout, never
            the data.
        flaky: the failure did not happen again when the example was replayed.
    """

    error: BaseException
    example: tuple[tuple[str, str], ...]
    flaky: bool = False

    @property
    def is_violation(self) -> bool:
        """A broken contract (`AliasingError`, `AnnotationError`), not the function's own error."""
        return isinstance(self.error, AliasingError | AnnotationError)

    @property
    def rule(self) -> str:
        """The contract rule broken (``"borrow"``, ``"shape"``, ...), or the exception's type name."""
        if self.is_violation:
            return str(getattr(self.error, "rule", "")) or "contract"
        return type(self.error).__name__

    def headline(self) -> str:
        """The error's first line."""
        lines = str(self.error).strip().splitlines()
        return lines[0] if lines else "(no message)"

    def format(self) -> str:
        """The finding as the command line prints it: kind, rule, first line, shrunk example."""
        name = type(self.error).__name__
        if self.is_violation:
            title = f"contract violation: {name} ({self.rule} rule)"
        else:
            title = (
                f"unexpected exception: {name}, raised by the function itself, not a contract "
                "violation"
            )
        lines = [title, f"  {self.headline()}"]
        where = None if self.is_violation else _raised_at(self.error)
        if where is not None:
            lines.append(f"  raised at {where}")
        if self.flaky:
            lines.append(
                "  flaky: the replayed example did not fail again (state kept between calls?)"
            )
        lines.append("  shrunk failing example:")
        shown = [f"    {parameter} = {text}" for parameter, text in self.example]
        lines += shown or ["    (no arguments)"]
        return "\n".join(lines)


class FuzzError(AliasGuardError, AssertionError):
    """`fuzz` found arguments on which a function breaks its contract or raises.

    Attributes:
        function: the qualified name of the fuzzed function.
        rule: the first finding's rule (``"borrow"``, ``"freshness"``, ``"shape"``, ...), or the
            exception's type name when the function raised something of its own.
        findings: every distinct failure, contract violations first.
    """

    def __init__(
        self,
        message: str,
        *,
        function: str = "",
        rule: str = "",
        findings: tuple[FuzzFinding, ...] = (),
    ) -> None:
        super().__init__(message)
        self.function = function
        self.rule = rule
        self.findings = findings


class ExitCalled(Exception):  # noqa: N818  # named for what the function did, as it is reported
    """The fuzzed function called ``sys.exit()`` (or raised ``SystemExit``): reported as its own
    exception, never taken for the end of the run."""

    def __init__(self, code: object) -> None:
        super().__init__(f"the function called sys.exit({code!r}) instead of returning")
        self.code = code

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.code,))  # the code, not the message, rebuilds it


def _raised_at(error: BaseException) -> str | None:
    """The innermost frame of the traceback outside aliasguard, NumPy and torch."""
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        filename = os.path.abspath(frame.filename)
        if is_library_file(filename):
            continue
        if f"{os.sep}hypothesis{os.sep}" in filename:
            continue
        shown = os.path.relpath(filename) if filename.startswith(os.getcwd() + os.sep) else filename
        found = f"{shown}:{frame.lineno} in {frame.name}"
    return found


# ----------------------------------------------------------------------------------------------
# Describing arguments without their data


def _layout(value: Any) -> list[str]:
    notes: list[str] = []
    if isinstance(value, torch.Tensor):
        if not value.is_contiguous():
            notes.append(f"strides {value.stride()}")
        if value.storage_offset():
            notes.append(f"storage offset {value.storage_offset()}")
        if value.requires_grad:
            notes.append("requires grad")
        if value.is_conj():
            notes.append("conjugate bit")
        if value.is_neg():
            notes.append("negative bit")
        return notes
    array: np.ndarray[Any, Any] = value
    if not array.flags.c_contiguous:
        notes.append(f"byte strides {array.strides}")
    # An array the sanitizer locks for a live borrow is writable as drawn.
    if not array.flags.writeable and not is_locked(array):
        notes.append("read-only")
    if not array.dtype.isnative:
        notes.append("non-native byte order")
    base: object = array
    while is_ndarray(base) and not isinstance(base, np.memmap):
        base = base.base
    if isinstance(base, np.memmap):
        notes.append("memory-mapped")
    return notes


def describe_array(value: Any) -> str:
    """``float32 Tensor of shape (2, 3), strides (1, 2)``: everything but the data."""
    return ", ".join([array_summary(value), *_layout(value)])


def describe_argument(value: object) -> str:
    """An argument as a finding shows it: wrapper kind and provenance, dtype, shape, layout."""
    if is_shared(value):
        inner = unwrap_unchecked(value)
        if inner is MOVED:
            return f"{type(value).__name__} (moved)"
        library = "Tensor" if isinstance(inner, torch.Tensor) else "ndarray"
        if isinstance(value, Owned):
            return f"Owned[{library}]: {describe_array(inner)}"
        source = value.source
        if isinstance(source, np.ndarray | torch.Tensor):
            kind = "Tensor" if isinstance(source, torch.Tensor) else "ndarray"
            notes = _layout(source)
            origin = f"share() of {with_article(kind)}"
            origin += f" ({', '.join(notes)})" if notes else ""
        else:
            origin = "Shared(value)"
        return f"Shared[{library}] via {origin}: {describe_array(inner)}"
    if isinstance(value, np.ndarray | torch.Tensor):
        return describe_array(value)
    if value is None or isinstance(value, bool | int | float | complex | str | bytes):
        text = repr(value)
        return text if len(text) <= _SHOWN_REPR else text[: _SHOWN_REPR - 3] + "..."
    return f"{type(value).__name__} object"


# ----------------------------------------------------------------------------------------------
# Running


def _unchecked(function: Callable[..., Any]) -> Callable[..., Any]:
    """The function under an existing ``@checked``, so each example gets a checker of its own."""
    if is_checked(function):
        inner: object = getattr(function, "__wrapped__", None)
        if callable(inner):
            return inner
    return function


def _has_contract(function: Callable[..., Any]) -> bool:
    try:
        hints = resolved_hints(function)
    except (NameError, TypeError):
        return True  # call_arguments reports the annotation it cannot resolve
    return any(involves_contract(hint) for hint in hints.values())


def _failures_in(error: BaseException) -> list[tuple[BaseException, bool]]:
    """The failures in what Hypothesis raised: one error, or a group of them (``flaky`` marked)."""
    import hypothesis.errors  # lazy: Hypothesis is optional (the fuzz extra)

    # Read as a group by its members: BaseExceptionGroup, or its backport on Python 3.10.
    members: object = getattr(error, "exceptions", None)
    if not isinstance(members, tuple):
        cause = error.__cause__
        if isinstance(error, hypothesis.errors.Flaky) and cause is not None:
            # Hypothesis before 6.108 raises a plain Flaky from the failure that did not replay.
            return [(leaf, True) for leaf, _ in _failures_in(cause)]
        return [(error, False)]
    flaky_type: Any = getattr(hypothesis.errors, "FlakyFailure", ())  # Hypothesis >= 6.108
    flaky = isinstance(error, flaky_type)
    leaves: list[tuple[BaseException, bool]] = []
    for inner in typing.cast("tuple[BaseException, ...]", members):
        leaves += [(leaf, flaky or inner_flaky) for leaf, inner_flaky in _failures_in(inner)]
    return leaves


def require_hypothesis() -> None:
    """Raise the error naming the ``fuzz`` extra when Hypothesis is not installed."""
    if importlib.util.find_spec("hypothesis") is None:
        raise ModuleNotFoundError(
            missing_extra("hypothesis", "aliasguard fuzzing", "it draws and shrinks the arguments"),
            name="hypothesis",
        )


def seed_text(given: int | None, used: int, option: str) -> str:
    """``seed 0`` for a seed the caller chose; how to replay the run for one picked at random."""
    return f"seed {used}" if given is not None else f"seed {used}: replay with {option}{used}"


def random_seed() -> int:
    """A seed for a run the caller left unseeded, so that its report can say how to replay it."""
    return random.SystemRandom().randrange(2**32)


def run_fuzz(
    function: Callable[..., Any],
    *,
    max_examples: int,
    seed: int,
    dtypes: DtypeSpec | Iterable[DtypeSpec] | None = None,
    overrides: Mapping[str, SearchStrategy[Any]] | None = None,
) -> tuple[FuzzFinding, ...]:
    """Fuzz ``function`` and return its shrunk failures, contract violations first (see `fuzz`).

    Raises:
        hypothesis.errors.InvalidArgument: the function cannot be fuzzed (see `fuzz`).
    """
    require_hypothesis()
    # Lazy: Hypothesis is optional (the fuzz extra), and the strategies import it.
    from hypothesis import HealthCheck, Phase, Verbosity, given, seed as seeded, settings

    from .strategies import call_arguments

    target = _unchecked(function)
    _refuse_unfuzzable(target, max_examples)
    strategy = call_arguments(target, dtypes=dtypes, overrides=overrides)

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        report_multiple_bugs=True,
        print_blob=False,
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, Phase.target, Phase.shrink),
        # Slow or large draws are expected here (hard layouts, memory maps): never an error.
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )
    @given(strategy)
    def call(arguments: dict[str, Any]) -> None:
        example = tuple((key, describe_argument(value)) for key, value in arguments.items())
        # A checker per example: @checked remembers recent Owned returns, and a failure that
        # depends on earlier examples could not be shrunk or replayed.
        checked_function = checked(exhaustive=True)(target)
        try:
            try:
                checked_function(**arguments)
            except SystemExit as exit_:
                # Hypothesis lets SystemExit end the whole run, which would read as a clean pass.
                raise ExitCalled(exit_.code) from exit_
        except Exception as error:
            # Read back once Hypothesis has shrunk it; an exception without a __dict__ cannot
            # carry it, and is then reported as it is.
            with contextlib.suppress(AttributeError, TypeError):
                setattr(error, _EXAMPLE_ATTRIBUTE, example)
            raise

    test = seeded(seed)(call)
    try:
        with sanitize():
            test()
    except Exception as error:
        findings = _findings(error)
        if not findings:
            raise  # Hypothesis's own trouble (a health check, an unsatisfiable annotation)
        return findings
    return ()


def _refuse_unfuzzable(target: Callable[..., Any], max_examples: int) -> None:
    """Refuse a run that cannot check anything: a bad count, no contract, or checks turned off.

    Raises:
        hypothesis.errors.InvalidArgument: with the reason and the fix.
    """
    from hypothesis.errors import InvalidArgument  # lazy: Hypothesis is optional (the fuzz extra)

    count = typing.cast("object", max_examples)  # checked: callers without type checkers
    if not isinstance(count, int) or count < 1:
        raise InvalidArgument(
            f"fuzz(max_examples={max_examples!r}) must be a positive int: pass e.g. 100."
        )
    if not _has_contract(target):
        raise InvalidArgument(
            f"fuzz() found no contract to check on {function_name(target)}: none of its "
            "annotations uses Shared, Owned or jaxtyping. Annotate its array parameters and "
            "return value first."
        )
    if not is_checked(checked(target)):
        raise InvalidArgument(
            "fuzz() cannot check contracts while ALIASGUARD_DISABLE is set: @checked returns "
            "functions unchanged. Unset ALIASGUARD_DISABLE (or set it to 0) for the fuzz run."
        )


def _findings(error: BaseException) -> tuple[FuzzFinding, ...]:
    """The calls that failed in what a run raised, contract violations first; none when the
    error is Hypothesis's own."""
    findings = [
        FuzzFinding(leaf, getattr(leaf, _EXAMPLE_ATTRIBUTE), flaky)
        for leaf, flaky in _failures_in(error)
        if hasattr(leaf, _EXAMPLE_ATTRIBUTE)
    ]
    for finding in findings:
        delattr(finding.error, _EXAMPLE_ATTRIBUTE)
        # Hypothesis's notes repeat the example with its data, which reports never show.
        with contextlib.suppress(AttributeError):
            del finding.error.__notes__
    findings.sort(key=lambda finding: not finding.is_violation)
    return tuple(findings)


def fuzz(
    function: Callable[..., Any],
    /,
    *,
    max_examples: int = 100,
    seed: int | None = None,
    dtypes: DtypeSpec | Iterable[DtypeSpec] | None = None,
    overrides: Mapping[str, SearchStrategy[Any]] | None = None,
) -> None:
    """Call ``function`` on arguments drawn from its annotations; raise if one breaks its contract.

    Each example draws keyword arguments with `aliasguard.strategies.call_arguments` (sizes
    consistent across arguments, hard layouts, ``Shared`` made by ``share()``, ``Owned`` by
    ``own()``) and calls the function under ``@checked(exhaustive=True)`` inside `sanitize`. A
    call that raises `AliasingError` or `AnnotationError` breaks the contract; any other exception
    is the function's own, reported as such. Hypothesis shrinks each distinct failure; the error
    shows each one's rule, the error's first line and the arguments' kinds, dtypes, shapes and
    layouts, never their data. Needs Hypothesis (``pip install 'aliasguard[fuzz]'``).

    Args:
        function: a function whose annotations use ``Shared``, ``Owned`` or jaxtyping; one
            already decorated with `checked` is fuzzed undecorated, under a fresh checker.
        max_examples: how many calls to try when none fails.
        seed: make the run reproducible; ``None`` picks one at random, which the error names.
        dtypes: draw only these dtypes (names, NumPy or torch dtypes), for a function that
            supports fewer dtypes than its annotations admit (``Float`` includes float8).
        overrides: strategies for some parameters by name, used instead of their annotations.

    Raises:
        FuzzError: some call broke the contract or raised; also an ``AssertionError``, so pytest
            reports it as a failed test. The first finding's error is chained as the cause.
        hypothesis.errors.InvalidArgument: the function cannot be fuzzed: no annotation uses a
            contract, a required parameter cannot be drawn, or ``ALIASGUARD_DISABLE`` is set.
        ImportError: Hypothesis is not installed.

    Examples:
        >>> import aliasguard
        >>> from jaxtyping import Float
        >>> from torch import Tensor
        >>> def double(x: aliasguard.Shared[Float[Tensor, "n"]]) -> aliasguard.Owned[Float[Tensor, "n"]]:
        ...     return aliasguard.Owned(x.value.float() * 2)
        >>> aliasguard.fuzz(double, max_examples=20, dtypes=["float32"])
    """
    used_seed = random_seed() if seed is None else seed
    findings = run_fuzz(
        function, max_examples=max_examples, seed=used_seed, dtypes=dtypes, overrides=overrides
    )
    if not findings:
        return
    name = function_name(_unchecked(function))
    first = findings[0]
    violations = sum(1 for finding in findings if finding.is_violation)
    if first.is_violation:
        what = f"broke its contract ({type(first.error).__name__}, {first.rule} rule)"
    else:
        what = f"raised {first.rule}, an exception of its own"
    raise FuzzError(
        (
            f"fuzz(): {name} {what} on drawn arguments: fix the function or its annotations; the "
            "shrunk failing examples follow, with each error's first line.\n"
            f"{findings_summary(violations, len(findings) - violations)[:-1]} "
            f"({seed_text(seed, used_seed, 'seed=')})."
            "\n\n" + "\n\n".join(finding.format() for finding in findings)
        ),
        function=name,
        rule=first.rule,
        findings=findings,
    ) from first.error


def findings_summary(violations: int, exceptions: int) -> str:
    """``found 2 contract violations and 1 unexpected exception.``"""
    parts: list[str] = []
    if violations:
        parts.append(f"{violations} contract violation{'s' if violations > 1 else ''}")
    if exceptions:
        parts.append(f"{exceptions} unexpected exception{'s' if exceptions > 1 else ''}")
    return "found " + " and ".join(parts) + "."
