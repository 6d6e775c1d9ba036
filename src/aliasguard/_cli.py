"""The ``aliasguard`` command line.

``aliasguard report`` measures every NumPy <-> PyTorch conversion route on the installed releases
and prints what each one does to each kind of input; ``--json`` prints the same cells for machines.
``aliasguard fuzz module:function`` calls a function on arguments drawn from its annotations and
reports the shrunk calls that break its aliasing contract (see `aliasguard.fuzz`).
``aliasguard run script.py [args]`` (or ``run -m module``) runs a program under the whole-program
sanitizer, raw routes seen (see `aliasguard._run`).

Example:
    .. code-block:: console

        $ aliasguard report
        $ python -m aliasguard report --json > routes.json
        $ aliasguard fuzz examples.pipeline:normalize --max-examples 200 --seed 0
        $ aliasguard run --report train.py --epochs 1
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any, Final

from ._articles import with_article
from ._temp_folders import make_process_folder

if TYPE_CHECKING:
    from ._report import CellResult, Report

# The notes column holds exception messages and warnings, which run to hundreds of characters.
NOTE_WIDTH = 72

_COLUMNS = ("route", "input", "result", "dtype out", "lost", "notes")

_LEGEND = """\
result: shares = the output uses the input's memory (address ranges overlap); copies = it does not;
  raises = an exception (type shown); crashed = the process died (signal shown); timed out.
lost: yes when any value or the shape changed. Ints compare as Python ints, floats exactly
  (NaN equals NaN, -0.0 differs from 0.0), complex numbers part by part.
