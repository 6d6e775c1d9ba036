"""Raw routes (torch.from_numpy, .numpy(), np.asarray(t), ...) seen under the sanitizer."""

from __future__ import annotations

import gc
import textwrap
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import torch

import aliasguard
from aliasguard import AliasingError, Shared, sanitize
from aliasguard._numpy_locks import held_locks
from aliasguard._sanitizer import load_suppressions
from aliasguard._torch_compat import dispatch_mode_stack
from helpers import as_list, run_aliasguard

pytestmark = pytest.mark.aliasguard_unsanitized  # each test enters the sanitizer it needs

#: torch and NumPy, typed loosely: torch's stubs leave the raw routes partly unannotated.
torch_any: Any = torch
numpy_any: Any = np
ORIGINAL_FROM_NUMPY: object = torch_any.from_numpy


@pytest.fixture(autouse=True)
def nothing_left_patched() -> Iterator[None]:
    yield
    gc.collect()
    assert torch_any.from_numpy is ORIGINAL_FROM_NUMPY
    assert "numpy" not in torch.Tensor.__dict__
    assert dispatch_mode_stack() == []
    assert held_locks() == []


def buffer() -> npt.NDArray[np.float32]:
    return np.zeros(3, dtype=np.float32)


# ----------------------------------------------------------------------------------------------
# Torch writes into memory a live NumPy array views


def route(name: str) -> Callable[[npt.NDArray[np.float32]], torch.Tensor]:
    def call(array: npt.NDArray[np.float32]) -> torch.Tensor:
        # Looked up at the call: the sanitizer patches torch's attribute while it is active.
        tensor: torch.Tensor = getattr(torch_any, name)(array)
        return tensor

    return call


ROUTES = [
    (f"torch.{name}()", route(name))
    for name in ("from_numpy", "as_tensor", "asarray", "from_dlpack")
]


def via_numpy(tensor: torch.Tensor) -> npt.NDArray[Any]:
    array: npt.NDArray[Any] = tensor_any(tensor).numpy()
    return array


def via_asarray(tensor: torch.Tensor) -> npt.NDArray[Any]:
    array: npt.NDArray[Any] = numpy_any.asarray(tensor)
    return array


def via_dlpack(tensor: torch.Tensor) -> npt.NDArray[Any]:
    array: npt.NDArray[Any] = numpy_any.from_dlpack(tensor)
    return array


def tensor_any(tensor: torch.Tensor) -> Any:
    return tensor


@pytest.mark.parametrize(("route", "make"), ROUTES, ids=[route for route, _ in ROUTES])
def test_a_torch_write_into_a_viewed_array_is_refused_before_it_happens(
    route: str, make: Callable[[npt.NDArray[np.float32]], torch.Tensor]
) -> None:
    loader_buffer = buffer()
    with sanitize(raw_routes=True):
        batch = make(loader_buffer)
        with pytest.raises(AliasingError) as caught:
            batch.add_(1)
        del batch
    assert loader_buffer.tolist() == [0.0, 0.0, 0.0]
    error = caught.value
    assert error.rule == "cross-library"
    first, *rest = str(error).splitlines()
    assert first.startswith("aten::add_.Tensor would write its argument 'self'")
    assert route in first
    assert "t.clone()" in first  # the fix
    text = "\n".join(rest)
    assert f"The alias was made by {route} here" in text
    assert "batch = make(loader_buffer)" in text
    assert "The write came from here" in text
    assert "batch.add_(1)" in text


def test_a_keep_alive_temporary_is_not_a_viewer() -> None:
    source = buffer()
    with sanitize(raw_routes=True):
        mine = torch_any.from_numpy(source.copy())  # only the tensor holds the copy
        mine.add_(1)
        assert as_list(mine) == [1.0, 1.0, 1.0]
        del mine
    assert source.tolist() == [0.0, 0.0, 0.0]


def test_a_view_of_the_array_counts_as_a_viewer() -> None:
    with sanitize(raw_routes=True):
        tensor = torch_any.from_numpy(buffer())
        first_row = tensor.numpy()[:1]
        with pytest.raises(AliasingError):
            tensor.add_(1)
        del first_row
        tensor.add_(1)  # the arrays are gone: the tensor is the only holder
        del tensor


