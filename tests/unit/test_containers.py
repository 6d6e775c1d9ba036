"""`@checked` applies the aliasing rules to wrappers inside tuples, lists, dicts, NamedTuples and dataclasses.

RL environments return ``(obs, reward, done, info)`` tuples and dicts of observations; data
pipelines pass batches as NamedTuples or dataclasses. Each leaf gets the rules a parameter of its own
would get, and messages name it by its path: ``return[0]``, ``return['pixels']``, ``batch.obs``.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pytest
import torch
from jaxtyping import Float
from torch import Tensor

from aliasguard import AliasingError, AnnotationError, Owned, Shared, checked, own, share

Array = npt.NDArray[np.float32]


def unchecked(value: object) -> Any:
    """A value the type checkers let through: the bugs below are the ones only run time sees."""
    return value


class Step(NamedTuple):
    obs: Owned[Array]
    reward: float


@dataclass
class Batch:
    obs: Shared[Tensor]
    target: Owned[Tensor]


@dataclass(frozen=True)
class FrozenBatch:
    obs: Shared[Array]


# ------------------------------------------------------------------------------------------------
# Returns: freshness, kind and library, leaf by leaf


class BufferedEnv:
    """dm_control #34's shape: a step that hands out the same observation buffer every call."""

    def __init__(self) -> None:
        self.buffer = np.zeros(4, dtype=np.float32)

    @checked
    def step(self) -> tuple[Owned[Array], float]:
        self.buffer += 1
        return Owned(self.buffer), 0.0

    @checked
    def step_dict(self) -> dict[str, Owned[Array]]:
        self.buffer += 1
        return {"pixels": Owned(self.buffer)}

    @checked
    def step_fixed(self) -> tuple[Owned[Array], float]:
        self.buffer += 1
        return Owned(self.buffer.copy()), 0.0


def test_a_tuple_return_handing_out_one_buffer_twice_is_refused_at_its_path() -> None:
    env = BufferedEnv()
    first, _ = env.step()
    with pytest.raises(AliasingError, match=r"return\[0\].*freshness") as caught:
        env.step()
    assert caught.value.parameter == "return[0]"
    # Freshness is a check of the return: the step's own write came first, and the error stops the
    # caller from going on with two names for one buffer.
    assert first.value.tolist() == [2.0] * 4


def test_a_dict_return_handing_out_one_buffer_twice_names_the_key() -> None:
    env = BufferedEnv()
    kept = env.step_dict()
    with pytest.raises(AliasingError, match=r"return\['pixels'\]"):
        env.step_dict()
    assert kept["pixels"].value.base is None


def test_the_fixed_step_returns_fresh_observations() -> None:
    env = BufferedEnv()
    observations = [env.step_fixed()[0] for _ in range(3)]
    assert [o.value[0] for o in observations] == [1.0, 2.0, 3.0]


def test_an_owned_return_member_aliasing_an_argument_is_not_fresh() -> None:
    @checked
    def split(x: Shared[Tensor]) -> tuple[Owned[Tensor], Owned[Tensor]]:
        return Owned(x.value[:2].clone()), Owned(x.value)

    with pytest.raises(AliasingError, match=r"return\[1\].*argument 'x'") as caught:
        split(share(np.arange(4, dtype=np.float32)))
    assert caught.value.rule == "freshness"


def test_two_owned_members_of_one_return_may_not_share_memory() -> None:
    @checked
    def pair() -> tuple[Owned[Tensor], Owned[Tensor]]:
        base = torch.zeros(4)
        return Owned(base[:2].clone()), Owned(base[2:].clone())

    assert [member.value.shape for member in pair()] == [(2,), (2,)]

    @checked
    def twice() -> dict[str, Owned[Tensor]]:
        fresh = Owned(torch.zeros(4))
        return {"a": fresh, "b": fresh}

    with pytest.raises(AliasingError, match=r"return\['b'\].*return\['a'\]"):
        twice()


def test_a_dict_member_of_the_wrong_library_names_the_member_and_what_it_was() -> None:
    @checked
    def observe() -> dict[str, Owned[Array]]:
        members: collections.OrderedDict[str, Owned[Tensor]] = collections.OrderedDict()
        members["pixels"] = Owned(torch.zeros(3))
        return unchecked(members)  # type: ignore[no-any-return]

    with pytest.raises(AnnotationError) as caught:
        observe()
    first_line = str(caught.value).splitlines()[0]
    assert "return['pixels']" in first_line
    assert "float32 Tensor of shape (3,)" in first_line
    assert "OrderedDict" not in first_line


