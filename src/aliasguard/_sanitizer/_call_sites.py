"""Where a borrow, an alias or a write came from: the user's frames, for the messages.

A call site is recorded when a borrow or an alias is made (only while a sanitizer is active), so
an error raised much later can show where the memory was lent. The frames of aliasguard, torch
and NumPy between the user's call and the recording are skipped, and so are the outer frames
that call every program or test (runpy, ``aliasguard run``, pytest): the few frames kept are the
user's own.
"""

from __future__ import annotations

import inspect
import os
import sys
import traceback
from typing import Final

from .._frames import LIBRARY_DIRECTORIES, PACKAGE_DIRECTORY

#: ``(filename, line, function)``, innermost last; source lines are read only to format an error.
Frame = tuple[str, int, str]

#: Innermost frames of a share() call site kept for the error message (aliasguard's own excluded).
STACK_LIMIT: Final = 6


def call_site() -> list[Frame]:
    """The stack of the caller (a share() call, a raw route, a write), innermost last, without
    aliasguard's, torch's and NumPy's frames before it."""
    frame = inspect.currentframe()
    while frame is not None and frame.f_code.co_filename.startswith(LIBRARY_DIRECTORIES):
        frame = frame.f_back
    # Outer frames of aliasguard's own (`aliasguard run`) and of runpy call every program.
    runners = (*_runner_directories(), PACKAGE_DIRECTORY, "<frozen runpy>")
    stack: list[Frame] = []
    while frame is not None and len(stack) < STACK_LIMIT:
        code = frame.f_code
        if not code.co_filename.startswith(runners):
            stack.append((code.co_filename, frame.f_lineno or 0, code.co_name))
        frame = frame.f_back
    stack.reverse()
    return stack


#: The test runners whose frames call every test: the user wants their own frames in the few a
#: message shows.
_RUNNERS: Final = ("_pytest", "pluggy", "unittest")


def _runner_directories() -> tuple[str, ...]:
    """The installed directories of the test runners imported in this process."""
    directories: list[str] = []
    for name in _RUNNERS:
        module = sys.modules.get(name)
        location = getattr(module, "__file__", None)
        if location is not None:
            directories.append(os.path.dirname(os.path.abspath(location)) + os.sep)
    return tuple(directories)


def format_stack(stack: tuple[Frame, ...] | list[Frame]) -> str:
    """A recorded stack as Python prints a traceback's frames, one ``File ...`` entry each."""
    frames = [traceback.FrameSummary(file, line, function) for file, line, function in stack]
    return "".join(traceback.StackSummary.from_list(frames).format())