@pytest.mark.parametrize(
    "export",
    [via_numpy, via_asarray, via_dlpack],
    ids=["Tensor.numpy()", "np.asarray(tensor)", "np.from_dlpack()"],
)
def test_a_torch_write_into_a_tensor_exported_to_numpy_is_refused(
    export: Callable[[torch.Tensor], npt.NDArray[Any]],
) -> None:
    weights = torch.zeros(3)
    with sanitize(raw_routes=True):
        snapshot = export(weights)
        with pytest.raises(AliasingError, match="live NumPy array"):
            weights.add_(1)  # the "snapshot" would change
        assert as_list(snapshot) == [0.0, 0.0, 0.0]
        del snapshot
        weights.add_(1)
    assert as_list(weights) == [1.0, 1.0, 1.0]


# ----------------------------------------------------------------------------------------------
# NumPy writes into memory a live tensor views


def test_a_numpy_write_into_memory_a_live_tensor_views_is_refused_with_a_note() -> None:
    observation = buffer()
    kept: list[torch.Tensor] = []

    def step() -> None:
        kept.append(torch_any.from_numpy(observation))  # the agent keeps the previous observation
        observation[:] = 1.0  # the environment writes the next one in place

    with pytest.raises(ValueError, match="read-only") as caught, sanitize(raw_routes=True):
        step()
    assert as_list(kept[0]) == [0.0, 0.0, 0.0]
    note = "\n".join(caught.value.__notes__)
    assert "torch.from_numpy()" in note
    assert "kept.append(torch_any.from_numpy(observation))" in note
    assert observation.flags.writeable


def test_writing_an_array_exported_from_a_held_tensor_is_refused() -> None:
    model = torch.nn.Linear(2, 2)
    with sanitize(raw_routes=True):
        exported = model.weight.detach().numpy()  # the parameter's memory
        with pytest.raises(ValueError, match="read-only"):
            exported[0, 0] = 1.0
        del exported


def test_the_numpy_result_of_a_temporary_is_the_callers_to_write() -> None:
    """Owned-style fresh temporaries: nothing else views model(x).numpy()'s memory."""
    model = torch.nn.Linear(2, 2)
    with sanitize(raw_routes=True), torch.no_grad():
        output = model(torch.ones(1, 2)).numpy()
        output[0, 0] = 5.0
        also = np.asarray(model(torch.ones(1, 2)))
        also[0, 0] = 5.0
    assert output[0, 0] == 5.0
    assert also[0, 0] == 5.0


# ----------------------------------------------------------------------------------------------
# Borrows stay borrows


def test_a_shared_argument_re_entered_through_from_numpy_stays_a_borrow() -> None:
    @aliasguard.checked
    def sneaky(x: Shared[npt.NDArray[np.float32]]) -> None:
        with warnings.catch_warnings():  # torch's once-per-process "not writable" warning
            warnings.simplefilter("ignore", UserWarning)
            back_door = torch_any.from_numpy(x.value)
        back_door.add_(1)

    caller = buffer()
    # The loan to the call covers the back door's tensor: the error names the call's parameter.
    with (
        sanitize(),
        pytest.raises(AliasingError, match="would write into its Shared parameter 'x'"),
    ):
        sneaky(Shared(caller.copy()))
    with sanitize(), pytest.raises(AliasingError):
        sneaky(aliasguard.Owned(caller))
    assert caller.tolist() == [0.0, 0.0, 0.0]


def test_np_asarray_of_a_borrowed_tensor_is_read_only() -> None:
    source = buffer()
    with sanitize():
        borrowed = aliasguard.share(source).value
        back = np.asarray(borrowed)
        with pytest.raises(ValueError, match="read-only"):
            back[0] = 1.0
        del borrowed, back
    assert source.tolist() == [0.0, 0.0, 0.0]


def test_plain_sanitize_records_no_raw_alias() -> None:
    source = buffer()
    with sanitize():
        tensor = torch_any.from_numpy(source)
        tensor.add_(1)  # no finding without raw_routes=True
        del tensor
    assert source.tolist() == [1.0, 1.0, 1.0]


