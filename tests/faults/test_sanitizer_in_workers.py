"""What a DataLoader worker's sanitizer does under each start method, as docs/faq.md says.

fork copies the parent, its active sanitizer included: the worker checks without being asked.
spawn and forkserver start a fresh interpreter: the worker checks only what a ``worker_init_fn``
puts under `sanitize()`.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable

import pytest
from fault_workers import ProbeThenFail, enter_sanitizer
from torch.utils.data import DataLoader

import aliasguard

# Each test decides where the sanitizer is active; the plugin's would wrap the parent too.
pytestmark = [
    pytest.mark.aliasguard_unsanitized,
    pytest.mark.skipif(
        "forkserver" not in multiprocessing.get_all_start_methods(), reason="POSIX start methods"
    ),
]

TIMEOUT_SECONDS = 120


def probe(method: str, worker_init_fn: Callable[[int], None] | None = None) -> list[str]:
    loader = DataLoader(
        ProbeThenFail(),
        batch_size=None,
        num_workers=1,
        multiprocessing_context=method,
        worker_init_fn=worker_init_fn,
        timeout=TIMEOUT_SECONDS,
    )
    with aliasguard.sanitize():  # the parent checks; does the worker?
        return list(loader)


def test_fork_started_workers_inherit_the_active_sanitizer() -> None:
    assert probe("fork") == ["refused"]


def test_workers_forked_outside_the_sanitizer_do_not_check() -> None:
    loader = DataLoader(ProbeThenFail(), batch_size=None, num_workers=1, timeout=TIMEOUT_SECONDS)
    assert list(loader) == ["written"]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_fresh_interpreter_workers_check_only_under_worker_init_fn(method: str) -> None:
    assert probe(method) == ["written"]
    assert probe(method, enter_sanitizer) == ["refused"]
