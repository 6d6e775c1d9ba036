"""`aliasguard fuzz` and `aliasguard.fuzz`: planted bugs are found and named, correct code passes.

Every stage of ``examples/pipeline.py`` goes through the command line in process (``main()``);
a few also run as real subprocesses (``python -W error -m aliasguard fuzz``, with ``PYTHONPATH``
at the repository root), started when this module's first test starts so that their imports of
torch overlap the in-process tests, and collected by the tests at the end of the module.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from jaxtyping import Float, Float32
from torch import Tensor

import aliasguard
from aliasguard import AliasingError, FuzzError, Owned, Shared, fuzz
from aliasguard._cli import main
from aliasguard._fuzz import describe_argument

REPOSITORY = Path(__file__).resolve().parents[2]
if str(REPOSITORY) not in sys.path:  # examples/ sits at the repository root, beside src/
    sys.path.append(str(REPOSITORY))
pipeline: Any = importlib.import_module("examples.pipeline")

TIMEOUT_SECONDS = 120
# The planted bugs shrink within a few dozen examples; the correct stages get a few dozen more.
BUGGY_EXAMPLES = "30"
CORRECT_EXAMPLES = "40"

BUGS: dict[str, tuple[int, tuple[str, ...]]] = {
    # target: (exit status, one of these in the output)
    "normalize_in_place": (1, ("AliasingError (borrow rule)", "AliasingError (sanitizer rule)")),
    "flatten": (1, ("AliasingError (freshness rule)",)),
    "channels_last": (1, ("AnnotationError (shape rule)",)),
    "mean_intensity": (1, ("AnnotationError (dtype rule)",)),
    "center_pixel": (3, ("unexpected exception: IndexError",)),
}
CORRECT = ("normalize", "to_tensor", "scale_", "add_bias")
# Run as real subprocesses too: one of each exit status.
SUBPROCESS_TARGETS = ("normalize_in_place", "center_pixel", "normalize")


# In a fresh process, where torch warns once: import aliasguard without Hypothesis, then draw
# every dtype and wrapper with every warning an error (complex32 warns when torch allocates it).
FRESH_PROCESS_CODE = """
import sys, aliasguard
print(sorted(name for name in sys.modules if name.split(".")[0] == "hypothesis"))
import numpy as np, torch
from hypothesis import given, settings
from jaxtyping import Shaped
from aliasguard import Owned, Shared
from aliasguard.strategies import from_annotation

annotations = [
    wrapper[Shaped[library, "a *b"]] for wrapper in (Shared, Owned) for library in (np.ndarray, torch.Tensor)
] + [Shaped[torch.Tensor, "a"], Shaped[np.ndarray, "a"]]

@settings(max_examples=300, database=None, deadline=None)
@given(value=from_annotation(annotations[0] | annotations[1] | annotations[2] | annotations[3]))
def draw_wrapped(value):
    assert any(isinstance(value, annotation) for annotation in annotations[:4])

@settings(max_examples=300, database=None, deadline=None)
@given(value=from_annotation(annotations[4]) | from_annotation(annotations[5]))
def draw_bare(value):
    assert value.ndim == 1

draw_wrapped()
draw_bare()
print("drawn")
"""


def fuzz_arguments(name: str) -> list[str]:
    examples = CORRECT_EXAMPLES if name in CORRECT else BUGGY_EXAMPLES
    return ["fuzz", f"examples.pipeline:{name}", "--seed", "0", "--max-examples", examples]


@pytest.fixture(scope="module")
def fuzz_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working directory of the command-line runs: it must stay empty."""
    return tmp_path_factory.mktemp("fuzz-cwd")


@pytest.fixture(scope="module", autouse=True)
def subprocesses(fuzz_directory: Path) -> Iterator[dict[str, subprocess.Popen[str]]]:
    """The command-line runs of this module, started together before its first test."""
    path = os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))
    environment = {**os.environ, "PYTHONPATH": path}
    environment.pop("ALIASGUARD_DISABLE", None)
    # -W error: a warning leaking from the strategies or the checks would fail the run.
    commands = {
        name: [sys.executable, "-W", "error", "-m", "aliasguard", *fuzz_arguments(name)]
        for name in SUBPROCESS_TARGETS
    }
    commands["import"] = [sys.executable, "-W", "error", "-c", FRESH_PROCESS_CODE]
    processes = {
        name: subprocess.Popen(
            arguments,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
            cwd=REPOSITORY if name == "import" else fuzz_directory,
        )
        for name, arguments in commands.items()
    }
    try:
        yield processes
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
            process.communicate()