# ----------------------------------------------------------------------------------------------
# Suppressions


def test_allow_shared_writes_lets_an_intended_write_through() -> None:
    frame = buffer()
    with sanitize(raw_routes=True):
        view = torch_any.from_numpy(frame)
        with aliasguard.allow_shared_writes():
            view.add_(1)
        with pytest.raises(AliasingError):
            view.add_(1)
        del view
    assert frame.tolist() == [1.0, 1.0, 1.0]


def test_suppressions_file_lines_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "aliasguard.supp"
    path.write_text("# intended\nalias:*/vendor/*  # a library's buffers\nwrite:fill_in_place\n")
    assert load_suppressions(path) == [("alias", "*/vendor/*"), ("write", "fill_in_place")]
    path.write_text("alias:ok\nrace:thing\n")
    with pytest.raises(ValueError, match=r"aliasguard.supp:2: 'race:thing' is not a suppression"):
        load_suppressions(path)


# ----------------------------------------------------------------------------------------------
# aliasguard run


BUGGY_PROGRAM = """\
import sys
import numpy as np
import torch

buffer = np.zeros(4, dtype=np.float32)
batch = torch.from_numpy(buffer)
for step in range(3):
    batch.mul_(2)  # writes into `buffer`, which the loader still holds
print("finished", sys.argv[1:])
"""


@pytest.mark.slow
def test_run_raises_at_the_first_finding_naming_both_sites(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(BUGGY_PROGRAM)
    result = run_aliasguard("run", "train.py", "--epochs", "1", cwd=tmp_path)
    assert result.returncode == 1
    assert "finished" not in result.stdout
    assert "AliasingError: aten::mul_.Tensor would write" in result.stderr
    assert "batch = torch.from_numpy(buffer)" in result.stderr
    assert "batch.mul_(2)" in result.stderr


@pytest.mark.slow
def test_run_report_collects_one_finding_per_site_pair(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(BUGGY_PROGRAM)
    result = run_aliasguard("run", "--report", "train.py", "--epochs", "1", cwd=tmp_path)
    assert result.returncode == 1
    assert "finished ['--epochs', '1']" in result.stdout
    assert "found 1 cross-library write (one per pair of sites)" in result.stderr
    assert result.stderr.count("[1] aten::mul_.Tensor") == 1
    assert "[2]" not in result.stderr


@pytest.mark.slow
def test_run_module_and_suppressions_and_a_clean_program(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(BUGGY_PROGRAM)
    (tmp_path / "ok.supp").write_text("write:*train.py:8\n")
    result = run_aliasguard(
        "run", "--report", "--suppressions", "ok.supp", "-m", "train", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "no cross-library write found" in result.stderr
    (tmp_path / "bad.supp").write_text("nonsense\n")
    result = run_aliasguard("run", "--suppressions", "bad.supp", "train.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "is not a suppression" in result.stderr


@pytest.mark.slow
def test_pytest_plugin_raw_routes_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_loader=textwrap.dedent(
            """
            import numpy as np
            import torch

            def test_loader_reuses_its_buffer():
                buffer = np.zeros(3, dtype=np.float32)
                batch = torch.from_numpy(buffer)
                batch.mul_(2)
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--aliasguard-raw-routes")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*sanitize: on, raw routes seen*", "*AliasingError*"])
    pytester.makeini("[pytest]\naliasguard_raw_routes = true\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-o", "aliasguard_raw_routes=false"
    )
    result.assert_outcomes(passed=1)


# ----------------------------------------------------------------------------------------------
# Nothing is patched outside the sanitizer


def test_outside_a_sanitizer_the_routes_are_torchs_own() -> None:
    with sanitize(raw_routes=True):
        assert torch_any.from_numpy is not ORIGINAL_FROM_NUMPY
        assert "numpy" in torch.Tensor.__dict__
    assert torch_any.from_numpy is ORIGINAL_FROM_NUMPY
    assert "numpy" not in torch.Tensor.__dict__
