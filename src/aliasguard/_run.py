"""``aliasguard run``: a whole program under the sanitizer, raw routes seen, no annotation needed.

Like ``coverage run`` or torch's CUDA sanitizer: the program runs as ``python script.py`` or
``python -m module`` would run it (``sys.argv``, ``sys.path[0]``, ``__main__``), inside
``sanitize(raw_routes=True)``. In raise mode (the default) the first finding stops the program with
its traceback; with ``--report`` torch-side findings are collected, one per pair of sites, and
printed at exit with both stacks.
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback

from ._sanitizer import (
    Finding,
    clear_findings,
    configure,
    findings,
    load_suppressions,
    sanitize,
)


def run_command(
    module: str | None, program: list[str], *, report: bool, suppressions: str | None
) -> int:
    """Run the program; return the exit status (see the ``run`` command's help)."""
    if module is None and not program:
        sys.stderr.write(
            "aliasguard run: no program given: name a script (aliasguard run train.py --epochs 1) "
            "or a module (aliasguard run -m package.train).\n"
        )
        return 2
    try:
        rules = [] if suppressions is None else load_suppressions(suppressions)
    except (OSError, ValueError) as error:
        sys.stderr.write(f"aliasguard run: cannot read the suppressions: {error}\n")
        return 2
    configure(report=report, suppressions=rules)
    clear_findings()
    status = _run_program(module, program)
    if report:
        found = findings()
        _print_findings(found)
        if found and status == 0:
            status = 1
    configure(report=False, suppressions=[])
    return status


def _run_program(module: str | None, program: list[str]) -> int:
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    try:
        if module is not None:
            sys.argv = [module, *program]
            sys.path.insert(0, os.getcwd())
            with sanitize(raw_routes=True):
                runpy.run_module(module, run_name="__main__", alter_sys=True)
        else:
            script = program[0]
            sys.argv = program[:]
            sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
            with sanitize(raw_routes=True):
                runpy.run_path(script, run_name="__main__")
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except BaseException as error:  # the program's own failure: shown as Python shows it
        traceback.print_exception(error)
        return 1
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return 0


def _print_findings(found: list[Finding]) -> None:
    if not found:
        sys.stderr.write("aliasguard run: no cross-library write found.\n")
        return
    count = f"{len(found)} cross-library write{'s' if len(found) != 1 else ''}"
    sys.stderr.write(f"aliasguard run: found {count} (one per pair of sites).\n")
    for number, finding in enumerate(found, start=1):
        sys.stderr.write(f"\n[{number}] {finding.message()}")