def test_a_bare_array_where_a_member_needs_a_wrapper_names_the_member() -> None:
    @checked
    def observe() -> Step:
        return Step(unchecked(np.zeros(3, dtype=np.float32)), 1.0)

    with pytest.raises(AnnotationError, match=r"return\.obs.*kind rule"):
        observe()


def test_a_wrong_container_or_length_is_a_type_error_at_its_path() -> None:
    @checked
    def pair() -> tuple[Owned[Tensor], float]:
        return unchecked((Owned(torch.zeros(1)),))  # type: ignore[no-any-return]

    with pytest.raises(AnnotationError, match=r"1 items where it has 2"):
        pair()

    @checked
    def members(x: dict[str, Shared[Tensor]]) -> None:
        del x

    with pytest.raises(AnnotationError, match=r"parameter 'x'.*got a list"):
        members(unchecked([share(np.zeros(1))]))
    with pytest.raises(AnnotationError, match=r"a key of type int \(3\)"):
        members(unchecked({3: share(np.zeros(1))}))


def test_non_wrapper_members_are_checked_by_beartype_at_their_path() -> None:
    @checked
    def step() -> tuple[Owned[Tensor], float]:
        return Owned(torch.zeros(1)), unchecked("done")

    with pytest.raises(AnnotationError, match=r"return\[1\] breaks the type rule"):
        step()


def test_shapes_bind_across_members() -> None:
    @checked
    def obs_and_mask() -> tuple[Owned[Float[Tensor, " n"]], Owned[Float[Tensor, " n"]]]:
        return Owned(torch.zeros(3)), Owned(torch.zeros(4))

    with pytest.raises(AnnotationError, match=r"return\[1\].*axis n is 4 here but 3"):
        obs_and_mask()


# ------------------------------------------------------------------------------------------------
# Arguments: borrow, exclusivity, move


def test_a_shared_tensor_in_a_list_argument_is_a_borrow() -> None:
    @checked
    def normalize(batch: list[Shared[Tensor]]) -> None:
        unchecked(batch[1].value).sub_(1.0)

    data = [np.zeros(2, dtype=np.float32), np.ones(2, dtype=np.float32)]
    with pytest.raises(AliasingError, match=r"batch\[1\]"):
        normalize([share(array) for array in data])
    assert data[1].tolist() == [1.0, 1.0]  # refused before the write, under the sanitizer


def test_a_shared_numpy_array_in_a_dataclass_reaches_the_callee_read_only() -> None:
    seen: list[bool] = []

    @checked
    def look(batch: FrozenBatch) -> None:
        seen.append(batch.obs.value.flags.writeable)
        unchecked(batch.obs.value)[0] = 1.0

    source = np.zeros(3, dtype=np.float32)
    batch = FrozenBatch(Shared(source))
    with pytest.raises(AliasingError, match=r"batch\.obs"):
        look(batch)
    assert seen == [False]
    assert source.tolist() == [0.0, 0.0, 0.0]
    assert batch.obs.value is source  # the caller's record is untouched; the callee got a copy


def test_an_owned_member_is_moved_and_the_callers_handle_dies() -> None:
    received: list[Any] = []

    @checked
    def train(batch: Batch) -> None:
        received.append(batch.target.value)

    target = own(np.arange(3, dtype=np.float32))
    batch = Batch(share(np.zeros(3, dtype=np.float32)), target)
    train(batch)
    assert received[0].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(AliasingError, match="moved"):
        _ = target.value


def test_an_owned_member_overlapping_another_argument_is_not_exclusive() -> None:
    @checked
    def update(step: Step, other: Shared[Array]) -> None:
        del step, other

    buffer = np.zeros(4, dtype=np.float32)
    with pytest.raises(AliasingError, match=r"step\.obs.*exclusivity") as caught:
        update(Step(Owned(buffer), 0.0), Shared(buffer[1:]))
    assert caught.value.rule == "exclusivity"


def test_a_namedtuple_of_owned_and_a_plain_float_is_accepted_and_passed_on() -> None:
    @checked
    def reward_of(step: Step) -> float:
        return step.reward + float(step.obs.value.sum())

    assert reward_of(Step(Owned(np.ones(2, dtype=np.float32)), 1.0)) == 3.0


def test_optional_members_and_containers() -> None:
    @checked
    def first(x: tuple[Owned[Tensor] | None, ...] | None) -> list[Owned[Tensor] | None]:
        if x is None:
            return []
        return [None if item is None else Owned(item.value + 1) for item in x]

    assert first(None) == []
    result = first((None, Owned(torch.zeros(1))))
    assert result[0] is None
    assert result[1] is not None
    assert torch.equal(result[1].value, torch.ones(1))
