"""`aliasguard report`: every cell is measured, and the measurements say what torch really does.

The full report runs once, through the real command line in a subprocess (module fixture); the
tests below read that JSON. Assertions pin the behaviour measured on the releases named in
docs/conversions.md, so a torch or NumPy release that changes a route fails here instead of leaving
a stale table.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import torch
from numpy.typing import NDArray

from aliasguard import _cli, _report
from aliasguard._report import CellResult, Report, measure_cell, run_report, same_values
from aliasguard._report_cases import INPUTS, INPUTS_BY_NAME, ROUTES, ROUTES_BY_NAME, planned_cells
from helpers import run_aliasguard

REPORT_TIMEOUT_SECONDS = 180
BEYOND_FLOAT64 = 2**53 + 1
NUMPY_INPUTS = [case.name for case in INPUTS if case.library == "numpy"]
TENSOR_INPUTS = [case.name for case in INPUTS if case.library == "torch"]


@pytest.fixture(scope="module")
def cli_run() -> subprocess.CompletedProcess[str]:
    """``python -m aliasguard report --json``, run once for the whole module."""
    return run_aliasguard("report", "--json", timeout=REPORT_TIMEOUT_SECONDS)


@pytest.fixture(scope="module")
def report_json(cli_run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(cli_run.stdout)
    return data


@pytest.fixture(scope="module")
def report(report_json: dict[str, Any]) -> Report:
    return Report.from_json(report_json)


# ---------------------------------------------------------------------------------------------
# The command line and the shape of its output.


@pytest.mark.slow
def test_cli_exits_zero_even_though_a_cell_may_crash(
    cli_run: subprocess.CompletedProcess[str],
) -> None:
    assert cli_run.returncode == 0, cli_run.stderr


@pytest.mark.slow
def test_json_has_exactly_one_cell_per_route_and_applicable_input(
    report_json: dict[str, Any],
) -> None:
    keys = [(cell["route"], cell["input"]) for cell in report_json["cells"]]
    assert keys == planned_cells()
    assert {"python", "numpy", "torch"} <= set(report_json["versions"])
    assert report_json["versions"]["torch"] == torch.__version__
    for cell in report_json["cells"]:
        assert set(cell) == {
            "route",
            "input",
            "outcome",
            "dtype_out",
            "values_lost",
            "error_type",
            "error_message",
            "signal",
            "hazards",
        }


def test_plan_covers_every_route_with_the_inputs_of_its_library() -> None:
    cells = set(planned_cells())
    numpy_routes = {
        "torch.from_numpy",
        "torch.tensor",
        "torch.from_numpy(...).clone()",
        "torch.Tensor",
        "torch.as_tensor",
        "torch.asarray(copy=None)",
        "torch.asarray(copy=True)",
        "torch.asarray(copy=False)",
        "torch.from_dlpack",
    }
    tensor_routes = {
        "Tensor.numpy()",
        "np.asarray(t)",
        "np.from_dlpack",
        "Tensor.numpy(force=True)",
    }
    both = {"aliasguard.share", "aliasguard.own"}
    assert {route.name for route in ROUTES} == numpy_routes | tensor_routes | both
    expected = {(route, name) for route in numpy_routes | both for name in NUMPY_INPUTS}
    expected |= {(route, name) for route in tensor_routes | both for name in TENSOR_INPUTS}
    assert cells == expected
    assert len(planned_cells()) == len(cells)  # no duplicates


@pytest.mark.slow
def test_text_table_lists_every_cell(
    report: Report, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Reuse the measured report: the table is a rendering of it, no need to measure twice.
    monkeypatch.setattr(_report, "run_report", lambda: report)
    assert _cli.main(["report"]) == 0
    output = capsys.readouterr().out
    rows = [line for line in output.splitlines() if line.startswith(tuple(r.name for r in ROUTES))]
    assert len(rows) == len(report.cells)
    assert f"torch {torch.__version__}" in output
    from_numpy_row = next(row for row in rows if "ndarray float32" in row)
    assert from_numpy_row.split()[:4] == ["torch.from_numpy", "ndarray", "float32", "shares"]


def test_cli_reports_a_worker_that_cannot_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail() -> Report:
        raise _report.ReportError("the report worker failed before measuring anything (boom).")

    monkeypatch.setattr(_report, "run_report", fail)
    assert _cli.main(["report"]) == 1
    assert "boom" in capsys.readouterr().err


def test_ctrl_c_ends_the_report_with_one_line_and_status_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted() -> Report:
        raise KeyboardInterrupt

    monkeypatch.setattr(_report, "run_report", interrupted)
    assert _cli.main(["report"]) == 130
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "aliasguard report: interrupted, nothing more was run.\n"


def test_cli_without_a_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _cli.main([])
    assert exit_info.value.code == 2
    assert "usage: aliasguard" in capsys.readouterr().err


def test_run_report_refuses_a_cell_it_does_not_plan() -> None:
    with pytest.raises(ValueError, match="does not plan"):
        run_report([("np.from_dlpack", "ndarray float32")])


# ---------------------------------------------------------------------------------------------
# What the measurements say, observed on the installed releases.


@pytest.mark.slow
def test_from_numpy_shares_and_tensor_copies(report: Report) -> None:
    assert report.cell("torch.from_numpy", "ndarray float32").outcome == "shares"
    for name in NUMPY_INPUTS:
        cell = report.cell("torch.tensor", name)
        assert cell.outcome in {"copies", "raises"}, cell
    assert report.cell("torch.tensor", "ndarray float32").outcome == "copies"
    assert report.cell("torch.from_numpy(...).clone()", "ndarray float32").outcome == "copies"


@pytest.mark.slow
def test_torch_tensor_constructor_aliases_float32_and_silently_converts_the_rest(
    report: Report,
) -> None:
    assert report.cell("torch.Tensor", "ndarray float32").outcome == "shares"
    for name in ("ndarray float64", "ndarray int64 2**53+1"):
        cell = report.cell("torch.Tensor", name)
        assert (cell.outcome, cell.dtype_out, cell.values_lost) == ("copies", "torch.float32", True)


@pytest.mark.slow
def test_from_dlpack_on_negative_strides_is_contained_in_the_worker(report: Report) -> None:
    cell = report.cell("torch.from_dlpack", "ndarray negative strides")
    assert cell.outcome in {"raises", "crashed"}
    if cell.outcome == "crashed" and sys.platform != "win32":
        assert cell.signal is not None
        assert cell.signal.startswith("SIG")
    # The next cell ran in a fresh worker and was measured normally.
    assert report.cell("torch.from_dlpack", "ndarray read-only").outcome == "shares"


@pytest.mark.slow
def test_only_the_dlpack_route_crashes(report: Report) -> None:
    crashed = {(cell.route, cell.input) for cell in report.cells if cell.outcome == "crashed"}
    assert crashed <= {("torch.from_dlpack", "ndarray negative strides")}


@pytest.mark.slow
def test_read_only_input_warns_and_comes_back_writable(report: Report) -> None:
    cell = report.cell("torch.from_numpy", "ndarray read-only")
    assert cell.outcome == "shares"
    assert any(
        hazard.startswith("UserWarning: The given NumPy array is not writable")
        for hazard in cell.hazards
    )
    assert "result is writable although the input is read-only" in cell.hazards
    # The warning is once per process in torch; the worker still sees it in every cell.
    assert any(
        h.startswith("UserWarning")
        for h in report.cell("torch.as_tensor", "ndarray read-only").hazards
    )
    # from_dlpack imports a read-only array as writable without any warning.
    dlpack = report.cell("torch.from_dlpack", "ndarray read-only")
    assert dlpack.hazards == ("result is writable although the input is read-only",)


@pytest.mark.slow
def test_np_from_dlpack_ignores_the_neg_bit(report: Report) -> None:
    cell = report.cell("np.from_dlpack", "tensor neg bit")
    assert (cell.outcome, cell.values_lost) == ("shares", True)


@pytest.mark.slow
def test_tensor_numpy_refuses_what_numpy_cannot_hold_and_force_still_shares(report: Report) -> None:
    for name in ("tensor requires_grad", "tensor conj bit", "tensor neg bit", "tensor bfloat16"):
        assert report.cell("Tensor.numpy()", name).outcome == "raises"
    assert report.cell("Tensor.numpy(force=True)", "tensor float32").outcome == "shares"
    assert report.cell("Tensor.numpy(force=True)", "tensor requires_grad").outcome == "shares"
    assert report.cell("Tensor.numpy(force=True)", "tensor bfloat16").outcome == "raises"


@pytest.mark.slow
def test_negative_strides_are_refused_by_every_torch_constructor(report: Report) -> None:
    for route in (
        "torch.from_numpy",
        "torch.tensor",
        "torch.as_tensor",
        "torch.asarray(copy=True)",
    ):
        cell = report.cell(route, "ndarray negative strides")
        assert (cell.outcome, cell.error_type) == ("raises", "ValueError"), cell


# ---------------------------------------------------------------------------------------------
# aliasguard's own contract, measured the same way as the raw routes.


@pytest.mark.slow
def test_share_never_copies_and_refuses_with_share_error(report: Report) -> None:
    for cell in report.cells:
        if cell.route != "aliasguard.share":
            continue
        assert cell.outcome in {"shares", "raises"}, cell
        if cell.outcome == "raises":
            assert cell.error_type == "ShareError", cell
        else:
            assert cell.values_lost is False, cell
    assert report.cell("aliasguard.share", "ndarray negative strides").outcome == "raises"
    assert report.cell("aliasguard.share", "tensor float32").outcome == "shares"


@pytest.mark.slow
def test_own_always_copies_exactly(report: Report) -> None:
    for cell in report.cells:
        if cell.route == "aliasguard.own":
            assert (cell.outcome, cell.values_lost, cell.hazards) == ("copies", False, ()), cell


# ---------------------------------------------------------------------------------------------
# The measuring pieces, in process (only routes that cannot crash).


def test_measure_cell_in_process_sees_sharing_copying_and_loss() -> None:
    float32 = INPUTS_BY_NAME["ndarray float32"]
    assert measure_cell(ROUTES_BY_NAME["torch.from_numpy"], float32).outcome == "shares"
    assert measure_cell(ROUTES_BY_NAME["torch.tensor"], float32).outcome == "copies"
    lossy = measure_cell(ROUTES_BY_NAME["torch.Tensor"], INPUTS_BY_NAME["ndarray int64 2**53+1"])
    assert (lossy.dtype_out, lossy.values_lost) == ("torch.float32", True)
    refused = measure_cell(ROUTES_BY_NAME["Tensor.numpy()"], INPUTS_BY_NAME["tensor conj bit"])
    assert (refused.outcome, refused.error_type) == ("raises", "RuntimeError")


def test_measure_cell_refuses_a_pair_outside_the_plan() -> None:
    with pytest.raises(ValueError, match="takes no torch input"):
        measure_cell(ROUTES_BY_NAME["torch.from_numpy"], INPUTS_BY_NAME["tensor float32"])


@pytest.mark.parametrize(
    ("expected", "actual", "same"),
    [
        ([BEYOND_FLOAT64], [float(BEYOND_FLOAT64)], False),
        ([BEYOND_FLOAT64], [BEYOND_FLOAT64], True),
        ([1], [1.0], True),
        ([float("nan")], [float("nan")], True),
        ([-0.0], [0.0], False),
        ([0.1], [float(np.float32(0.1))], False),
        ([1 + 2j], [1 - 2j], False),
        ([2.0], [complex(2.0, 0.0)], True),
        ([1.0, 2.0], [1.0], False),
    ],
)
def test_same_values_is_exact(expected: list[object], actual: list[object], same: bool) -> None:
    assert same_values(expected, actual) is same


def built_array(name: str) -> NDArray[Any]:
    value = INPUTS_BY_NAME[name].build()
    assert isinstance(value, np.ndarray)
    return value


def built_tensor(name: str) -> torch.Tensor:
    value = INPUTS_BY_NAME[name].build()
    assert isinstance(value, torch.Tensor)
    return value


def test_inputs_are_what_their_names_say() -> None:
    assert built_array("ndarray negative strides").strides[0] < 0
    assert not built_array("ndarray read-only").flags.writeable
    assert not built_array("ndarray big-endian >f8").dtype.isnative
    non_contiguous = built_array("ndarray non-contiguous")
    assert not non_contiguous.flags.c_contiguous
    assert min(non_contiguous.strides) > 0
    assert built_array("ndarray 0-d").ndim == 0
    assert int(built_array("ndarray int64 2**53+1")[0]) == BEYOND_FLOAT64
    assert built_tensor("tensor conj bit").is_conj()
    assert built_tensor("tensor neg bit").is_neg()
    assert 0 in built_tensor("tensor expanded (zero stride)").stride()
    assert built_tensor("tensor requires_grad").requires_grad
    assert built_tensor("tensor bfloat16").dtype == torch.bfloat16
    assert not built_tensor("tensor non-contiguous").is_contiguous()
    assert int(built_tensor("tensor int64 2**53+1")[0]) == BEYOND_FLOAT64


def test_format_table_shows_crashes_and_notes() -> None:
    report = Report(
        versions={"python": "3", "numpy": "2", "torch": "2", "platform": "test"},
        cells=(
            CellResult(
                "torch.from_dlpack",
                "ndarray negative strides",
                "crashed",
                signal="SIGABRT",
                error_message="overflowed",
            ),
            CellResult(
                "torch.from_numpy",
                "ndarray read-only",
                "shares",
                dtype_out="torch.float32",
                values_lost=False,
                hazards=("UserWarning: " + "x" * 200, "second note"),
            ),
        ),
    )
    table = _cli.format_table(report)
    assert "crashed SIGABRT" in table
    assert "overflowed" in table
    assert "x" * 200 not in table  # long notes are shortened
    assert "second note" in table
    assert "2 cells: 1 crashed, 1 shares; 0 lose values." in table


def test_crash_message_prefers_the_cpp_exception_text() -> None:
    crash_message = _report._crash_message  # pyright: ignore[reportPrivateUsage]
    signal_name = _report._signal_name  # pyright: ignore[reportPrivateUsage]
    stderr = (
        "terminate called after throwing an instance of 'c10::Error'\n"
        "  what():  Storage size calculation overflowed\n"
        "frame #0: ...\n"
    )
    assert crash_message(stderr, -6) == "Storage size calculation overflowed"
    assert crash_message("", 3) == "the worker exited with status 3 and printed nothing"
    assert signal_name(-6) == "SIGABRT"
    assert signal_name(1) is None
