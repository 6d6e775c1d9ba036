"""Helpers that three or more test modules use: annotations built at run time, addresses and
values of arrays and tensors, and fresh interpreters to run code or the command line in.

Imported as ``helpers`` (``tests`` is on pytest's ``pythonpath``), like ``versions`` and
``dtype_names``. Nothing here imports Hypothesis: the unit tests collect without the fuzz extra.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

#: Seconds a child interpreter may run unless a test says otherwise.
SUBPROCESS_TIMEOUT_S = 120


def subscript(generic: Any, item: object) -> Any:
    """``generic[item]`` for annotations built at run time, or that static checkers rightly
    refuse (``Shared[int]``)."""
    return generic[item]


def as_list(x: npt.NDArray[Any] | torch.Tensor) -> Any:
    """The values of an array or tensor as (nested) Python lists."""
    return np.asarray(x).tolist()


def address(value: npt.NDArray[Any] | torch.Tensor) -> int:
    """The address of the first element of an array or tensor."""
    if isinstance(value, torch.Tensor):
        return value.data_ptr()
    return int(value.ctypes.data)


def _disable_core_dumps() -> None:
    # A child killed by SIGABRT on purpose must not leave a core file behind.
    import resource  # POSIX only: imported in the child, where the caller checked for POSIX

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_python(
    code: str,
    *,
    warnings_as_errors: bool = False,
    timeout: float = SUBPROCESS_TIMEOUT_S,
    core_dumps: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (dedented) in a fresh interpreter; its status is the caller's to check.

    A fresh interpreter starts with clean once-per-process state: torch's warnings that fire once,
    modules not yet imported, ``sys.modules`` entries a test sets to hide an optional module.

    Args:
        code: the program.
        warnings_as_errors: run it under ``-W error``: torch emits some warnings once per
            process, so only a fresh one shows whether aliasguard lets them through to users.
        timeout: seconds before the child is killed and the test fails.
        core_dumps: ``False`` for a child expected to abort (POSIX only).
    """
    flags = ["-W", "error"] if warnings_as_errors else []
    return subprocess.run(
        [sys.executable, *flags, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=None if core_dumps or os.name != "posix" else _disable_core_dumps,
    )


def run_aliasguard(
    *arguments: str, cwd: Path | None = None, timeout: float = SUBPROCESS_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """``python -m aliasguard ARGUMENTS`` in a fresh interpreter; its status is the caller's to
    check."""
    return subprocess.run(
        [sys.executable, "-m", "aliasguard", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
