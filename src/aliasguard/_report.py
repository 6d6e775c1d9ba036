"""Measure every NumPy <-> PyTorch conversion route on the NumPy and torch installed right now.

Nothing here is hard-coded: each (route, input) cell builds a fresh input, calls the route and
observes what came back: whether the result shares memory with the input, its dtype, whether any
value changed, and which warnings fired. Release notes and blog posts go stale; this table is what
the installed releases do today.

Some routes abort the whole interpreter instead of raising (``torch.from_dlpack`` on a
negative-stride array, pytorch #188023), so cells never run in the calling process. A worker
subprocess evaluates them and streams one JSON line per cell; when the worker dies, the cell it was
on is recorded as crashed, with the signal, and a fresh worker carries on from the next cell.

Example:
    >>> from aliasguard._report import run_report
    >>> report = run_report([("torch.from_numpy", "ndarray float32")])  # doctest: +SKIP
    >>> report.cells[0].outcome  # doctest: +SKIP
    'shares'
"""

from __future__ import annotations

import functools
import json
import math
import os
import platform
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import typing
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal, TypeAlias

import numpy as np
import torch

from ._memory import shares_memory
from ._report_cases import (
    INPUTS_BY_NAME,
    ROUTES_BY_NAME,
    ArrayOrTensor,
    CellKey,
    InputCase,
    Route,
    planned_cells,
)

Outcome: TypeAlias = Literal["shares", "copies", "raises", "crashed", "timed out"]

# Importing torch dominates a worker's start; a cold disk can make it slow, a single cell cannot.
WORKER_START_TIMEOUT_SECONDS = 120.0
CELL_TIMEOUT_SECONDS = 20.0


class ReportError(RuntimeError):
    """The measurement itself failed (the worker could not start or spoke garbage), not a cell."""