notes: the exception's or crash's message, warnings emitted, and hazards seen in the result."""


def _shorten(text: str, width: int = NOTE_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _result_text(cell: CellResult) -> str:
    if cell.outcome == "raises":
        return f"raises {cell.error_type}"
    if cell.outcome == "crashed":
        return f"crashed {cell.signal or ''}".rstrip()
    return cell.outcome


def _lost_text(cell: CellResult) -> str:
    if cell.values_lost is None:
        return "-"
    return "yes" if cell.values_lost else "no"


def _notes(cell: CellResult) -> list[str]:
    notes = [cell.error_message] if cell.error_message else []
    return [_shorten(note) for note in [*notes, *cell.hazards]]


def _rows(cell: CellResult) -> list[tuple[str, ...]]:
    """One line per note, so long notes stack under each other instead of widening the table."""
    notes = _notes(cell) or [""]
    first: tuple[str, ...] = (
        cell.route,
        cell.input,
        _result_text(cell),
        cell.dtype_out or "-",
        _lost_text(cell),
        notes[0],
    )
    return [first] + [("", "", "", "", "", note) for note in notes[1:]]


def _summary(cells: Sequence[CellResult]) -> str:
    counts = Counter(cell.outcome for cell in cells)
    lost = sum(1 for cell in cells if cell.values_lost)
    parts = [f"{counts[outcome]} {outcome}" for outcome in sorted(counts)]
    return f"{len(cells)} cells: {', '.join(parts)}; {lost} lose values."


def format_table(report: Report) -> str:
    """Render `report` as a plain-text table, one row per (route, input) cell.

    Args:
        report: what :func:`aliasguard._report.run_report` measured.

    Returns:
        The header line with versions, the table, a summary and a legend, newline-terminated.
    """
    versions = report.versions
    header = (
        f"aliasguard report: python {versions.get('python', '?')}, "
        f"numpy {versions.get('numpy', '?')}, torch {versions.get('torch', '?')} "
        f"({versions.get('platform', '?')}). Every cell was measured just now."
    )
    groups: list[list[tuple[str, ...]]] = []
    for cell in report.cells:
        if not groups or groups[-1][0][0] != cell.route:
            groups.append([])
        groups[-1].extend(_rows(cell))
    widths = [
        max([len(_COLUMNS[index])] + [len(row[index]) for group in groups for row in group])
        for index in range(len(_COLUMNS))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(value.ljust(width) for value, width in zip(values, widths, strict=True))

    lines = [header, "", line(_COLUMNS).rstrip(), line(["-" * width for width in widths])]
    for group in groups:
        lines.extend(line(row).rstrip() for row in group)
        lines.append("")
    lines += [_summary(report.cells), "", _LEGEND]
    return "\n".join(lines) + "\n"


def _run_report_command(*, as_json: bool) -> int:
    # Lazy: the measurement imports torch and starts worker processes; --help needs neither.
    from ._report import ReportError, run_report

    try:
        report = run_report()
    except ReportError as error:
        sys.stderr.write(f"aliasguard report: {error}\n")
        return 1
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write(format_table(report))
    return 0


# ----------------------------------------------------------------------------------------------
# aliasguard fuzz

#: Exit statuses of ``aliasguard fuzz``.
EXIT_CLEAN: Final = 0
EXIT_VIOLATION: Final = 1
EXIT_USAGE: Final = 2  # argparse's status for bad arguments: an unloadable or unfuzzable target
EXIT_EXCEPTION: Final = 3


class TargetError(Exception):
    """``aliasguard fuzz`` cannot load the function it was given."""


def load_target(text: str) -> Callable[..., Any]:
    """The function named by ``module:qualified.name``, imported as ``python -m`` would find it.

    Raises:
        TargetError: the text is malformed, the module cannot be imported, or the name is missing
            or not callable.
    """
    module_name, separator, qualified_name = text.partition(":")
    if not separator or not module_name or not qualified_name:
        raise TargetError(
            f"cannot fuzz {text!r}: the target is MODULE:FUNCTION, e.g. "
            "examples.pipeline:normalize. Name the module, a colon, then the function."
        )
    # As `python -m` does, so that modules in the current directory are found.
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found: object = importlib.import_module(module_name)
    except (Exception, SystemExit) as error:  # a module that calls sys.exit() or parses argv
        raise TargetError(
            f"cannot fuzz {text!r}: importing {module_name} failed ({type(error).__name__}: "
            f"{error}). Check the module name, and that its directory is on PYTHONPATH."
        ) from error
    for part in qualified_name.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise TargetError(
                f"cannot fuzz {text!r}: {module_name} has no attribute {qualified_name!r}. "
                "Check the function's name (methods as Class.method)."
            ) from None
    if not callable(found):
        kind = type(found).__name__
        raise TargetError(
            f"cannot fuzz {text!r}: {module_name}.{qualified_name} is {with_article(kind)}, not a "
            "function. Name a function (or a Class.method) after the colon."
        )
    return found


@contextlib.contextmanager
def _hypothesis_files_in_a_temp_folder() -> Generator[None, None, None]:
    """Point Hypothesis's storage (its constants and character caches) away from the cwd.

    The run asks for no example database, yet Hypothesis still writes caches under ``./.hypothesis``;
    a command run in someone's project must leave nothing there.
    """
    from hypothesis import configuration  # lazy: Hypothesis is optional (the fuzz extra)

    folder = make_process_folder("fuzz")
    configuration.set_hypothesis_home_dir(folder)
    try:
        yield
    finally:
        configuration.set_hypothesis_home_dir(None)
        shutil.rmtree(folder, ignore_errors=True)


def fuzz_command(
    target: str, *, max_examples: int, seed: int | None, dtypes: list[str] | None
) -> int:
    """Run ``aliasguard fuzz``: print the findings to stdout, problems to stderr.

    Returns:
        0 when no call failed in ``max_examples`` examples; 1 when a contract was broken; 3 when
        the function only raised exceptions of its own; 2 when the target cannot be fuzzed.
    """
    # Lazy: fuzzing imports Hypothesis, torch and the target; --help needs none of them.
    from ._fuzz import findings_summary, random_seed, require_hypothesis, run_fuzz, seed_text

    try:
        require_hypothesis()
    except ImportError as error:
        sys.stderr.write(f"aliasguard fuzz: {error}\n")
        return EXIT_USAGE
    from hypothesis.errors import HypothesisException  # lazy: Hypothesis is optional

    used_seed = random_seed() if seed is None else seed
    try:
        with _hypothesis_files_in_a_temp_folder():
            function = load_target(target)
            findings = run_fuzz(function, max_examples=max_examples, seed=used_seed, dtypes=dtypes)
    except TargetError as error:
        sys.stderr.write(f"aliasguard fuzz: {error}\n")
        return EXIT_USAGE
    except (HypothesisException, TypeError) as error:  # InvalidArgument is both
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        sys.stderr.write(f"aliasguard fuzz: cannot fuzz {target}: {first_line}\n")
        return EXIT_USAGE
    if not findings:
        sys.stdout.write(
            f"aliasguard fuzz {target}: no contract violation or unexpected exception in up to "
            f"{max_examples} examples (seed {used_seed}).\n"
        )
        return EXIT_CLEAN
    violations = sum(1 for finding in findings if finding.is_violation)
    sys.stdout.write(
        f"aliasguard fuzz {target}: {findings_summary(violations, len(findings) - violations)[:-1]} "
        f"({seed_text(seed, used_seed, '--seed ')}).\n\n"
        + "\n\n".join(finding.format() for finding in findings)
        + "\n"
    )
    return EXIT_VIOLATION if violations else EXIT_EXCEPTION


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number; pass e.g. 100")
    return value


def _dtype_names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(
            f"{text!r} names no dtype; pass comma-separated names, e.g. float32,int64"
        )
    return names


_FUZZ_EPILOG = """\
exit status: 0 when no call failed, 1 when a call broke the contract (AliasingError or
AnnotationError), 3 when calls only raised exceptions of the function's own, 2 when the target
cannot be loaded or fuzzed. Modules are imported from the current directory and PYTHONPATH."""


def _add_fuzz_command(commands: Any) -> None:
    fuzz = commands.add_parser(
        "fuzz",
        help="call a function on arguments drawn from its annotations; report contract breaks",
        description=(
            "Draw keyword arguments from the annotations of MODULE:FUNCTION (Shared, Owned, "
            "jaxtyping: sizes consistent across arguments, hard layouts, share()- and "
            "own()-made values), call it under @checked and sanitize(), and print each shrunk "
            "failing call: the rule it broke (or the exception it raised), the error's first "
            "line, and the arguments' kinds, dtypes, shapes and layouts, never their data."
        ),
        epilog=_FUZZ_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fuzz.add_argument("target", metavar="MODULE:FUNCTION", help="e.g. examples.pipeline:normalize")
    fuzz.add_argument(
        "--max-examples",
        type=_positive_int,
        default=100,
        metavar="N",
        help="calls to try when none fails (default: 100)",
    )
    fuzz.add_argument(
        "--seed", type=int, default=None, help="make the run reproducible (default: random)"
    )
    fuzz.add_argument(
        "--dtypes",
        type=_dtype_names,
        default=None,
        metavar="NAMES",
        help="draw only these dtypes, comma-separated (e.g. float32,int64), for a function that "
        "supports fewer than its annotations admit",
    )


_RUN_EPILOG = """\
exit status: the program's own; 1 when --report found something or a finding was raised.
Suppressions file: one 'alias:PATTERN' or 'write:PATTERN' per line ('#' comments), PATTERN a glob
over file:line or a function name of the site that made the alias or that wrote."""


def _add_run_command(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="run a Python program with the whole-program sanitizer, raw routes seen",
        description=(
            "Run SCRIPT (or -m MODULE) inside aliasguard.sanitize(raw_routes=True): "
            "torch.from_numpy, Tensor.numpy(), np.asarray(tensor), torch.as_tensor/asarray and "
            "the DLPack routes are recorded, and a torch write into memory a live NumPy array "
            "views raises AliasingError before it happens, naming both sites. NumPy writes into "
            "memory a live tensor views are refused by NumPy, with a note naming the alias."
        ),
        epilog=_RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--report",
        action="store_true",
        help="collect torch-side findings instead of raising, print them at exit (one per pair "
        "of sites, both stacks) and exit with status 1 when there is any",
    )
    run.add_argument(
        "--suppressions", metavar="FILE", default=None, help="findings to ignore (see below)"
    )
    run.add_argument("-m", dest="module", metavar="MODULE", help="run a module, as python -m does")
    run.add_argument("program", nargs=argparse.REMAINDER, help="SCRIPT [ARGS...] or ARGS for -m")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aliasguard",
        description="Safe, explicit NumPy <-> PyTorch conversion: tools.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    report = commands.add_parser(
        "report",
        help="measure what every NumPy <-> torch conversion route does on this installation",
        description=(
            "Call every NumPy <-> torch conversion route (torch.from_numpy, torch.tensor, "
            "np.from_dlpack, aliasguard.share, ...) on a set of inputs (negative strides, "
            "read-only, big-endian, conj bit, bfloat16, ...) and report whether each shares "
            "memory, copies, raises or crashes, the dtype out and whether values were lost. "
            "Routes run in a worker process, so one that aborts costs a cell, not the report."
        ),
    )
    report.add_argument(
        "--json", action="store_true", help="print the cells as JSON instead of a table"
    )
    _add_fuzz_command(commands)
    _add_run_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``aliasguard`` command line.

    Args:
        argv: the arguments after the program name; None reads ``sys.argv``.

    Returns:
        The exit status. ``report``: 0 when the report was measured (crashing cells included), 1
        when the measurement could not run at all. ``fuzz``: 0 when no call failed, 1 for a
        contract violation, 3 for exceptions of the function's own only, 2 when the target cannot
        be fuzzed. Bad arguments exit with status 2, as argparse does; Ctrl-C exits with 130.
    """
    arguments = _parser().parse_args(argv)
    try:
        return _run(arguments)
    except KeyboardInterrupt:
        # Ctrl-C is the user's decision, not a failure to report with a traceback.
        sys.stderr.write(f"aliasguard {arguments.command}: interrupted, nothing more was run.\n")
        return 130


def _run(arguments: argparse.Namespace) -> int:
    if arguments.command == "report":
        return _run_report_command(as_json=bool(arguments.json))
    if arguments.command == "fuzz":
        return fuzz_command(
            arguments.target,
            max_examples=arguments.max_examples,
            seed=arguments.seed,
            dtypes=arguments.dtypes,
        )
    if arguments.command == "run":
        # Lazy: the sanitizer imports torch; --help needs none of it.
        from ._run import run_command

        return run_command(
            arguments.module,
            list(arguments.program),
            report=bool(arguments.report),
            suppressions=arguments.suppressions,
        )
    return 2  # unreachable: argparse rejects unknown commands, kept for the type checker
