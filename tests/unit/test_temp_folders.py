"""aliasguard's temp folders: a killed process's folder is removed by the next one, nobody else's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from aliasguard._temp_folders import make_process_folder, remove_stale_folders

TIMEOUT_SECONDS = 120

# Draws one memory-mapped array (which makes the process's folder), says where, then waits to be killed.
DRAW_AND_WAIT = textwrap.dedent(
    """
    import sys, time, tempfile
    from hypothesis import given, settings
    from aliasguard.strategies import arrays

    @settings(max_examples=1, database=None, deadline=None)
    @given(arrays(layouts=("memmap",)))
    def draw(array):
        pass

    draw()
    print(tempfile.gettempdir(), flush=True)
    time.sleep(600)
    """
)


@pytest.fixture
def temp_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def finished_pid() -> int:
    process = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(process.stdout)


def test_only_folders_of_processes_that_are_gone_are_removed(temp_directory: Path) -> None:
    dead = temp_directory / f"aliasguard-strategies-{finished_pid()}-abc"
    running = temp_directory / f"aliasguard-strategies-{os.getppid()}-def"
    other_kind = temp_directory / f"aliasguard-fuzz-{finished_pid()}-ghi"
    unnamed = temp_directory / "aliasguard-strategies-jkl"  # named before names carried a pid
    for folder in (dead, running, other_kind, unnamed):
        folder.mkdir()
    (dead / "leftover.bin").write_bytes(b"x")
    assert remove_stale_folders("strategies") == [dead]
    assert sorted(path.name for path in temp_directory.iterdir()) == sorted(
        folder.name for folder in (running, other_kind, unnamed)
    )
    old = 2 * 24 * 3600
    os.utime(unnamed, (unnamed.stat().st_atime - old, unnamed.stat().st_mtime - old))
    assert remove_stale_folders("strategies") == [unnamed]


def test_a_process_folder_carries_its_pid_and_is_never_stale_to_itself(
    temp_directory: Path,
) -> None:
    folder = make_process_folder("strategies")
    assert folder.parent == temp_directory
    assert folder.name.startswith(f"aliasguard-strategies-{os.getpid()}-")
    assert remove_stale_folders("strategies") == []
    assert folder.is_dir()


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_the_folder_of_a_killed_process_goes_when_the_next_one_starts(
    temp_directory: Path,
) -> None:
    environment = {**os.environ, "TMPDIR": str(temp_directory)}
    process = subprocess.Popen(
        [sys.executable, "-c", DRAW_AND_WAIT], stdout=subprocess.PIPE, text=True, env=environment
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == str(temp_directory)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=TIMEOUT_SECONDS)
    left = list(temp_directory.glob(f"aliasguard-strategies-{process.pid}-*"))
    assert len(left) == 1  # killed: its exit handler never ran
    fresh = make_process_folder("strategies")
    assert sorted(temp_directory.iterdir()) == [fresh]