# ---------------------------------------------------------------------------------------------
# Observing one call.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellResult:
    """What one route did to one input.

    Attributes:
        route: the route's name.
        input: the input's name.
        outcome: ``shares`` / ``copies`` when a result came back, ``raises`` for an exception,
            ``crashed`` when the process died, ``timed out`` when it never answered.
        dtype_out: the result's dtype as its library prints it; None without a result.
        values_lost: whether any value or the shape changed; None without a result.
        error_type: the exception class name (``raises``) or None.
        error_message: the exception's first line, or what a crashed process printed last.
        signal: the signal that killed the worker (``crashed``), e.g. ``SIGABRT``.
        hazards: what else was observed: warnings emitted, writable views of read-only data.
    """

    route: str
    input: str
    outcome: Outcome
    dtype_out: str | None = None
    values_lost: bool | None = None
    error_type: str | None = None
    error_message: str | None = None
    signal: str | None = None
    hazards: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        """The cell as a JSON-ready dict, one key per attribute."""
        return {
            "route": self.route,
            "input": self.input,
            "outcome": self.outcome,
            "dtype_out": self.dtype_out,
            "values_lost": self.values_lost,
            "error_type": self.error_type,
            "error_message": self.error_message,
            "signal": self.signal,
            "hazards": list(self.hazards),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CellResult:
        """Rebuild a cell from :meth:`to_json` output, as the worker sends it."""
        outcome = data["outcome"]
        if outcome not in typing.get_args(Outcome):
            raise ReportError(
                f"worker sent an unknown outcome {outcome!r}: the worker and parent disagree "
                "on the protocol. Reinstall aliasguard so both run the same code."
            )
        return cls(
            route=str(data["route"]),
            input=str(data["input"]),
            outcome=outcome,
            dtype_out=data["dtype_out"],
            values_lost=data["values_lost"],
            error_type=data["error_type"],
            error_message=data["error_message"],
            signal=data["signal"],
            hazards=tuple(str(hazard) for hazard in data["hazards"]),
        )


def _first_line(text: object) -> str:
    lines = str(text).strip().splitlines()
    return lines[0].strip() if lines else ""


def _flattened(nested: object) -> list[object]:
    if isinstance(nested, list):
        return [leaf for item in typing.cast("list[object]", nested) for leaf in _flattened(item)]
    return [nested]


def _python_values(value: ArrayOrTensor) -> list[object]:
    # tolist() resolves conj and neg bits and gives exact Python numbers, bfloat16 included.
    nested = typing.cast("object", value.tolist())  # pyright: ignore[reportUnknownMemberType]
    return _flattened(nested)


def _same_real(expected: object, actual: object) -> bool:
    if isinstance(expected, float) and isinstance(actual, float):
        if math.isnan(expected) or math.isnan(actual):
            return math.isnan(expected) and math.isnan(actual)
        # == alone calls -0.0 and 0.0 equal; a sign flip is a lost value.
        return expected == actual and math.copysign(1.0, expected) == math.copysign(1.0, actual)
    # Python compares int with int or float exactly: 2**53 + 1 != 9007199254740992.0.
    return expected == actual


def _parts(number: object) -> tuple[object, object]:
    if isinstance(number, complex):
        return number.real, number.imag
    return number, 0


def same_values(expected: Iterable[object], actual: Iterable[object]) -> bool:
    """Whether two flat sequences of Python numbers are exactly equal, element by element.

    Ints compare as Python ints (no rounding through float), floats compare NaN-aware and with the
    sign of zero, complex numbers compare part by part.

    Example:
        >>> same_values([2**53 + 1], [float(2**53 + 1)])
        False
    """
    expected_list, actual_list = list(expected), list(actual)
    if len(expected_list) != len(actual_list):
        return False
    for expected_number, actual_number in zip(expected_list, actual_list, strict=True):
        expected_real, expected_imag = _parts(expected_number)
        actual_real, actual_imag = _parts(actual_number)
        if not (_same_real(expected_real, actual_real) and _same_real(expected_imag, actual_imag)):
            return False
    return True


def _values_lost(source: ArrayOrTensor, result: ArrayOrTensor) -> bool:
    if tuple(source.shape) != tuple(result.shape):
        return True
    return not same_values(_python_values(source), _python_values(result))


def _dtype_text(value: ArrayOrTensor) -> str:
    return str(value.dtype)


def _is_writable(value: ArrayOrTensor) -> bool:
    # torch has no read-only tensors: every tensor accepts in-place writes.
    return value.flags.writeable if isinstance(value, np.ndarray) else True


def _has_self_overlap(value: ArrayOrTensor) -> bool:
    shape = tuple(value.shape)
    strides = tuple(value.stride()) if isinstance(value, torch.Tensor) else value.strides
    return any(stride == 0 and size > 1 for size, stride in zip(shape, strides, strict=True))


def _observed_hazards(source: ArrayOrTensor, result: ArrayOrTensor, shares: bool) -> list[str]:
    hazards: list[str] = []
    if shares and not _is_writable(source) and _is_writable(result):
        hazards.append("result is writable although the input is read-only")
    if _is_writable(result) and _has_self_overlap(result):
        hazards.append("result is writable with a zero stride: one write changes several elements")
    return hazards


def _bind(route: Route, case: InputCase, source: ArrayOrTensor) -> Callable[[], ArrayOrTensor]:
    if isinstance(source, np.ndarray):
        if route.from_numpy is not None:
            return functools.partial(route.from_numpy, source)
    elif route.from_torch is not None:
        return functools.partial(route.from_torch, source)
    raise ValueError(
        f"route {route.name!r} takes no {case.library} input such as {case.name!r}: the pair is "
        "not part of the report. Pick a pair from planned_cells()."
    )


def _warning_text(warning: warnings.WarningMessage) -> str:
    return f"{warning.category.__name__}: {_first_line(warning.message)}"


def measure_cell(route: Route, case: InputCase) -> CellResult:
    """Call `route` on a fresh `case` input and record what happened.

    This runs the call in the current process: a route that aborts takes the caller with it. Use
    :func:`run_report` for anything that might crash.

    Raises:
        ValueError: `route` does not accept `case`'s library; nothing was called.
    """
    source = case.build()
    call = _bind(route, case, source)
    with warnings.catch_warnings(record=True) as caught:
        # "always" so a warning that already fired in an earlier cell is seen again here.
        warnings.simplefilter("always")
        try:
            result = call()
        except Exception as error:
            return CellResult(
                route=route.name,
                input=case.name,
                outcome="raises",
                error_type=type(error).__name__,
                error_message=_first_line(error),
                hazards=tuple(_warning_text(warning) for warning in caught),
            )
    shares = shares_memory(source, result)
    hazards = [_warning_text(warning) for warning in caught]
    hazards += _observed_hazards(source, result, shares)
    return CellResult(
        route=route.name,
        input=case.name,
        outcome="shares" if shares else "copies",
        dtype_out=_dtype_text(result),
        values_lost=_values_lost(source, result),
        hazards=tuple(hazards),
    )


# ---------------------------------------------------------------------------------------------
# Running cells in a worker process, so a route that aborts costs one cell, not the report.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """Every measured cell, with the versions the worker measured them on.

    Attributes:
        versions: ``python``, ``numpy``, ``torch`` and ``platform`` of the worker.
        cells: one result per (route, input) pair, in table order.
    """

    versions: dict[str, str]
    cells: tuple[CellResult, ...]

    def to_json(self) -> dict[str, object]:
        """The report as a JSON-ready dict: ``{"versions": {...}, "cells": [...]}``."""
        return {"versions": dict(self.versions), "cells": [cell.to_json() for cell in self.cells]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        """Rebuild a report from :meth:`to_json` output, such as ``aliasguard report --json``."""
        versions = {str(key): str(value) for key, value in dict(data["versions"]).items()}
        return cls(
            versions=versions, cells=tuple(CellResult.from_json(cell) for cell in data["cells"])
        )

    def cell(self, route: str, input_name: str) -> CellResult:
        """The result for one (route, input) pair.

        Raises:
            KeyError: the report has no such cell.
        """
        for cell in self.cells:
            if (cell.route, cell.input) == (route, input_name):
                return cell
        raise KeyError((route, input_name))


@dataclass(frozen=True)
class _WorkerExit:
    outcome: Literal["crashed", "timed out"]
    signal: str | None
    message: str


def _signal_name(returncode: int) -> str | None:
    # POSIX reports death by signal as a negative return code; Windows has no such convention.
    if returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def _crash_message(stderr_text: str, returncode: int) -> str:
    lines = [line.strip() for line in stderr_text.splitlines() if line.strip()]
    # A C++ exception that escapes into std::terminate prints its message after "what():".
    for line in lines:
        if line.startswith("what():"):
            return line.removeprefix("what():").strip()
    if lines:
        return lines[-1]
    return f"the worker exited with status {returncode} and printed nothing"


def _worker_environment() -> dict[str, str]:
    # The worker must import this very aliasguard (a source checkout, an editable install), so it
    # gets the parent's import path, the way multiprocessing's spawn start method does.
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(sys.path)
    return environment


class _Worker:
    """One worker process measuring a list of cells, read line by line with a timeout."""

    def __init__(self, keys: Sequence[CellKey]) -> None:
        # A file, not a pipe: nobody reads stderr until the worker is gone, and a full pipe would
        # stall it. close() closes the file.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self._process = subprocess.Popen(
            [sys.executable, "-m", "aliasguard._report", "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=_worker_environment(),
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        # A thread, not select(): select() cannot wait on pipes on Windows.
        threading.Thread(target=self._pump, args=(self._process.stdout,), daemon=True).start()
        stdin = self._process.stdin
        assert stdin is not None  # Popen(stdin=PIPE) always sets it
        try:
            stdin.write(json.dumps([list(key) for key in keys]) + "\n")
            stdin.close()
        except BrokenPipeError:
            pass  # the worker died while starting; next_message() reports how

    def _pump(self, stream: IO[str] | None) -> None:
        if stream is not None:
            for line in stream:
                self._lines.put(line)
        self._lines.put(None)

    def next_message(self, timeout: float) -> dict[str, Any] | _WorkerExit:
        """The next protocol message, or how the worker ended if it sends none in time."""
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                self._process.kill()
                self._process.wait()
                return _WorkerExit(
                    "timed out", None, f"no answer within {timeout:g} s; the worker was killed"
                )
            if line is None:
                returncode = self._process.wait()
                self._stderr.seek(0)
                stderr_text = self._stderr.read().decode("utf-8", errors="replace")
                return _WorkerExit(
                    "crashed", _signal_name(returncode), _crash_message(stderr_text, returncode)
                )
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue  # stray output from a library; protocol lines are always JSON
            if isinstance(message, dict):
                return message  # pyright: ignore[reportUnknownVariableType]

    def close(self) -> None:
        """Stop the worker if it still runs and release its pipes."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._stderr.close()


def _crashed_cell(key: CellKey, exit_: _WorkerExit) -> CellResult:
    return CellResult(
        route=key[0],
        input=key[1],
        outcome=exit_.outcome,
        signal=exit_.signal,
        error_message=exit_.message,
    )


def _measure_in_one_worker(
    pending: Sequence[CellKey], cell_timeout: float
) -> tuple[dict[str, str], list[CellResult]]:
    """Measure cells until `pending` is done or the worker dies; the dead cell comes last."""
    worker = _Worker(pending)
    try:
        ready = worker.next_message(WORKER_START_TIMEOUT_SECONDS)
        if isinstance(ready, _WorkerExit) or "ready" not in ready:
            detail = ready.message if isinstance(ready, _WorkerExit) else f"it sent {ready!r}"
            raise ReportError(
                f"the report worker failed before measuring anything ({detail}). "
                "Check that `python -c 'import aliasguard._report'` runs cleanly with this "
                "Python, and reinstall aliasguard if it does not."
            )
        versions = {str(key): str(value) for key, value in dict(ready["ready"]).items()}
        results: list[CellResult] = []
        for key in pending:
            message = worker.next_message(cell_timeout)
            if isinstance(message, _WorkerExit):
                results.append(_crashed_cell(key, message))
                break
            result = CellResult.from_json(message["cell"])
            if (result.route, result.input) != key:
                raise ReportError(
                    f"the worker answered {(result.route, result.input)!r} where {key!r} was "
                    "due: the parent and worker run different code. Reinstall aliasguard."
                )
            results.append(result)
        return versions, results
    finally:
        worker.close()


def run_report(
    cells: Iterable[CellKey] | None = None, *, cell_timeout: float = CELL_TIMEOUT_SECONDS
) -> Report:
    """Measure `cells` (default: every planned cell) in worker processes.

    A cell that kills its worker is recorded as ``crashed`` with the signal; a cell that hangs for
    `cell_timeout` seconds as ``timed out``. Either way a fresh worker takes the next cell.

    Args:
        cells: (route name, input name) pairs; see :func:`planned_cells`.
        cell_timeout: seconds one cell may take before its worker is killed.

    Returns:
        The report, cells in the order given.

    Raises:
        ValueError: a pair names an unknown route or input, or a route that does not take it.
        ReportError: a worker could not start, so nothing could be measured.
    """
    pending = list(cells) if cells is not None else planned_cells()
    for route_name, input_name in pending:
        route, case = ROUTES_BY_NAME.get(route_name), INPUTS_BY_NAME.get(input_name)
        if route is None or case is None or not route.accepts(case):
            raise ValueError(
                f"run_report() got the cell ({route_name!r}, {input_name!r}), which the report "
                "does not plan. Pick cells from planned_cells()."
            )
    versions: dict[str, str] = {}
    results: list[CellResult] = []
    while pending:
        versions, measured = _measure_in_one_worker(pending, cell_timeout)
        results += measured
        pending = pending[len(measured) :]
    return Report(versions=versions, cells=tuple(results))


def _versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "platform": platform.platform(),
    }


def _send(stream: IO[str], message: dict[str, object]) -> None:
    # One write and a flush per line: a worker that aborts mid-cell must leave whole lines behind.
    stream.write(json.dumps(message) + "\n")
    stream.flush()


def worker_main(stdin: IO[str], stdout: IO[str]) -> int:
    """Measure the cells listed on `stdin` (one JSON line) and stream one JSON line per cell."""
    # torch emits some warnings (the read-only array one) once per process; each cell must see
    # its own, whichever cell ran first.
    torch.set_warn_always(True)
    keys = json.loads(stdin.readline())
    _send(stdout, {"ready": _versions()})
    for route_name, input_name in keys:
        result = measure_cell(ROUTES_BY_NAME[route_name], INPUTS_BY_NAME[input_name])
        _send(stdout, {"cell": result.to_json()})
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["--worker"]:
        sys.stderr.write(
            "aliasguard._report is the report's worker and takes only --worker: "
            "it is started by `aliasguard report`. Run that instead.\n"
        )
        raise SystemExit(2)
    raise SystemExit(worker_main(sys.stdin, sys.stdout))
