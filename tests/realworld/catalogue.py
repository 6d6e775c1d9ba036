# The original code is kept as its authors wrote it, with torch calls its stubs leave partly
# unannotated (from_numpy, manual_seed, optimizer.step).
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""Aliasing bugs reported in public projects, each as written, as annotated, and as fixed.

Every entry cites the report (repository and issue or pull-request number). ``original`` is the
reported code, cut to the lines that matter and left as its authors wrote it; ``annotated`` is the
same code with the annotations the docs recommend (``share()`` where memory is lent, ``Shared``
for a buffer the producer keeps writing, ``Owned`` for a value handed over, ``@checked``);
``fixed`` is the fix the project applied (or the one its maintainers gave), annotated where a
user would annotate it.

Each scenario tells a `Probe` what must stay true: memory that must not change under its holder,
the values a completed run must produce, and memory a refused op must leave alone. The tests run
each scenario under each mode and read the outcome from the probe; docs/realworld.md shows the
table the tests compute.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from multiprocessing.reduction import ForkingPickler
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import torch
import torch.multiprocessing as torch_multiprocessing
from torch import Tensor

import aliasguard
from aliasguard import Owned, Shared, checked, share

Array = npt.NDArray[Any]
#: Imported for its side effect: the tensor reducers that spawned DataLoader workers pickle with.
TENSOR_REDUCERS = torch_multiprocessing
Kind = Literal["crosses", "overlap", "same library"]


class Probe:
    """What a scenario says must hold; `damaged` reads it once the scenario ended or was refused."""

    def __init__(self) -> None:
        self._checks: list[tuple[str, Callable[[], bool]]] = []

    def watch(self, value: Array | Tensor) -> None:
        """``value`` belongs to someone else: it must never change."""
        before = _snapshot(value)
        self._checks.append(("always", lambda: _same(before, value)))

    def holds(self, condition: Callable[[], bool]) -> None:
        """``condition`` must stay true (a NumPy array still views its tensor's memory)."""
        self._checks.append(("always", condition))

    def expect(self, value: Array | Tensor, wanted: Array) -> None:
        """A run that completes must leave ``value`` equal to ``wanted`` (NumPy's answer)."""
        self._checks.append(("completed", lambda: bool(np.array_equal(_numpy(value), wanted))))

    def untouched_if_refused(self, value: Array | Tensor) -> None:
        """A refused op must leave ``value`` as it was: the refusal came before the kernel."""
        before = _snapshot(value)
        self._checks.append(("refused", lambda: _same(before, value)))

    def damaged(self, *, completed: bool) -> bool:
        applicable = {"always", "completed" if completed else "refused"}
        return not all(check() for when, check in self._checks if when in applicable)


def _numpy(value: Array | Tensor) -> Array:
    return value.detach().numpy() if isinstance(value, Tensor) else value


def _snapshot(value: Array | Tensor) -> Array:
    return np.array(_numpy(value), copy=True)


def _same(before: Array, value: Array | Tensor) -> bool:
    return bool(np.array_equal(before, _numpy(value)))


def writable(value: object) -> Any:
    """A borrowed value, as code that writes into it regardless sees it.

    The read-only stub makes a type checker flag these writes; the scenarios keep them, since the
    bug is the write.
    """
    return value


@dataclasses.dataclass(frozen=True)
class Bug:
    key: str
    title: str
    repository: str
    number: int
    kind: Kind
    original: Callable[[Probe], None]
    annotated: Callable[[Probe], None]
    fixed: Callable[[Probe], None]
    #: Why the zero-annotation mode cannot see it, for the bugs it misses.
    unseen_without_annotations: str = ""

    @property
    def source(self) -> str:
        return f"{self.repository} #{self.number}"


# ------------------------------------------------------------------------------------------------
# Memory shared across the two libraries


MEAN, STD = 0.5, 0.25


