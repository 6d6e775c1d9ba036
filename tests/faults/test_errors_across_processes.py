"""aliasguard's errors cross process boundaries as themselves: pickle, Pool, executors, DataLoader.

A worker's exception reaches the parent pickled (multiprocessing, concurrent.futures) or rebuilt
from its class and message (torch's DataLoader). Errors whose constructors need keyword-only
fields could do neither: Pool.map hung for ever, ProcessPoolExecutor reported BrokenProcessPool,
and DataLoader raised a plain RuntimeError. Every wait here has a timeout, so a hang fails the
test instead of stalling the run.
"""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from fault_workers import MISUSES, ProbeThenFail, caught, raise_error
from torch.utils.data import DataLoader

import aliasguard
from aliasguard import (
    AliasGuardError,
    AliasingError,
    AnnotationError,
    CastError,
    ConversionError,
    FuzzError,
    ShareError,
)
from aliasguard._fuzz import FuzzFinding
from aliasguard._python_compat import add_note

#: Seconds any one wait on a worker may take: spawn-started workers import torch first.
TIMEOUT_SECONDS = 120
KINDS = sorted(MISUSES)


class DomainError(ShareError):
    """A user's subclass with a required keyword-only field of its own."""

    def __init__(self, message: str, *, batch: int) -> None:
        super().__init__(message, reason="domain")
        self.batch = batch


def every_error() -> list[AliasGuardError]:
    finding = FuzzFinding(ValueError("bad"), (("x", "ndarray float32 (2,)"),))
    return [
        AliasGuardError("base"),
        ShareError("share() cannot alias ...", reason="negative-strides"),
        CastError("own() refused ...", source="float64", target="float32", casting="safe"),
        ConversionError("own() cannot convert ...", reason="dtype"),
        AliasingError("aten::add_ would write ...", function="f", parameter="x", rule="borrow"),
        AnnotationError("f() got ...", function="f", parameter="x", rule="dtype"),
        FuzzError("fuzz() found ...", function="f", rule="ValueError", findings=(finding,)),
        DomainError("batch 3 failed", batch=3),
    ]


def fields(error: BaseException) -> dict[str, Any]:
    return {name: repr(value) for name, value in vars(error).items()}


def assert_same_error(received: BaseException, sent: BaseException) -> None:
    assert type(received) is type(sent)
    assert received.args == sent.args
    assert fields(received) == fields(sent)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("error", every_error(), ids=lambda error: type(error).__name__)
def test_every_error_round_trips_through_pickle(error: AliasGuardError, protocol: int) -> None:
    add_note(error, "raised while converting batch 3")  # Python 3.10 has no add_note method
    assert_same_error(pickle.loads(pickle.dumps(error, protocol=protocol)), error)


@pytest.mark.parametrize("kind", KINDS)
def test_errors_raised_by_the_library_round_trip_through_pickle(kind: str) -> None:
    error = caught(kind)
    assert type(error).__name__ == kind
    assert_same_error(pickle.loads(pickle.dumps(error)), error)


@pytest.mark.parametrize(
    "cls", [type(error) for error in every_error() if type(error) is not DomainError]
)
def test_every_error_can_be_rebuilt_from_its_message_alone(cls: type[AliasGuardError]) -> None:
    # How torch's DataLoader rebuilds a worker's exception: exc_type(text_of_the_traceback).
    error = cls("Caught it in DataLoader worker process 0.")
    assert str(error) == "Caught it in DataLoader worker process 0."


# ----------------------------------------------------------------------------------------------
# Worker processes

# spawn and forkserver workers import torch (seconds on two cores): those runs are slow.
START_METHODS = [
    pytest.param(
        "fork",
        marks=pytest.mark.skipif(
            "fork" not in multiprocessing.get_all_start_methods(), reason="no fork here"
        ),
    ),
    pytest.param("spawn", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("method", START_METHODS)
def test_a_pool_worker_error_arrives_as_itself(method: str) -> None:
    expected = {kind: caught(kind) for kind in KINDS}
    with multiprocessing.get_context(method).Pool(1) as pool:
        pending = {kind: pool.apply_async(raise_error, (kind,)) for kind in KINDS}
        for kind, result in pending.items():
            # Unpicklable errors killed the pool's result thread: get() then waited for ever.
            with pytest.raises(AliasGuardError) as raised:
                result.get(timeout=TIMEOUT_SECONDS)
            received, sent = raised.value, expected[kind]
            assert type(received) is type(sent)
            assert str(received).splitlines()[0] == str(sent).splitlines()[0]
            assert vars(received) == vars(sent)


@pytest.mark.parametrize("method", START_METHODS)
def test_a_process_pool_executor_error_arrives_as_itself(method: str) -> None:
    expected = {kind: caught(kind) for kind in KINDS}
    executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method))
    try:
        for kind in KINDS:
            future = executor.submit(raise_error, kind)
            # Unpicklable errors broke the pool: BrokenProcessPool instead of the error.
            with pytest.raises(AliasGuardError) as raised:
                future.result(timeout=TIMEOUT_SECONDS)
            received, sent = raised.value, expected[kind]
            assert type(received) is type(sent)
            assert str(received).splitlines()[0] == str(sent).splitlines()[0]
            assert vars(received) == vars(sent)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


@pytest.mark.parametrize("method", START_METHODS)
@pytest.mark.parametrize("kind", ["ShareError", "ConversionError"])
def test_a_dataloader_worker_error_arrives_as_itself(method: str, kind: str) -> None:
    loader = DataLoader(
        ProbeThenFail(kind),
        batch_size=None,
        num_workers=2,
        multiprocessing_context=method,
        timeout=TIMEOUT_SECONDS,
    )
    expected = caught(kind)
    # DataLoader rebuilds the error from its class and the worker's traceback: the fields are
    # not sent, the class and the message are.
    with pytest.raises(type(expected)) as raised:
        list(loader)
    assert type(raised.value) is type(expected)
    message = str(raised.value)
    assert message.startswith(f"Caught {kind} in DataLoader worker process 1.")
    assert str(expected).splitlines()[0] in message


def test_the_library_raises_every_kind_of_error_the_workers_send() -> None:
    # The misuses table must keep covering the classes users catch.
    raised = {type(caught(kind)) for kind in KINDS}
    assert raised == {ShareError, CastError, ConversionError, AnnotationError, AliasingError}
    assert aliasguard.AliasGuardError in type(caught("ShareError")).__mro__