def finished(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
    return process.returncode, stdout, stderr


@pytest.fixture
def repository_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", [str(REPOSITORY), *sys.path])
    monkeypatch.chdir(REPOSITORY)


def check_bug_report(name: str, status: int, stdout: str) -> None:
    expected_status, expected = BUGS[name]
    assert status == expected_status, stdout
    assert any(text in stdout for text in expected), stdout
    assert "(seed 0)." in stdout
    assert "shrunk failing example:" in stdout
    assert "image = Shared[" in stdout  # kind, dtype and shape of each argument
    assert "tensor(" not in stdout  # never the data
    assert "array(" not in stdout


def check_clean_report(status: int, stdout: str) -> None:
    assert status == 0, stdout
    assert "no contract violation or unexpected exception" in stdout
    assert f"up to {CORRECT_EXAMPLES} examples (seed 0)" in stdout


# ----------------------------------------------------------------------------------------------
# The command line on the example pipeline, in process


@pytest.mark.usefixtures("repository_on_path")
@pytest.mark.parametrize("name", sorted(BUGS))
def test_cli_finds_each_planted_bug(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(fuzz_arguments(name))
    captured = capsys.readouterr()
    check_bug_report(name, status, captured.out)
    assert captured.err == ""


@pytest.mark.usefixtures("repository_on_path")
@pytest.mark.parametrize("name", CORRECT)
def test_cli_passes_correct_stages(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(fuzz_arguments(name))
    check_clean_report(status, capsys.readouterr().out)


# ----------------------------------------------------------------------------------------------
# The command line's argument handling, in process


@pytest.mark.usefixtures("repository_on_path")
@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("examples.pipeline", "the target is MODULE:FUNCTION"),
        ("examples.nowhere:normalize", "importing examples.nowhere failed (ModuleNotFoundError"),
        ("examples.pipeline:nope", "examples.pipeline has no attribute 'nope'"),
        ("examples.pipeline:__doc__", "examples.pipeline.__doc__ is a str, not a function"),
        ("os.path:join", "found no contract to check on join()"),
    ],
)
def test_cli_explains_targets_it_cannot_fuzz(
    target: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fuzz", target]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("aliasguard fuzz: ")
    assert message in captured.err


@pytest.mark.parametrize(
    "arguments",
    [
        ["--max-examples", "0"],
        ["--max-examples", "many"],
        ["--dtypes", ","],
        ["--seed", "x"],
    ],
)
def test_cli_rejects_bad_options(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fuzz", "examples.pipeline:normalize", *arguments])
    assert exit_info.value.code == 2
    assert "error: argument" in capsys.readouterr().err


@pytest.mark.usefixtures("repository_on_path")
def test_cli_dtypes_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "examples.pipeline:normalize", "--dtypes", "int64"]) == 2
    assert "no NumPy or torch dtype" in capsys.readouterr().err
    status = main(
        ["fuzz", "examples.pipeline:flatten", "--dtypes", "float32", "--max-examples", "20"]
    )
    assert status == 1
    assert "freshness rule" in capsys.readouterr().out


# ----------------------------------------------------------------------------------------------
# The pytest helper


def test_fuzz_passes_a_correct_function() -> None:
    fuzz(pipeline.normalize, max_examples=30, seed=1)


def test_fuzz_reports_a_violation_without_the_data() -> None:
    with pytest.raises(FuzzError) as info:
        fuzz(pipeline.flatten, max_examples=30, seed=1)
    error = info.value
    assert isinstance(error, AssertionError)
    assert str(error).startswith(
        "fuzz(): flatten() broke its contract (AliasingError, freshness rule) on drawn arguments:"
    )
    assert (error.function, error.rule) == ("flatten()", "freshness")
    assert "found 1 contract violation (seed 1)." in str(error)
    assert isinstance(error.__cause__, AliasingError)
    finding = error.findings[0]
    assert finding.is_violation
    assert finding.example[0][0] == "image"
    assert "Tensor of shape" in finding.example[0][1]
    assert "tensor(" not in str(error)
    assert not getattr(error.__cause__, "__notes__", [])  # Hypothesis's notes show the data


def test_fuzz_reports_the_functions_own_exceptions_apart() -> None:
    with pytest.raises(FuzzError) as info:
        fuzz(pipeline.center_pixel, max_examples=30, seed=1)
    error = info.value
    assert error.rule == "IndexError"
    assert not error.findings[0].is_violation
    assert "raised IndexError, an exception of its own" in str(error).splitlines()[0]
    assert "raised at " in str(error)
    assert "pipeline.py:" in str(error)


def write_into_numpy_borrow(image: Shared[Float32[np.ndarray, "h w"]]) -> None:
    image.value[0] = 1.0  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]  # NumPy refuses: @checked lends NumPy values read-only