def _images() -> Array:
    return np.arange(24, dtype=np.float32).reshape(4, 3, 2) / 24


class _ToTensorDataset:
    """pytorch/vision #680: ToTensor aliased the cached array, and Normalize worked in place."""

    def __init__(self, images: Array) -> None:
        self.images = images

    def original(self, index: int) -> Tensor:
        tensor = torch.from_numpy(self.images[index])
        return tensor.sub_(MEAN).div_(STD)

    def annotated(self, index: int) -> Tensor:
        tensor = writable(share(self.images[index]).value)
        return cast("Tensor", tensor.sub_(MEAN).div_(STD))

    def fixed(self, index: int) -> Tensor:
        tensor: Tensor = share(self.images[index]).value
        return (tensor - MEAN) / STD


def _epochs(probe: Probe, item: Callable[[_ToTensorDataset, int], Tensor]) -> None:
    dataset = _ToTensorDataset(_images())
    probe.watch(dataset.images)
    for _ in range(2):
        for index in range(len(dataset.images)):
            item(dataset, index)


def _numpy_of_a_tensor_original(probe: Probe) -> None:
    tensor = torch.ones(7)
    np_tensor = tensor.numpy()
    probe.watch(np_tensor)
    tensor += 1


def _numpy_of_a_tensor_annotated(probe: Probe) -> None:
    tensor = torch.ones(7)
    np_tensor = share(tensor).value
    probe.watch(np_tensor)
    tensor += 1


def _numpy_of_a_tensor_fixed(probe: Probe) -> None:
    tensor = torch.ones(7)
    np_tensor = aliasguard.own(tensor).value
    probe.watch(np_tensor)
    tensor += 1


def _course_notebook_original(probe: Probe) -> None:
    t = torch.ones(7)
    np_array = t.numpy()
    probe.watch(np_array)
    t += 10


def _course_notebook_annotated(probe: Probe) -> None:
    t = torch.ones(7)
    np_array = share(t).value
    probe.watch(np_array)
    t += 10


def _course_notebook_fixed(probe: Probe) -> None:
    t = torch.ones(7)
    np_array = t.numpy().copy()
    probe.watch(np_array)
    t += 10


def _numpy_write_into_tensor_original(probe: Probe) -> None:
    t = torch.zeros(2, 2)
    n = t.numpy()
    probe.watch(t)
    n[0, 0] = 777


def _numpy_write_into_tensor_annotated(probe: Probe) -> None:
    t = torch.zeros(2, 2)
    n = writable(share(t).value)
    probe.watch(t)
    n[0, 0] = 777


def _numpy_write_into_tensor_fixed(probe: Probe) -> None:
    t = torch.zeros(2, 2)
    n = aliasguard.own(t).value
    probe.watch(t)
    n[0, 0] = 777


def _from_numpy_then_write_original(probe: Probe) -> None:
    array = np.arange(1.0, 8.0)
    tensor = torch.from_numpy(array)
    probe.watch(tensor)
    array[0] = 5.0


def _from_numpy_then_write_annotated(probe: Probe) -> None:
    array = np.arange(1.0, 8.0)
    tensor = share(array).value
    probe.watch(tensor)
    array[0] = 5.0


def _from_numpy_then_write_fixed(probe: Probe) -> None:
    array = np.arange(1.0, 8.0)
    tensor = torch.from_numpy(array.copy())
    probe.watch(tensor)
    array[0] = 5.0


def _worker_pickling(
    probe: Probe, make_view: Callable[[Tensor], Array], *, share_first: bool
) -> None:
    tensor = torch.randn(10)
    if share_first:
        cast("Any", tensor).share_memory_()  # torch's stubs leave it unannotated
    data = (tensor, make_view(tensor))
    # Compare addresses only: once the storage moved, the array's memory may be freed.
    probe.holds(lambda: data[1].ctypes.data == tensor.data_ptr())
    # What a DataLoader with spawned workers does to the worker_init_fn's arguments.
    ForkingPickler.dumps(data)


