"""The owner's NumPy writes are refused while a borrow of its memory lives, under sanitize()."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pytest
import torch

import aliasguard
from aliasguard import Shared, sanitize, share
from aliasguard._numpy_locks import Locks, held_locks, is_locked, release_everything
from helpers import as_list

# These tests enter and leave sanitize() themselves: the flags come back when the last one exits.
pytestmark = pytest.mark.aliasguard_unsanitized


@pytest.fixture(autouse=True)
def no_lock_left() -> Iterator[None]:
    gc.collect()
    assert held_locks() == []
    yield
    gc.collect()
    assert held_locks() == []


def buffer() -> npt.NDArray[np.float32]:
    return np.arange(4, dtype=np.float32)


def notes_of(error: BaseException) -> str:
    return "\n".join(getattr(error, "__notes__", ()))


def test_the_owner_write_is_refused_before_it_happens_and_explained() -> None:
    owner = buffer()
    held: list[torch.Tensor] = []

    def consume_then_overwrite() -> None:
        held.append(share(owner).value)
        owner[0] = 7  # the classic bug: the consumer's tensor would change under it

    with pytest.raises(ValueError, match="read-only") as caught, sanitize():
        consume_then_overwrite()
    (tensor,) = held
    assert owner.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert as_list(tensor) == [0.0, 1.0, 2.0, 3.0]
    note = notes_of(caught.value)
    assert note.startswith("aliasguard: NumPy refused this write because the memory is borrowed")
    assert "share()" in note
    assert "a.copy()" in note  # the fix
    assert __file__ in note  # where the borrow was made
    assert "test_the_owner_write_is_refused" in note
    assert owner.flags.writeable  # given back when the sanitizer exited


def test_the_owner_writes_again_once_the_borrow_is_gone() -> None:
    owner = buffer()
    with sanitize():
        tensor = share(owner).value
        assert not owner.flags.writeable
        view = tensor[1:]  # a view keeps the borrow alive
        del tensor
        gc.collect()
        assert not owner.flags.writeable
        del view
        gc.collect()
        assert owner.flags.writeable
        owner[0] = 7
    assert owner[0] == 7


def test_a_dropped_wrapper_does_not_end_the_borrow_of_share() -> None:
    owner = buffer()
    with sanitize():
        tensor = share(owner).value  # the wrapper is gone at once, the value lives on
        gc.collect()
        assert not owner.flags.writeable
        del tensor


def test_an_array_already_read_only_stays_read_only() -> None:
    owner = buffer()
    owner.flags.writeable = False
    with sanitize():
        tensor = share(owner).value
        del tensor
    assert not owner.flags.writeable
    assert not is_locked(owner)


def test_the_base_chain_is_locked_and_restored_base_first() -> None:
    base = np.zeros(10, dtype=np.float32)
    middle = base[2:8]
    owner = middle[1:4]  # NumPy records `base` as its base: `middle` is an unseen earlier view
    with sanitize():
        tensor = share(owner).value
        assert not owner.flags.writeable
        assert not base.flags.writeable
        assert middle.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            base[3] = 1
        del tensor
        gc.collect()
        assert base.flags.writeable
        assert owner.flags.writeable
    assert not base.any()


def test_a_chain_through_a_foreign_buffer_is_locked_up_to_it() -> None:
    raw = bytearray(16)
    base = np.frombuffer(raw, dtype=np.float32)
    owner = base[1:]
    with sanitize():
        tensor = share(owner).value
        assert not base.flags.writeable
        del tensor
        gc.collect()
        assert base.flags.writeable


def test_views_made_before_the_borrow_are_not_seen() -> None:
    """Documented gap: NumPy records no views, so an earlier view keeps its own flag."""
    owner = buffer()
    earlier = owner[:2]
    with sanitize():
        tensor = share(owner).value
        earlier[0] = 9  # not refused
        assert float(tensor[0]) == 9.0


def test_two_borrows_of_one_array_lock_it_until_the_last_ends() -> None:
    owner = buffer()
    with sanitize():
        first = share(owner).value
        second = share(owner[1:]).value
        del first
        gc.collect()
        assert not owner.flags.writeable
        del second
        gc.collect()
        assert owner.flags.writeable


def test_nested_sanitizers_keep_the_locks_until_the_outermost_exit() -> None:
    owner = buffer()
    with sanitize():
        with sanitize():
            tensor = share(owner).value
        assert not owner.flags.writeable
        del tensor


def test_exiting_with_live_borrows_restores_every_flag() -> None:
    owner = buffer()
    with sanitize():
        tensor = share(owner).value
    assert owner.flags.writeable
    owner[0] = 5  # outside the sanitizer nothing is refused
    assert float(tensor[0]) == 5.0
    with sanitize():
        del tensor  # the old borrow's release must not unlock a newer lock
        again = share(owner).value
        gc.collect()
        assert not owner.flags.writeable
        del again


def test_shared_made_by_hand_lends_for_the_wrapper_lifetime() -> None:
    """A producer that returns Shared(self.buffer) may not rewrite it while a consumer holds it."""

    class Environment:
        def __init__(self) -> None:
            self.observation = np.zeros(3, dtype=np.float32)

        def step(self, value: float) -> Shared[npt.NDArray[np.float32]]:
            self.observation[:] = value
            return Shared(self.observation)

    environment = Environment()
    held: list[Shared[npt.NDArray[np.float32]]] = []

    def consume_two_steps() -> None:
        held.append(environment.step(1.0))
        environment.step(2.0)

    # The note is added as the error leaves the sanitized block.
    with pytest.raises(ValueError, match="read-only") as caught, sanitize():
        consume_two_steps()
    (first,) = held
    held.clear()
    assert "Shared()" in notes_of(caught.value)
    assert first.value.tolist() == [1.0, 1.0, 1.0]
    with sanitize():
        del first
        gc.collect()
        second = environment.step(2.0)
        assert second.value.tolist() == [2.0, 2.0, 2.0]
        del second


def test_threads_each_release_their_own_borrows() -> None:
    owner = buffer()
    started = threading.Barrier(2)
    done = threading.Barrier(2)
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            with sanitize():
                tensor = share(owner).value
                started.wait()
                assert not owner.flags.writeable
                done.wait()
                del tensor
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert owner.flags.writeable


def test_a_checked_call_locks_the_callers_array_for_the_call() -> None:
    owner = buffer()
    seen: list[bool] = []

    @aliasguard.checked
    def peek(x: Shared[npt.NDArray[np.float32]]) -> float:
        seen.append(bool(owner.flags.writeable))
        return float(x.value.sum())

    with sanitize():
        assert peek(Shared(owner.copy())) == 6.0
        assert peek(aliasguard.Owned(owner)) == 6.0
    assert seen == [True, False]
    assert owner.flags.writeable


def test_a_callback_writing_the_lent_array_is_a_borrow_violation() -> None:
    owner = buffer()

    @aliasguard.checked
    def run(x: Shared[npt.NDArray[np.float32]], callback: Any) -> float:
        callback()
        return float(x.value[0])

    def overwrite() -> None:
        owner[0] = 9

    with sanitize(), pytest.raises(aliasguard.AliasingError, match="borrow rule"):
        run(aliasguard.Owned(owner), overwrite)
    assert owner[0] == 0


def test_other_value_errors_get_no_note() -> None:
    owner = buffer()

    def borrow_then_fail() -> None:
        tensor = share(owner).value
        owner.reshape(3)
        del tensor

    with pytest.raises(ValueError, match="cannot reshape") as caught, sanitize():
        borrow_then_fail()
    assert notes_of(caught.value) == ""


def test_torch_writes_into_the_borrow_are_still_refused() -> None:
    owner = buffer()
    with sanitize():
        tensor = share(owner).value
        with pytest.raises(aliasguard.AliasingError, match="borrowed by share"):
            cast("torch.Tensor", tensor).add_(1)  # the bug the read-only stub warns of
    assert owner.tolist() == [0.0, 1.0, 2.0, 3.0]


# ----------------------------------------------------------------------------------------------
# The lock table itself


def test_release_everything_makes_stale_releases_harmless() -> None:
    array = buffer()
    old = Locks.take(array)
    release_everything()
    assert array.flags.writeable
    new = Locks.take(array)
    old.release()  # from before release_everything(): must not count the new lock down
    assert not array.flags.writeable
    new.release()
    assert array.flags.writeable


def test_tensors_do_not_care_about_the_flags() -> None:
    owner = buffer()
    with sanitize():
        tensor = share(owner).value
        fresh = tensor * 2  # reads are fine
        assert as_list(fresh) == [0.0, 2.0, 4.0, 6.0]
        assert isinstance(fresh, torch.Tensor)
        del tensor
