"""Cross-library aliases made by the raw routes, and the findings they lead to.

A raw route (``torch.from_numpy(a)``, ``t.numpy()``, ...) makes a NumPy array and a tensor over
one block of memory. The rule: a write through one library into memory that a live object of the
other library still views is a finding.

- **torch writes** are seen by the sanitizer's dispatch mode (`check_write`): the alias is a
  finding when its NumPy side is still held by something other than the tensor itself, counted
  with ``sys.getrefcount`` along the array's ``.base`` chain. The temporary behind
  ``torch.from_numpy(a.copy())`` only keeps the memory alive: nothing else holds it, so it is not a
  viewer, and writing the tensor is fine.
- **NumPy writes** cannot be seen, only refused: while the tensor side is alive and held
  elsewhere, the NumPy side is read-only (`_numpy_locks`), and NumPy's ``ValueError`` gets a note
  naming the alias as it leaves the sanitized block.

Findings raise `AliasingError` before the write (the default), or, in report mode, are collected
(one per pair of sites) for `aliasguard run --report` to print at exit. Intended sharing is
silenced with `allow_shared_writes` or a suppressions file (`load_suppressions`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import sys
import threading
import weakref
from collections.abc import Generator
from pathlib import Path
from typing import Any, Final, final

import numpy as np
import torch

from .. import _torch_compat
from .._describing import describe_lent
from .._errors import AliasingError
from .._memory import shares_memory
from .._numpy_locks import is_locked
from ._call_sites import Frame, call_site
from ._dispatch import register_alias_checker
from ._ledger import LOCKING_REGISTRIES, REGISTRY, Borrow, BorrowRegistry, overlapping_borrows
from ._messages import cross_library_write
from ._storage_swaps import register_raw_viewer_finder

_Array = np.ndarray[Any, Any]

#: Live cross-library aliases, by the tensor side's memory. Each entry lives as long as the side
#: that keeps the other alive: the tensor for ``from_numpy``, the array for ``numpy()``.
ALIASES: Final = BorrowRegistry()
LOCKING_REGISTRIES.append(ALIASES)


@final
class _Settings:
    """How raw aliases are treated, process-wide: set by `aliasguard run` and the pytest plugin."""

    def __init__(self) -> None:
        self.depth = 0  # sanitizers with raw routes entered, across threads
        self.report = False
        self.suppressions: list[tuple[str, str]] = []


SETTINGS: Final = _Settings()
_settings_lock: Final = threading.Lock()


class _AllowedWrites(threading.local):
    def __init__(self) -> None:
        self.allowed = 0


_ALLOWED_WRITES: Final = _AllowedWrites()


def enter_raw() -> None:
    with _settings_lock:
        SETTINGS.depth += 1
        if SETTINGS.depth == 1:
            register_alias_checker(check_write, ALIASES.live)
            register_raw_viewer_finder(find_viewer)


def exit_raw() -> None:
    with _settings_lock:
        SETTINGS.depth -= 1
        if SETTINGS.depth == 0:
            register_alias_checker(None)
            register_raw_viewer_finder(None)


def _recording() -> bool:
    return SETTINGS.depth > 0 and not _ALLOWED_WRITES.allowed


# ----------------------------------------------------------------------------------------------
# What the raw routes report


def _is_borrowed(value: _Array | torch.Tensor) -> bool:
    return bool(overlapping_borrows(value))


def array_to_tensor(array: _Array, tensor: torch.Tensor, route: str, held_by_tensor: int) -> None:
    """A route made ``tensor`` from ``array``; ``held_by_tensor``: references it keeps to it."""
    if tensor.device.type != "cpu" or not shares_memory(tensor, array):
        return  # a copy (as_tensor with a new dtype): nothing shared
    # Read-only by its own flag, not one of ours (a raw alias's lock is no borrow).
    read_only = not array.flags.writeable and not is_locked(array)
    if read_only or _is_borrowed(array):
        # A tensor over read-only or borrowed memory re-enters the borrow through the back door
        # (torch.from_numpy(x.value) inside a @checked call): it stays a borrow.
        REGISTRY.add(tensor, call_site(), made_by=f"{route} of borrowed or read-only memory")
    if not _recording():
        return
    alias = ALIASES.add(tensor, call_site(), made_by=route, owners=[array])
    if alias is not None:
        alias.viewer = weakref.ref(array)
        alias.viewer_held = held_by_tensor


def tensor_to_array(tensor: torch.Tensor, array: _Array, route: str, held: bool) -> None:
    """A route made ``array`` over ``tensor``'s memory; ``held``: something else holds the tensor."""
    if _is_borrowed(tensor):
        array.flags.writeable = False  # a NumPy path into a borrow stays read-only
    if not _recording():
        return
    # The tensor side is held elsewhere (a variable, a module's parameter): NumPy writes into
    # the array would change it under its holder.
    owners = [array] if held else []
    alias = ALIASES.add(tensor, call_site(), made_by=route, anchor=array, owners=owners)
    if alias is not None:
        alias.viewer = weakref.ref(array)
        alias.viewer_held = 0


# ----------------------------------------------------------------------------------------------
# Torch writes


def _viewed(reference: weakref.ReferenceType[_Array], held_first: int) -> bool:
    """Whether something besides the tensor holds the NumPy side or an array of its base chain.

    References counted: ``getrefcount``'s argument and the local ``array``; the tensor's own
    references for the first array, and the ``.base`` of the one before it for the others.
    """
    array = reference()
    if array is None:
        return False
    held = held_first
    while True:
        if sys.getrefcount(array) > 2 + held:
            return True
        array = array.base
        if not isinstance(array, np.ndarray):
            return False
        held = 1