# ------------------------------------------------------------------------------------------------
# One op reading memory it partly writes


def _shift_columns(arr: Tensor) -> None:
    arr[:, 1:] = arr[:, :-1]


@checked
def _shift_columns_owned(arr: Owned[Tensor]) -> Owned[Tensor]:
    arr.value[:, 1:] = arr.value[:, :-1]
    return arr


@checked
def _shift_columns_fixed(arr: Owned[Tensor]) -> Owned[Tensor]:
    arr.value[:, 1:] = arr.value[:, :-1].clone()
    return arr


def _numpy_shift_columns(values: Array) -> Array:
    result = values.copy()
    result[:, 1:] = result[:, :-1]  # NumPy buffers overlapping operands
    return result


def _column_shift(probe: Probe, run: Callable[[Tensor], None]) -> None:
    arr = torch.arange(9).reshape(3, 3).clone()  # its own memory, so Owned(arr) may take it
    probe.expect(arr, _numpy_shift_columns(arr.numpy()))
    probe.untouched_if_refused(arr)
    run(arr)


def _transpose_block(probe: Probe, run: Callable[[Tensor], None]) -> None:
    a = torch.arange(16).view(4, 4).clone()
    wanted = a.numpy().copy()
    wanted[:3, :3] = wanted[:3, :3].T.copy()
    probe.expect(a, wanted)
    probe.untouched_if_refused(a)
    run(a)


def _transpose_in_place(a: Tensor) -> None:
    a[:3, :3] = a[:3, :3].T


@checked
def _transpose_owned(a: Owned[Tensor]) -> Owned[Tensor]:
    a.value[:3, :3] = a.value[:3, :3].T
    return a


@checked
def _transpose_fixed(a: Owned[Tensor]) -> Owned[Tensor]:
    a.value[:3, :3] = a.value[:3, :3].T.clone()
    return a


NUM_STEPS = 10


def _frame_shift(probe: Probe, run: Callable[[Tensor], None]) -> None:
    torch.manual_seed(0)
    buffer = torch.randn(8, NUM_STEPS, 14)
    wanted = buffer.numpy().copy()
    wanted[:, 1:NUM_STEPS] = wanted[:, 0 : NUM_STEPS - 1].copy()
    probe.expect(buffer, wanted)
    probe.untouched_if_refused(buffer)
    run(buffer)


def _shift_frames(buffer: Tensor) -> None:
    # The problematic line - shift frames [0, 8] into [1, 9]
    buffer[:, 1:NUM_STEPS] = buffer[:, 0 : (NUM_STEPS - 1)]


@checked
def _shift_frames_owned(buffer: Owned[Tensor]) -> Owned[Tensor]:
    buffer.value[:, 1:NUM_STEPS] = buffer.value[:, 0 : (NUM_STEPS - 1)]
    return buffer


@checked
def _shift_frames_fixed(buffer: Owned[Tensor]) -> Owned[Tensor]:
    buffer.value[:, 1:NUM_STEPS] = buffer.value[:, 0 : (NUM_STEPS - 1)].clone()
    return buffer


# ------------------------------------------------------------------------------------------------
# A producer's buffer, kept by a consumer, within NumPy


class _Physics:
    """google-deepmind/dm_control #34: observations were views of the simulator's state."""

    def __init__(self) -> None:
        self.qvel = np.zeros(2)

    def advance(self) -> None:
        self.qvel += 0.5


class _CartpoleOriginal(_Physics):
    def step(self) -> dict[str, Array]:
        self.advance()
        return {"velocity": self.qvel}


class _CartpoleAnnotated(_Physics):
    @checked
    def step(self) -> dict[str, Shared[Array]]:
        self.advance()
        return {"velocity": Shared(self.qvel)}


