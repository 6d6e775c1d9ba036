"""aliasguard's own folders in the temp directory: made per process, removed when it ends.

A process that is killed cannot remove its folder, so each folder's name carries the id of the
process that made it (``aliasguard-strategies-1234-x8k2``), and the next process to make a folder of
the same kind removes those whose process is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

#: Folders named before names carried a process id are removed once empty and this old (seconds).
_UNNAMED_STALE_AFTER: Final = 24 * 3600


def _prefix(kind: str) -> str:
    return f"aliasguard-{kind}-"


def make_process_folder(kind: str) -> Path:
    """A fresh folder ``aliasguard-<kind>-<pid>-*`` in the temp directory, removed at exit.

    Stale folders of the same kind (their process is gone) are removed first.
    """
    remove_stale_folders(kind)
    folder = Path(tempfile.mkdtemp(prefix=f"{_prefix(kind)}{os.getpid()}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _is_running(pid: int) -> bool:
    if sys.platform == "win32":
        return True  # os.kill(pid, 0) would end the process there: never call it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs as someone else
        return True
    return True


def _owner_pid(name: str, kind: str) -> int | None:
    head = name[len(_prefix(kind)) :].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def remove_stale_folders(kind: str) -> list[Path]:
    """Remove this user's ``aliasguard-<kind>-*`` folders whose process no longer runs.

    A folder of a running process (or of another user) is never touched. Returns the removed ones.
    """
    removed: list[Path] = []
    uid = getattr(os, "getuid", lambda: None)()
    for folder in Path(tempfile.gettempdir()).glob(f"{_prefix(kind)}*"):
        try:
            status = folder.lstat()
        except OSError:
            continue
        if not folder.is_dir() or folder.is_symlink() or (uid is not None and status.st_uid != uid):
            continue
        pid = _owner_pid(folder.name, kind)
        if pid is None:
            # No process id to ask: only an empty folder that nothing has touched for a day.
            if time.time() - status.st_mtime > _UNNAMED_STALE_AFTER:
                with contextlib.suppress(OSError):
                    folder.rmdir()
                    removed.append(folder)
            continue
        if pid == os.getpid() or _is_running(pid):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
    return removed
