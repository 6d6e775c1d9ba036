"""Runs a catalogue scenario in one mode and reports what happened, for the tests and the docs table."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
from collections.abc import Callable, Generator
from typing import Literal

from aliasguard import AliasingError, sanitize
from aliasguard._numpy_locks import is_read_only_refusal

from .catalogue import Bug, Probe

Mode = Literal["unguarded", "annotated", "none", "fixed"]


@dataclasses.dataclass(frozen=True)
class Outcome:
    #: aliasguard stopped the run: an AliasingError, or NumPy's refusal of a write it made read-only.
    caught: bool
    #: What the probe said must not happen, happened (checked after the run or the refusal).
    damaged: bool
    #: Any other exception: a crash, never acceptable.
    crash: BaseException | None

    @property
    def caught_before_damage(self) -> bool:
        return self.caught and not self.damaged and self.crash is None

    @property
    def clean(self) -> bool:
        """Ran to the end, untouched by aliasguard, with the right results."""
        return not self.caught and not self.damaged and self.crash is None


@contextlib.contextmanager
def _unguarded() -> Generator[None]:
    yield


def _guard(mode: Mode) -> Callable[[], contextlib.AbstractContextManager[object]]:
    if mode == "unguarded":
        return _unguarded
    if mode == "annotated":
        return sanitize
    return lambda: sanitize(raw_routes=True)


@functools.cache  # the scenarios are deterministic: the docs test reuses the per-bug runs
def run(bug: Bug, mode: Mode) -> Outcome:
    """Run ``bug``'s scenario for ``mode``: the annotated code under `sanitize()`, the original
    code under the zero-annotation mode (``sanitize(raw_routes=True)``, what `aliasguard run`
    enters), the fixed code under the zero-annotation mode, and the original code unguarded."""
    scenario = {"unguarded": bug.original, "annotated": bug.annotated, "none": bug.original}.get(
        mode, bug.fixed
    )
    probe = Probe()
    caught = False
    crash: BaseException | None = None
    try:
        with _guard(mode)():
            scenario(probe)
    except AliasingError:
        caught = True
    except ValueError as error:
        if is_read_only_refusal(error):
            caught = True
        else:
            crash = error
    except Exception as error:  # reported as a crash, which the tests refuse
        crash = error
    gc.collect()  # borrows of this run end here, not in the next one
    return Outcome(caught, probe.damaged(completed=not caught and crash is None), crash)


def summary(bugs: tuple[Bug, ...]) -> dict[str, int]:
    """The counts the docs page states: caught before damage both ways, and false positives."""
    return {
        "bugs": len(bugs),
        "annotated": sum(run(bug, "annotated").caught_before_damage for bug in bugs),
        "none": sum(run(bug, "none").caught_before_damage for bug in bugs),
        "false positives": sum(not run(bug, "fixed").clean for bug in bugs),
    }