def test_fuzz_catches_numpy_writes_into_borrows() -> None:
    with pytest.raises(FuzzError) as info:
        fuzz(write_into_numpy_borrow, max_examples=30, seed=1)
    assert info.value.rule == "borrow"


DOUBLED_DTYPES = (torch.float32, torch.float64, torch.bfloat16)


def doubled(x: Shared[Float[Tensor, " n"]]) -> Owned[Float[Tensor, " n"]]:
    # A function that supports fewer dtypes than its annotation admits (torch has no float8
    # multiplication on the CPU, for one); refused in a way every torch version shares.
    if x.value.dtype not in DOUBLED_DTYPES:
        raise TypeError(f"doubled() takes no {x.value.dtype}")
    return Owned(x.value * 2)


def test_fuzz_dtypes_narrow_what_the_annotation_admits() -> None:
    with pytest.raises(FuzzError) as info:
        fuzz(doubled, max_examples=60, seed=1)
    assert "doubled() takes no torch.float" in str(info.value)
    fuzz(doubled, max_examples=30, seed=1, dtypes=["float32", "float64", "bfloat16"])


def scaled(x: Shared[Float32[Tensor, " n"]], factor: float) -> Owned[Float32[Tensor, " n"]]:
    if factor != 2.0:
        raise ValueError(factor)
    return Owned(x.value * factor)


def test_fuzz_overrides() -> None:
    fuzz(scaled, max_examples=20, seed=1, overrides={"factor": st.just(2.0)})


@aliasguard.checked
def already_checked(x: Shared[Float32[Tensor, " n"]]) -> Owned[Float32[Tensor, " n"]]:
    return Owned(x.value.detach())  # a view of the input: not fresh


def test_fuzz_takes_checked_functions() -> None:
    with pytest.raises(FuzzError) as info:
        fuzz(already_checked, max_examples=30, seed=1)
    assert (info.value.function, info.value.rule) == ("already_checked()", "freshness")


calls: list[int] = []


def fails_once(x: Shared[Float32[Tensor, " n"]]) -> None:
    del x
    calls.append(1)
    if len(calls) == 1:
        raise RuntimeError("only the first time")


def test_fuzz_marks_failures_that_do_not_replay() -> None:
    calls.clear()
    with pytest.raises(FuzzError) as info:
        fuzz(fails_once, max_examples=10, seed=1)
    assert info.value.findings[0].flaky
    assert "flaky: the replayed example did not fail again" in str(info.value)


def test_fuzz_explains_functions_it_cannot_fuzz(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidArgument, match=r"found no contract to check on len\(\)"):
        fuzz(len)
    with pytest.raises(InvalidArgument, match=r"max_examples=0\) must be a positive int"):
        fuzz(pipeline.normalize, max_examples=0)
    monkeypatch.setenv("ALIASGUARD_DISABLE", "1")
    with pytest.raises(InvalidArgument, match="cannot check contracts while ALIASGUARD_DISABLE"):
        fuzz(pipeline.normalize)


