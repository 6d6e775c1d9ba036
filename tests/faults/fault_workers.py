"""What the worker processes of tests/faults run: importable by name, as spawn and forkserver need.

Each aliasguard error is raised by the library itself, from a real misuse, so that what crosses the
process boundary is what a user's worker would send.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from jaxtyping import Float32
from torch.utils.data import Dataset

import aliasguard
from aliasguard import AliasingError, own, share


@aliasguard.checked
def takes_float32(x: Float32[np.ndarray, " n"]) -> None:
    del x


def _share_negative_strides() -> None:
    share(np.arange(3.0)[::-1])


def _cast_losing_precision() -> None:
    own(np.arange(3.0), dtype=np.float32)


def _own_strings() -> None:
    own(np.array(["a"]))


def _call_with_wrong_dtype() -> None:
    takes_float32(np.zeros(2))


def _write_into_a_borrow() -> None:
    with aliasguard.sanitize():
        share(np.zeros(2, np.float32)).value.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]


MISUSES: dict[str, Callable[[], None]] = {
    "ShareError": _share_negative_strides,
    "CastError": _cast_losing_precision,
    "ConversionError": _own_strings,
    "AnnotationError": _call_with_wrong_dtype,
    "AliasingError": _write_into_a_borrow,
}


def raise_error(kind: str) -> None:
    """Commit the misuse that makes aliasguard raise the error named ``kind``."""
    MISUSES[kind]()
    msg = f"{kind}: the misuse raised nothing"
    raise AssertionError(msg)


def caught(kind: str) -> BaseException:
    """The error ``kind``'s misuse raises in this process."""
    try:
        raise_error(kind)
    except aliasguard.AliasGuardError as error:
        return error
    raise AssertionError(kind)  # unreachable: raise_error always raises


def write_into_a_borrow() -> str:
    """``"refused"`` when a sanitizer in this process stops a write into a borrow, else ``"written"``."""
    borrowed = share(np.zeros(2, np.float32)).value
    try:
        borrowed.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    except AliasingError:
        return "refused"
    return "written"


def enter_sanitizer(worker_id: int) -> None:
    """A DataLoader ``worker_init_fn``: check every op of the worker, for the rest of its life."""
    del worker_id
    aliasguard.sanitize().__enter__()


class ProbeThenFail(Dataset[Any]):
    """Item 0 reports whether the worker's sanitizer refuses a write; item 1 raises ``kind``."""

    def __init__(self, kind: str | None = None) -> None:
        self.kind = kind

    def __len__(self) -> int:
        return 1 if self.kind is None else 2

    def __getitem__(self, index: int) -> Any:
        if index == 0:
            return write_into_a_borrow()
        assert self.kind is not None
        raise_error(self.kind)
        return torch.zeros(())
