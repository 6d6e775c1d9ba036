"""The ``aliasguard`` command line.

``aliasguard report`` measures every NumPy <-> PyTorch conversion route on the installed releases
and prints what each one does to each kind of input; ``--json`` prints the same cells for machines.

Example:
    .. code-block:: console

        $ aliasguard report
        $ python -m aliasguard report --json > routes.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._report import CellResult, Report

__all__ = ["format_table", "main"]

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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``aliasguard`` command line.

    Args:
        argv: the arguments after the program name; None reads ``sys.argv``.

    Returns:
        The exit status: 0 when the report was measured (crashing cells included), 1 when the
        measurement could not run at all. Bad arguments exit with status 2, as argparse does.
    """
    arguments = _parser().parse_args(argv)
    if arguments.command == "report":
        return _run_report_command(as_json=bool(arguments.json))
    return 2  # unreachable: argparse rejects unknown commands, kept for the type checker