class _CartpoleFixed(_Physics):
    @checked
    def step(self) -> dict[str, Owned[Array]]:
        self.advance()
        return {"velocity": Owned(self.qvel.copy())}


def _cartpole(probe: Probe, env: Any) -> None:
    time_step = env.step()
    obs = time_step["velocity"]
    probe.watch(obs.value if isinstance(obs, Shared) else obs)
    for _ in range(10):
        time_step = env.step()


class _DummyVecEnv:
    """openai/baselines #418: DummyVecEnv reused one buffer for every step's observations."""

    def __init__(self) -> None:
        self.buf_obs = np.zeros((2, 3))
        self.t = 0

    def _fill(self) -> None:
        self.t += 1
        for env_index in range(2):
            self.buf_obs[env_index] = self.t + env_index

    def step_wait(self) -> Array:
        self._fill()
        return self.buf_obs

    @checked
    def step_wait_annotated(self) -> Shared[Array]:
        self._fill()
        return Shared(self.buf_obs)

    @checked
    def step_wait_fixed(self) -> Owned[Array]:
        self._fill()
        return Owned(self.buf_obs.copy())


def _rollout(probe: Probe, step: Callable[[], Any]) -> None:
    mb_obs = [step() for _ in range(4)]  # the runner keeps every step's observations
    first = mb_obs[0]
    probe.watch(first.value if isinstance(first, Shared) else first)
    step()


class _ConcatVecEnv:
    """Farama-Foundation/SuperSuit #116: concat_vec_envs returned its observation buffer."""

    def __init__(self) -> None:
        self.obs_buffer = np.zeros((2, 2))
        self.count = 0

    def _write(self) -> None:
        self.count += 1
        for index in range(2):
            np.copyto(self.obs_buffer[index], self.count)

    def step(self) -> Array:
        self._write()
        return self.obs_buffer

    @checked
    def step_annotated(self) -> Shared[Array]:
        self._write()
        return Shared(self.obs_buffer)

    @checked
    def step_fixed(self) -> Owned[Array]:
        self._write()
        return Owned(self.obs_buffer.copy())


class _OnPolicyAlgorithm:
    """Stable-Baselines3 keeps the last observation across the next step."""

    def __init__(self, step: Callable[[], Any]) -> None:
        self.step = step
        self._last_obs = step()

    def collect(self, probe: Probe) -> None:
        last = self._last_obs
        probe.watch(last.value if isinstance(last, Shared) else last)
        new_obs = self.step()  # the action was chosen from _last_obs
        self._last_obs = new_obs


class _FixedStateEnv:
    """chainer/chainerrl #157: an env whose step returned its own state array."""

    def __init__(self) -> None:
        self._state = np.zeros(3)

    def _move(self) -> None:
        self._state += 1

    def step(self) -> Array:
        self._move()
        return self._state

    @checked
    def step_annotated(self) -> Shared[Array]:
        self._move()
        return Shared(self._state)

    @checked
    def step_fixed(self) -> Owned[Array]:
        self._move()
        return Owned(self._state.copy())


class _DQN:
    """The agent keeps the state it acted on, for the transition it stores next step."""

    def __init__(self) -> None:
        self.last_state: Any = None

    def act_and_train(self, state: Any) -> None:
        self.last_state = state


def _agent_loop(probe: Probe, step: Callable[[], Any]) -> None:
    agent = _DQN()
    agent.act_and_train(step())
    kept = agent.last_state
    probe.watch(kept.value if isinstance(kept, Shared) else kept)
    agent.act_and_train(step())


# ------------------------------------------------------------------------------------------------
# A state_dict taken as a snapshot, within torch


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Linear(3, 2)


def _train_step(model: torch.nn.Module) -> None:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.ones(4, 3)).square().sum()
    loss.backward()
    optimizer.step()


@checked
def _snapshot_annotated(model: torch.nn.Module) -> dict[str, Owned[Tensor]]:
    return {name: Owned(value) for name, value in model.state_dict().items()}