def find_viewer(start: int, stop: int) -> Borrow | None:
    """The raw alias whose NumPy side something still holds over ``[start, stop)``, if any."""
    for alias in ALIASES.candidates(start, stop):
        reference = alias.viewer
        if (
            reference is not None
            and alias.value() is not None
            and _viewed(reference, alias.viewer_held)
        ):
            return alias
    return None


def check_write(func: Any, name: str, tensor: torch.Tensor, start: int, stop: int) -> None:
    """The sanitizer's call for each torch write: a finding when a live NumPy array views it."""
    if _ALLOWED_WRITES.allowed:
        return
    for alias in ALIASES.candidates(start, stop):
        reference = alias.viewer
        value = alias.value()
        if reference is None or value is None or not _viewed(reference, alias.viewer_held):
            continue
        if not shares_memory(tensor, value):
            continue
        write_stack = call_site()
        if _suppressed(alias.stack, write_stack):
            continue
        finding = Finding(
            op=_torch_compat.op_name(func),
            parameter=name,
            route=alias.made_by,
            description=describe_lent(tensor, ""),
            alias_stack=tuple(alias.stack),
            write_stack=tuple(write_stack),
        )
        if SETTINGS.report:
            _FINDINGS.setdefault(finding.key, finding)
            return
        raise AliasingError(
            finding.message(), function=finding.op, parameter=name, rule="cross-library"
        )


# ----------------------------------------------------------------------------------------------
# Findings


@dataclasses.dataclass(frozen=True)
class Finding:
    """A write through torch into memory that a live NumPy array views."""

    op: str
    parameter: str
    route: str
    description: str
    alias_stack: tuple[Frame, ...]
    write_stack: tuple[Frame, ...]

    @property
    def key(self) -> tuple[Frame | None, Frame | None]:
        """The pair of sites: one finding per pair, however often it happens."""
        return (
            self.alias_stack[-1] if self.alias_stack else None,
            self.write_stack[-1] if self.write_stack else None,
        )

    def message(self) -> str:
        return cross_library_write(
            self.op,
            self.parameter,
            self.description,
            self.route,
            alias_stack=self.alias_stack,
            write_stack=self.write_stack,
        )


_FINDINGS: Final[dict[tuple[Frame | None, Frame | None], Finding]] = {}


def findings() -> list[Finding]:
    """The findings collected in report mode, one per pair of sites, in the order first seen."""
    return list(_FINDINGS.values())


def clear_findings() -> None:
    _FINDINGS.clear()


# ----------------------------------------------------------------------------------------------
# Suppressions


@contextlib.contextmanager
def allow_shared_writes() -> Generator[None, None, None]:
    """Let writes into memory shared across the libraries through, on this thread.

    For sharing that is intended (a tensor filled in place that a NumPy array is meant to see):
    inside the block, torch writes into raw cross-library aliases are not findings, and raw routes
    taken in it record nothing. Borrows (`share`, ``Shared``, `checked`) stay enforced.

    Examples:
        >>> import numpy as np, torch, aliasguard
        >>> frame = np.zeros(3, dtype=np.float32)
        >>> with aliasguard.sanitize(raw_routes=True):
        ...     view = torch.from_numpy(frame)
        ...     with aliasguard.allow_shared_writes():
        ...         _ = view.add_(1)             # meant to update `frame`
        >>> frame.tolist()
        [1.0, 1.0, 1.0]
    """
    _ALLOWED_WRITES.allowed += 1
    try:
        yield
    finally:
        _ALLOWED_WRITES.allowed -= 1


def _suppressed(alias_stack: list[Frame], write_stack: list[Frame]) -> bool:
    for kind, pattern in SETTINGS.suppressions:
        stack = alias_stack if kind == "alias" else write_stack
        for file, line, function in stack:
            if fnmatch.fnmatch(f"{file}:{line}", pattern) or fnmatch.fnmatch(function, pattern):
                return True
    return False


#: The kinds of suppression lines: which site's frames the pattern is matched against.
SUPPRESSION_KINDS: Final = ("alias", "write")


def load_suppressions(path: str | Path) -> list[tuple[str, str]]:
    """Read a suppressions file: ``alias:PATTERN`` or ``write:PATTERN`` per line, ``#`` comments.

    A pattern is a glob matched against every frame of the site's stack, as ``file:line`` and as
    the function's name (``write:*/gym/vector/*``, ``alias:reset_buffers``).

    Raises:
        ValueError: a line that is not ``KIND:PATTERN`` with a known kind, naming the line.
    """
    rules: list[tuple[str, str]] = []
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        kind, _, pattern = line.partition(":")
        if kind.strip() not in SUPPRESSION_KINDS or not pattern.strip():
            raise ValueError(
                f"{path}:{number}: {raw.strip()!r} is not a suppression: write 'alias:PATTERN' "
                "(the site that made the alias) or 'write:PATTERN' (the site of the write), "
                "PATTERN a glob over file:line or a function name."
            )
        rules.append((kind.strip(), pattern.strip()))
    return rules


def configure(*, report: bool, suppressions: list[tuple[str, str]]) -> None:
    SETTINGS.report = report
    SETTINGS.suppressions = suppressions


def is_alias(candidate: Borrow) -> bool:
    return candidate.viewer is not None