def too_big(
    x: Shared[Float32[Tensor, "100000 100000"]],
) -> Owned[Float32[Tensor, "100000 100000"]]:
    return Owned(x.value.clone())


def exits(x: Shared[Float32[Tensor, " n"]]) -> Owned[Float32[Tensor, " n"]]:
    del x
    raise SystemExit(0)


def writes_even_when_empty(values: Shared[Float32[np.ndarray, " n"]]) -> None:
    values.value[...] = 0  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]  # NumPy refuses whatever the size: the borrow is read-only


def test_fuzz_refuses_fixed_sizes_that_would_exhaust_memory() -> None:
    with pytest.raises(InvalidArgument, match=r"fixed sizes make 10,000,000,000 elements"):
        fuzz(too_big, max_examples=5, seed=1)


def test_a_function_calling_sys_exit_is_a_finding_not_the_end_of_the_run() -> None:
    with pytest.raises(FuzzError) as info:
        fuzz(exits, max_examples=5, seed=1)
    assert info.value.rule == "ExitCalled"
    assert "called sys.exit(0) instead of returning" in str(info.value)


def test_a_write_into_an_empty_borrow_is_the_same_borrow_violation() -> None:
    with pytest.raises(FuzzError) as info:
        fuzz(writes_even_when_empty, max_examples=30, seed=1)
    assert [finding.rule for finding in info.value.findings] == ["borrow"]


def test_cli_explains_a_module_that_exits_on_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "exits_on_import.py").write_text("import sys\nsys.exit(0)\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    assert main(["fuzz", "exits_on_import:f"]) == 2
    assert "importing exits_on_import failed (SystemExit: 0)" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------
# Describing arguments


def test_arguments_are_described_by_kind_dtype_shape_and_layout() -> None:
    array = np.zeros((2, 6), dtype=np.float32)[:, ::2]
    array.flags.writeable = False
    borrowed = aliasguard.share(array)
    assert describe_argument(borrowed) == (
        "Shared[Tensor] via share() of an ndarray (byte strides (24, 8), read-only): "
        "float32 Tensor of shape (2, 3), strides (6, 2)"
    )
    assert describe_argument(Shared(torch.zeros(3))) == (
        "Shared[Tensor] via Shared(value): float32 Tensor of shape (3,)"
    )
    assert describe_argument(aliasguard.own(torch.zeros(2, 2).T)) == (
        "Owned[ndarray]: float32 ndarray of shape (2, 2)"
    )
    assert (
        describe_argument(torch.zeros(2, 3).T) == "float32 Tensor of shape (3, 2), strides (1, 3)"
    )
    assert describe_argument(0.5) == "0.5"
    assert describe_argument("x" * 100).endswith("...")
    value: Any = object()
    assert describe_argument(value) == "object object"


# ----------------------------------------------------------------------------------------------
# Real subprocesses, started by the module fixture


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in SUBPROCESS_TARGETS if name in BUGS])
def test_subprocess_reports_bugs(subprocesses: dict[str, subprocess.Popen[str]], name: str) -> None:
    status, stdout, stderr = finished(subprocesses[name])
    check_bug_report(name, status, stdout)
    assert stderr == ""


@pytest.mark.slow
def test_subprocess_passes_a_correct_stage(subprocesses: dict[str, subprocess.Popen[str]]) -> None:
    status, stdout, stderr = finished(subprocesses["normalize"])
    check_clean_report(status, stdout)
    assert stderr == ""


@pytest.mark.slow
def test_the_command_leaves_nothing_in_the_working_directory(
    subprocesses: dict[str, subprocess.Popen[str]], fuzz_directory: Path
) -> None:
    # Hypothesis writes caches under ./.hypothesis even with no example database.
    for name in SUBPROCESS_TARGETS:
        finished(subprocesses[name])
    assert sorted(path.name for path in fuzz_directory.iterdir()) == []


@pytest.mark.slow
def test_fresh_process_imports_no_hypothesis_and_draws_without_warnings(
    subprocesses: dict[str, subprocess.Popen[str]],
) -> None:
    status, stdout, stderr = finished(subprocesses["import"])
    assert status == 0, stderr
    assert stdout.split() == ["[]", "drawn"]