@checked
def _snapshot_fixed(model: torch.nn.Module) -> dict[str, Owned[Tensor]]:
    return {name: Owned(value.clone()) for name, value in model.state_dict().items()}


def _keep_best(probe: Probe, snapshot: Callable[[torch.nn.Module], dict[str, Any]]) -> None:
    model = _model()
    best_model_wts = snapshot(model)
    weight = best_model_wts["weight"]
    probe.watch(weight.value if isinstance(weight, Shared) else weight)
    _train_step(model)  # a later epoch, worse on validation


# ------------------------------------------------------------------------------------------------
# The catalogue

#: Why the zero-annotation mode misses a bug (docs/realworld.md explains each at length).
SAME_LIBRARY_NUMPY = "NumPy only"
SAME_LIBRARY_TORCH = "torch only"

BUGS: tuple[Bug, ...] = (
    Bug(
        "totensor-normalize",
        "ToTensor aliases the cached array; Normalize re-normalizes it every epoch",
        "pytorch/vision",
        680,
        "crosses",
        lambda probe: _epochs(probe, _ToTensorDataset.original),
        lambda probe: _epochs(probe, _ToTensorDataset.annotated),
        lambda probe: _epochs(probe, _ToTensorDataset.fixed),
    ),
    Bug(
        "numpy-then-increment",
        "Tensor shares memory with the array from .numpy(): += changes the array",
        "pytorch/pytorch",
        97586,
        "crosses",
        _numpy_of_a_tensor_original,
        _numpy_of_a_tensor_annotated,
        _numpy_of_a_tensor_fixed,
    ),
    Bug(
        "course-numpy-view",
        "Converting a tensor to NumPy maps both to the same memory",
        "mrdbourke/pytorch-deep-learning",
        83,
        "crosses",
        _course_notebook_original,
        _course_notebook_annotated,
        _course_notebook_fixed,
    ),
    Bug(
        "numpy-write-into-tensor",
        "A write into t.numpy() changes the tensor",
        "mlverse/torchbook_materials",
        1,
        "crosses",
        _numpy_write_into_tensor_original,
        _numpy_write_into_tensor_annotated,
        _numpy_write_into_tensor_fixed,
    ),
    Bug(
        "from-numpy-then-write",
        "A write into the array changes the tensor from_numpy() made",
        "mrdbourke/pytorch-deep-learning",
        926,
        "crosses",
        _from_numpy_then_write_original,
        _from_numpy_then_write_annotated,
        _from_numpy_then_write_fixed,
    ),
    Bug(
        "dataloader-share-memory",
        "Spawned DataLoader workers move a tensor to shared memory under its .numpy() array",
        "pytorch/pytorch",
        51849,
        "crosses",
        lambda probe: _worker_pickling(probe, Tensor.numpy, share_first=False),
        lambda probe: _worker_pickling(probe, lambda t: share(t).value, share_first=False),
        lambda probe: _worker_pickling(probe, lambda t: share(t).value, share_first=True),
    ),
    Bug(
        "shift-columns",
        "arr[:, 1:] = arr[:, :-1] gives different answers on CPU and CUDA",
        "pytorch/pytorch",
        144861,
        "overlap",
        lambda probe: _column_shift(probe, _shift_columns),
        lambda probe: _column_shift(probe, lambda arr: _shift_columns_owned(Owned(arr)) and None),
        lambda probe: _column_shift(probe, lambda arr: _shift_columns_fixed(Owned(arr)) and None),
    ),
    Bug(
        "transpose-block",
        "a[:3, :3] = a[:3, :3].T reads elements it has already written on CPU",
        "pytorch/pytorch",
        126097,
        "overlap",
        lambda probe: _transpose_block(probe, _transpose_in_place),
        lambda probe: _transpose_block(probe, lambda a: _transpose_owned(Owned(a)) and None),
        lambda probe: _transpose_block(probe, lambda a: _transpose_fixed(Owned(a)) and None),
    ),
    Bug(
        "shift-frames",
        "Copying frames [0, 8] into [1, 9] of one buffer gives varying results",
        "pytorch/pytorch",
        91894,
        "overlap",
        lambda probe: _frame_shift(probe, _shift_frames),
        lambda probe: _frame_shift(probe, lambda b: _shift_frames_owned(Owned(b)) and None),
        lambda probe: _frame_shift(probe, lambda b: _shift_frames_fixed(Owned(b)) and None),
    ),
    Bug(
        "observation-mutated",
        "Returned observations are mutated when the environment steps",
        "google-deepmind/dm_control",
        34,
        "same library",
        lambda probe: _cartpole(probe, _CartpoleOriginal()),
        lambda probe: _cartpole(probe, _CartpoleAnnotated()),
        lambda probe: _cartpole(probe, _CartpoleFixed()),
        SAME_LIBRARY_NUMPY,
    ),
    Bug(
        "dummy-vec-env-buffer",
        "DummyVecEnv reuses one buffer for the observations of every step",
        "openai/baselines",
        418,
        "same library",
        lambda probe: _rollout(probe, _DummyVecEnv().step_wait),
        lambda probe: _rollout(probe, _DummyVecEnv().step_wait_annotated),
        lambda probe: _rollout(probe, _DummyVecEnv().step_wait_fixed),
        SAME_LIBRARY_NUMPY,
    ),
    Bug(
        "sb3-last-obs",
        "Vector-env wrappers return their buffer, so SB3's _last_obs moves with the next step",
        "Farama-Foundation/SuperSuit",
        116,
        "same library",
        lambda probe: _OnPolicyAlgorithm(_ConcatVecEnv().step).collect(probe),
        lambda probe: _OnPolicyAlgorithm(_ConcatVecEnv().step_annotated).collect(probe),
        lambda probe: _OnPolicyAlgorithm(_ConcatVecEnv().step_fixed).collect(probe),
        SAME_LIBRARY_NUMPY,
    ),
    Bug(
        "agent-keeps-state",
        "Observations passed to an agent are overwritten by the env's fixed buffer",
        "chainer/chainerrl",
        157,
        "same library",
        lambda probe: _agent_loop(probe, _FixedStateEnv().step),
        lambda probe: _agent_loop(probe, _FixedStateEnv().step_annotated),
        lambda probe: _agent_loop(probe, _FixedStateEnv().step_fixed),
        SAME_LIBRARY_NUMPY,
    ),
    Bug(
        "best-model-wts",
        "best_model_wts = model.state_dict() follows the last epoch's weights",
        "pytorch/tutorials",
        188,
        "same library",
        lambda probe: _keep_best(probe, lambda model: model.state_dict()),
        lambda probe: _keep_best(probe, _snapshot_annotated),
        lambda probe: _keep_best(probe, lambda model: copy.deepcopy(model.state_dict())),
        SAME_LIBRARY_TORCH,
    ),
    Bug(
        "best-model-state",
        "The saved best model is always the newest, not the best",
        "thunlp/OpenKE",
        131,
        "same library",
        lambda probe: _keep_best(probe, lambda model: model.state_dict()),
        lambda probe: _keep_best(probe, _snapshot_annotated),
        lambda probe: _keep_best(probe, _snapshot_fixed),
        SAME_LIBRARY_TORCH,
    ),
    Bug(
        "few-shot-best-state",
        "best_state keeps a reference to the state_dict, not a copy",
        "sicara/easy-few-shot-learning",
        129,
        "same library",
        lambda probe: _keep_best(probe, lambda model: model.state_dict()),
        lambda probe: _keep_best(probe, _snapshot_annotated),
        lambda probe: _keep_best(probe, lambda model: copy.deepcopy(model.state_dict())),
        SAME_LIBRARY_TORCH,
    ),
)
