"""Hostile inputs for share(), own() and shares_memory(), each call in a process of its own.

Every input of `INPUTS` goes through every operation of `OPERATIONS`. Each call runs in a child
forked from a runner that has imported torch but run nothing, so that a crash is attributed to
the one call that caused it and cannot take the others with it. A call ends one of five ways:

- ``"error"``: a clean error, raised by aliasguard's own code (an `AliasGuardError`, or the
  ``TypeError``/``ValueError`` its documentation names), with the input left unchanged;
- ``"correct"``: a result that the oracle accepts (same memory for share(), same values in fresh
  memory for own(), the answer NumPy would give for shares_memory()), input unchanged;
- ``"crash"``: the process died by a signal. Only inputs marked with a ``crash_reason`` may do this,
  and their ``control`` (the same memory read by NumPy alone, without aliasguard) must die too;
- ``"wrong"`` or ``"unclean"``: a wrong result, a changed input, or an exception that escaped from
  NumPy or torch, never allowed;
- ``"hang"``: the call did not finish within `CALL_TIMEOUT_SECONDS`, never allowed.

``python tests/faults/hostile_inputs.py`` prints the counts; ``--write-docs`` writes them into
``docs/reliability_counts.md``, which the reliability page includes and a test compares with a
fresh run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import importlib
import json
import os
import select
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import torch

import aliasguard
from aliasguard._torch_compat import from_numpy

CALL_TIMEOUT_SECONDS = 30.0
#: Larger values (zero-stride views of 2**40 elements) are compared by address and shape only.
MAX_COMPARED = 2**20
DOCS_COUNTS = Path(__file__).resolve().parents[2] / "docs" / "reliability_counts.md"
#: Where a clean error may come from: aliasguard's modules, and this one (the inputs' own code).
_TRUSTED_FILES = frozenset(
    [
        *(str(path) for path in Path(aliasguard.__file__).resolve().parent.glob("*.py")),
        str(Path(__file__).resolve()),
    ]
)


# ----------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class HostileInput:
    name: str
    make: Callable[[], object]
    #: Why this input crashes any reader, NumPy included; None for inputs that must never crash.
    crash_reason: str | None = None
    #: Reads the input's memory with NumPy (or torch) alone: must die where the input may crash.
    control: Callable[[object], object] | None = None


class _Interface:
    def __init__(self, interface: dict[str, object]) -> None:
        self.__array_interface__ = interface


def _unmapped(count: int = 4) -> np.ndarray[Any, Any]:
    """An array NumPy accepts over address 4096: the first page, which no process maps."""
    return np.asarray(
        _Interface({"version": 3, "shape": (count,), "typestr": "<f8", "data": (4096, False)})
    )


class _ElsewhereInterface(np.ndarray[Any, Any]):
    @property
    def __array_interface__(self) -> dict[str, object]:
        interface = dict(np.zeros(1).__array_interface__)
        interface["data"] = (4096, False)
        return interface


class _RaisingArray:
    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray[Any, Any]:
        raise RuntimeError("no array here")


class _CopyingNumpy(torch.Tensor):
    def numpy(self, *, force: bool = False) -> np.ndarray[Any, Any]:
        return super().numpy(force=force).copy()


class _RaisingTorchFunction(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        raise RuntimeError("this subclass refuses every torch function")


def _memmap(mode: Literal["r", "c", "r+"]) -> np.ndarray[Any, Any]:
    path = Path(tempfile.gettempdir()) / f"aliasguard-hostile-{os.getpid()}.bin"
    np.arange(8.0).tofile(path)
    mapped: np.ndarray[Any, Any] = np.memmap(path, dtype=np.float64, mode=mode, shape=(8,))
    path.unlink()
    return mapped


def _shrunk() -> torch.Tensor:
    tensor = torch.ones(4)
    tensor.untyped_storage().resize_(0)
    return tensor


def _fake() -> torch.Tensor:
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        return torch.ones(2)


def _quantized() -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.quantize_per_tensor(torch.ones(2), 0.1, 0, torch.quint8)


def _nested(layout: torch.layout) -> torch.Tensor:
    return torch.nested.nested_tensor([torch.ones(2), torch.ones(3)], layout=layout)  # pyright: ignore[reportUnknownMemberType]


def _ml_dtype(name: str) -> np.ndarray[Any, Any]:
    import ml_dtypes

    return np.arange(4, dtype=np.float32).astype(getattr(ml_dtypes, name))


def _bigger_than_its_storage() -> torch.Tensor:
    """A tensor left reading past its memory by a failed ``out=`` resize (torch's own defect)."""
    tensor = from_numpy(np.zeros(3, np.float32))
    with contextlib.suppress(RuntimeError):  # "Trying to resize storage that is not resizable"
        torch.add(torch.ones(10**6), 1, out=tensor)
    return tensor


def _overlapping_tensor() -> torch.Tensor:
    return torch.arange(6.0).as_strided((3, 3), (1, 1))


def _array_inputs() -> list[HostileInput]:
    strided = np.lib.stride_tricks.as_strided
    return [
        HostileInput("float64 contiguous", lambda: np.arange(6.0).reshape(2, 3)),
        HostileInput("negative strides", lambda: np.arange(6.0)[::-1]),
        HostileInput("negative strides 2-d", lambda: np.arange(12.0).reshape(3, 4)[::-1, ::-2]),
        HostileInput("inert negative stride", lambda: np.arange(3.0).reshape(1, 3)[::-1]),
        HostileInput("zero strides", lambda: np.broadcast_to(np.arange(3.0), (4, 3))),
        HostileInput("zero stride, 2**40 long", lambda: np.broadcast_to(np.zeros(1), (2**40,))),
        HostileInput("overlapping as_strided", lambda: strided(np.arange(6.0), (3, 3), (8, 8))),
        HostileInput("fortran order", lambda: np.asfortranarray(np.arange(6.0).reshape(2, 3))),
        HostileInput("big-endian", lambda: np.arange(4.0).astype(">f8")),
        HostileInput(
            "unaligned",
            lambda: np.frombuffer(bytearray(33), np.float64, count=4, offset=1),
        ),
        HostileInput(
            "unaligned complex128",  # torch's complex kernels assume alignment: SIGSEGV on a clone
            lambda: np.frombuffer(bytearray(16 * 4 + 1), np.complex128, count=4, offset=1),
        ),
        HostileInput(
            "odd strides (struct field)",
            lambda: np.zeros(3, dtype=[("a", "i1"), ("b", "f8")])["b"],
        ),
        HostileInput("structured", lambda: np.zeros(3, dtype=[("a", "i4"), ("b", "f8")])),
        HostileInput("object dtype", lambda: np.array([1, "a", None], dtype=object)),
        HostileInput("unicode", lambda: np.array(["a", "bc"])),
        HostileInput("bytes", lambda: np.array([b"a", b"bc"])),
        HostileInput("void", lambda: np.zeros(2, dtype="V3")),
        HostileInput("datetime64", lambda: np.array(["2024-01-01"], dtype="datetime64[D]")),
        HostileInput("timedelta64", lambda: np.array([1, 2], dtype="timedelta64[s]")),
        HostileInput("longdouble", lambda: np.arange(3, dtype=np.longdouble)),
        HostileInput("clongdouble", lambda: np.arange(3, dtype=np.clongdouble)),
        HostileInput("float16", lambda: np.arange(3, dtype=np.float16)),
        HostileInput("bool", lambda: np.array([True, False])),
        HostileInput("uint64 max", lambda: np.array([2**64 - 1], dtype=np.uint64)),
        HostileInput("ulonglong spelling", lambda: np.arange(3, dtype=np.ulonglong)),
        HostileInput("nan and inf", lambda: np.array([np.nan, np.inf, -np.inf, -0.0])),
        HostileInput("0-d", lambda: np.array(2.5)),
        HostileInput("empty", lambda: np.zeros((0, 3))),
        HostileInput(
            "empty, odd strides", lambda: np.zeros(0, dtype=[("a", "i1"), ("b", "f8")])["b"]
        ),
        HostileInput("64 dimensions", lambda: np.zeros((1,) * 63 + (2,))),
        HostileInput("read-only", lambda: np.frombuffer(b"\0" * 32, np.float64)),
        HostileInput("read-only memmap", lambda: _memmap("r")),
        HostileInput("copy-on-write memmap", lambda: _memmap("c")),
        HostileInput("writable memmap", lambda: _memmap("r+")),
        HostileInput("masked", lambda: np.ma.masked_array([1.0, 2.0], mask=[True, False])),
        HostileInput("matrix subclass", lambda: np.asmatrix(np.eye(2))),
        HostileInput(
            "recarray", lambda: np.rec.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")])
        ),
        HostileInput(
            "subclass naming other memory",
            lambda: np.arange(4.0).view(_ElsewhereInterface),
        ),
        HostileInput("bfloat16 (ml_dtypes)", lambda: _ml_dtype("bfloat16")),
        HostileInput("float8_e4m3fn (ml_dtypes)", lambda: _ml_dtype("float8_e4m3fn")),
        HostileInput("int4 (ml_dtypes)", lambda: _ml_dtype("int4")),
        HostileInput(
            "unmapped memory",
            _unmapped,
            crash_reason=(
                "its __array_interface__ points at address 4096, the first page, which no process "
                "maps: NumPy's own copy of it dies by SIGSEGV"
            ),
            control=lambda value: np.array(value, copy=True),
        ),
        HostileInput("unmapped memory, empty", lambda: _unmapped(0)),
    ]


def _tensor_inputs() -> list[HostileInput]:
    return [
        HostileInput("tensor float32", lambda: torch.arange(6.0).reshape(2, 3)),
        HostileInput("tensor transposed", lambda: torch.arange(6.0).reshape(2, 3).t()),
        HostileInput("tensor storage offset", lambda: torch.arange(6.0)[2:]),
        HostileInput("tensor expanded", lambda: torch.arange(3.0).expand(4, 3)),
        HostileInput("tensor expanded 2**60", lambda: torch.zeros(1).expand(2**60)),
        HostileInput("tensor overlapping as_strided", _overlapping_tensor),
        HostileInput("tensor requires grad", lambda: torch.ones(2, requires_grad=True)),
        HostileInput("tensor conj bit", lambda: torch.tensor([1 + 2j]).conj()),
        HostileInput("tensor neg bit", lambda: torch.tensor([1 + 2j]).conj().imag),
        HostileInput("tensor sparse coo", lambda: torch.eye(3).to_sparse()),
        HostileInput("tensor sparse csr", lambda: torch.eye(3).to_sparse_csr()),
        HostileInput("tensor sparse csc", lambda: torch.eye(3).to_sparse_csc()),
        HostileInput("tensor sparse bsr", lambda: torch.eye(4).to_sparse_bsr((2, 2))),
        HostileInput("tensor quantized", _quantized),
        HostileInput("tensor meta", lambda: torch.empty(2, device="meta")),
        HostileInput("tensor nested strided", lambda: _nested(torch.strided)),
        HostileInput("tensor nested jagged", lambda: _nested(torch.jagged)),
        HostileInput("tensor fake", _fake),
        HostileInput("tensor shrunk storage", _shrunk),
        HostileInput("tensor bigger than its storage", _bigger_than_its_storage),
        HostileInput("tensor 70 dimensions", lambda: torch.zeros((1,) * 70)),
        HostileInput("tensor 0-d", lambda: torch.tensor(1.5)),
        HostileInput("tensor empty", lambda: torch.zeros(0, 3)),
        HostileInput("tensor bool", lambda: torch.tensor([True, False])),
        HostileInput("tensor uint16", lambda: torch.tensor([0, 1, 2**16 - 1], dtype=torch.uint16)),
        HostileInput("tensor uint64", lambda: torch.tensor([0, 1, 2**63], dtype=torch.uint64)),
        HostileInput("tensor bits8", lambda: torch.zeros(2, dtype=torch.uint8).view(torch.bits8)),
        HostileInput("tensor bfloat16", lambda: torch.arange(3.0, dtype=torch.bfloat16)),
        HostileInput("tensor float8_e5m2", lambda: torch.arange(3.0).to(torch.float8_e5m2)),
        HostileInput("tensor complex32", lambda: torch.zeros(2, dtype=torch.complex32)),
        HostileInput(
            "tensor channels_last",
            lambda: torch.zeros(1, 2, 2, 2).to(memory_format=torch.channels_last),
        ),
        HostileInput(
            "tensor subclass whose numpy() copies",
            lambda: torch.arange(3.0).as_subclass(_CopyingNumpy),
        ),
        HostileInput(
            "tensor subclass refusing torch functions",
            lambda: torch.arange(3.0).as_subclass(_RaisingTorchFunction),
        ),
        HostileInput(
            "tensor from a read-only array",
            lambda: from_numpy(np.frombuffer(b"\0" * 16, np.float32).copy()),
        ),
    ]


def _other_inputs() -> list[HostileInput]:
    return [
        HostileInput("None", lambda: None),
        HostileInput("list", lambda: [1.0, 2.0]),
        HostileInput("str", lambda: "text"),
        HostileInput("dict", lambda: {"a": 1}),
        HostileInput("float", lambda: 2.5),
        HostileInput("NumPy scalar", lambda: np.float64(1.0)),
        HostileInput("torch.Size", lambda: torch.Size([2, 3])),
        HostileInput("__array__ that raises", _RaisingArray),
        HostileInput(
            "bare __array_interface__",
            lambda: _Interface(
                {"version": 3, "shape": (2,), "typestr": "<f8", "data": (4096, False)}
            ),
        ),
        HostileInput("Shared wrapper", lambda: aliasguard.share(np.arange(3.0))),
        HostileInput("Owned wrapper", lambda: aliasguard.own(np.arange(3.0))),
    ]


INPUTS: list[HostileInput] = _array_inputs() + _tensor_inputs() + _other_inputs()


# ----------------------------------------------------------------------------------------------
# Operations and their oracles


def _plain(value: object) -> Any:
    """The payload of a wrapper, else the value."""
    return cast("Any", value).value if isinstance(value, aliasguard.Shared) else value


#: False in the child of an input that crashes any reader: the harness then reads no values.
_values_readable = True


def _values(value: object) -> np.ndarray[Any, Any] | None:
    """A NumPy copy of ``value``'s elements, read without aliasguard, or None where none exists."""
    if not _values_readable:
        return None
    value = _plain(value)
    if isinstance(value, torch.Tensor):
        try:
            strided = value.layout == torch.strided and not value.is_nested
            if strided and (value.numel() > MAX_COMPARED or _reads_past_its_storage(value)):
                return None
            dense = value.detach().resolve_conj().resolve_neg()
            if dense.layout != torch.strided:
                dense = dense.to_dense()
            if dense.dtype in (torch.bfloat16, torch.complex32) or "float8" in str(dense.dtype):
                dense = dense.to(torch.complex64 if dense.is_complex() else torch.float32)
            return dense.numpy().copy()
        except Exception:
            return None
    if isinstance(value, np.ndarray):
        array: np.ndarray[Any, Any] = np.asarray(cast("Any", value))
        return np.ndarray.view(array, np.ndarray).copy() if array.size <= MAX_COMPARED else None
    return None


def _reads_past_its_storage(tensor: torch.Tensor) -> bool:
    try:
        if tensor.layout != torch.strided or tensor.is_nested or tensor.numel() == 0:
            return False
        last = tensor.storage_offset() + sum(
            (size - 1) * stride for size, stride in zip(tensor.shape, tensor.stride(), strict=True)
        )
        return (last + 1) * tensor.element_size() > tensor.untyped_storage().nbytes()
    except Exception:  # no storage at all (fake, functional): nothing to read either
        return True


def _same_values(left: np.ndarray[Any, Any] | None, right: np.ndarray[Any, Any] | None) -> bool:
    if left is None or right is None:
        return left is right
    if left.shape != right.shape:
        return False
    if left.dtype.kind in "fc" or right.dtype.kind in "fc":
        return bool(
            np.array_equal(left.astype(np.complex128), right.astype(np.complex128), equal_nan=True)
        )
    return bool(np.array_equal(left, right))


def _address_of(value: np.ndarray[Any, Any] | torch.Tensor) -> int:
    if isinstance(value, torch.Tensor):
        return value.data_ptr()
    return int(np.ndarray.view(value, np.ndarray).__array_interface__["data"][0])


def share_oracle(value: object, result: object) -> bool:
    """share(): the same memory (address, shape), read as the same values."""
    source: np.ndarray[Any, Any] | torch.Tensor = _plain(value)
    shared: np.ndarray[Any, Any] | torch.Tensor = _plain(result)
    if not isinstance(result, aliasguard.Shared) or isinstance(result, aliasguard.Owned):
        return False
    if tuple(shared.shape) != tuple(source.shape):
        return False
    elements = shared.size if isinstance(shared, np.ndarray) else shared.numel()
    if elements and _address_of(shared) != _address_of(source):
        return False
    return _same_values(_values(shared), _values(source))


def own_oracle(value: object, result: object) -> bool:
    """own(): the same values, in memory nothing else shares."""
    owned: np.ndarray[Any, Any] | torch.Tensor = _plain(result)
    source: object = _plain(value)
    if not isinstance(result, aliasguard.Owned) or aliasguard.shares_memory(owned, source):
        return False
    return _same_values(_values(owned), _values(source))


def own_float32_oracle(value: object, result: object) -> bool:
    expected = _values(value)
    if expected is None:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        as_float32 = expected.astype(np.float32)  # a complex value keeps its real part, as NumPy
    got = _values(result)
    return isinstance(result, aliasguard.Owned) and _same_values(got, as_float32)


def shares_memory_oracle(value: object, result: object) -> bool:
    """shares_memory(x, x): True exactly when x has an element in memory (meta tensors have none)."""
    source = _plain(value)
    if isinstance(source, torch.Tensor):
        has_memory = source.device.type != "meta" and (
            source.is_nested
            or (source._nnz() > 0 if source.layout == torch.sparse_coo else source.numel() > 0)
        )
    else:
        assert isinstance(source, np.ndarray)
        has_memory = source.size > 0
    return result is has_memory


@dataclass(frozen=True)
class Operation:
    name: str
    call: Callable[[object], object]
    oracle: Callable[[object, object], bool]


def _share(value: Any) -> object:
    return cast("object", aliasguard.share(value))


def _own(value: Any) -> object:
    return cast("object", aliasguard.own(value))


def _own_as_float32(value: Any) -> object:
    return cast("object", aliasguard.own(value, dtype="float32", casting="unsafe"))


def _shares_memory_with_itself(value: object) -> object:
    return aliasguard.shares_memory(value, value)


OPERATIONS: list[Operation] = [
    Operation("share", _share, share_oracle),
    Operation("own", _own, own_oracle),
    Operation("own as float32", _own_as_float32, own_float32_oracle),
    Operation("shares_memory", _shares_memory_with_itself, shares_memory_oracle),
]


# ----------------------------------------------------------------------------------------------
# One call, in its own process


def _snapshot(value: object) -> bytes | None:
    """The input's bytes, to prove the call changed nothing; None where they cannot be read."""
    values = _values(value)
    return None if values is None or values.dtype.kind == "O" else values.tobytes()


def _raised_by_aliasguard_or_the_input(error: BaseException) -> bool:
    """Whether aliasguard raised ``error`` itself, or passed on one the input's own code raised
    (a tensor subclass's ``__torch_function__``, an ``__array__``): never one of NumPy or torch."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames or str(Path(frames[-1].filename).resolve()) not in _TRUSTED_FILES:
        return False
    # A C function (NumPy's, torch's) adds no frame: its error shows on the line that called it.
    return (frames[-1].line or "").lstrip().startswith("raise")


def run_call(hostile: HostileInput, operation: Operation) -> dict[str, str]:
    """Run one call here and classify it (in the child process)."""
    global _values_readable  # noqa: PLW0603  # set once in a child that runs one call
    _values_readable = hostile.crash_reason is None
    value = hostile.make()
    before = _snapshot(value)
    try:
        result = operation.call(value)
    except aliasguard.AliasGuardError as error:
        outcome = "error"
        detail = f"{type(error).__name__}: {str(error).splitlines()[0]}"
    except Exception as error:
        outcome = "error" if _raised_by_aliasguard_or_the_input(error) else "unclean"
        detail = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
    else:
        outcome = "correct" if operation.oracle(value, result) else "wrong"
        detail = type(result).__name__
    if outcome != "unclean" and before is not None and _snapshot(value) != before:
        outcome, detail = "wrong", "the call changed its input"
    return {"outcome": outcome, "detail": detail}


def _in_child(target: Callable[[], dict[str, str]]) -> dict[str, str]:
    """Run ``target`` in a forked child; its outcome, or how the child died."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running the parent's exit handlers
        os.close(read_end)
        status = 0
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                report = target()
        except BaseException as error:  # an oracle that fails is a finding, never a lost one
            report = {"outcome": "unclean", "detail": f"{type(error).__name__}: {error}"}
        try:
            os.write(write_end, json.dumps(report).encode())
        except BaseException:
            status = 1
        os._exit(status)
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = time.monotonic() + CALL_TIMEOUT_SECONDS
    while True:
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([read_end], [], [], max(remaining, 0))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_end)
            return {"outcome": "hang", "detail": f"no answer in {CALL_TIMEOUT_SECONDS} s"}
        chunk = os.read(read_end, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return {"outcome": "crash", "detail": signal.Signals(os.WTERMSIG(status)).name}
    return json.loads(b"".join(chunks)) if chunks else {"outcome": "unclean", "detail": "no report"}


def _control(hostile: HostileInput) -> dict[str, str]:
    assert hostile.control is not None
    hostile.control(hostile.make())
    return {"outcome": "survived", "detail": "NumPy read the memory without dying"}


@dataclass(frozen=True)
class Result:
    input: str
    operation: str
    outcome: str
    detail: str
    #: For a crash: why the input itself crashes, when its control died as well.
    own_crash: str | None = None


def _warm_up() -> None:
    """Import in the runner what calls import lazily (a second each), so no child pays for it.

    Nothing here runs a torch op, and one intra-op thread keeps forking safe: a child of a process
    whose OpenMP threads have started can hang in its first parallel region.
    """
    for name in (
        "ml_dtypes",
        "torch._subclasses.fake_tensor",
        "torch.nested._internal.nested_tensor",
    ):
        importlib.import_module(name)
    torch.set_num_threads(1)


def run_catalogue() -> list[Result]:
    """Every input through every operation, each call in a child process of its own."""
    _warm_up()
    results: list[Result] = []
    for hostile in INPUTS:
        control_died: bool | None = None
        for operation in OPERATIONS:
            report = _in_child(functools.partial(run_call, hostile, operation))
            own_crash = None
            if report["outcome"] == "crash" and hostile.crash_reason is not None:
                if control_died is None:
                    control_died = (
                        _in_child(functools.partial(_control, hostile))["outcome"] == "crash"
                    )
                own_crash = hostile.crash_reason if control_died else None
            results.append(
                Result(hostile.name, operation.name, report["outcome"], report["detail"], own_crash)
            )
    return results


def failures(results: list[Result]) -> list[Result]:
    """Calls that broke the rules: anything but a clean error, a correct result, or a crash the
    input forces on NumPy itself."""
    return [
        result
        for result in results
        if result.outcome not in ("error", "correct")
        and not (result.outcome == "crash" and result.own_crash is not None)
    ]


# ----------------------------------------------------------------------------------------------
# The counts the reliability page shows


def render_counts(results: list[Result]) -> str:
    """The Markdown that docs/reliability_counts.md holds, made from a run of the catalogue."""
    totals = Counter(result.outcome for result in results)
    lines = [
        "<!-- Written by `python tests/faults/hostile_inputs.py --write-docs`; "
        "tests/faults/test_hostile_inputs.py checks it against a fresh run. -->",
        "",
        f"{len(INPUTS)} hostile inputs, each through {len(OPERATIONS)} operations: "
        f"**{len(results)} calls**, each in a process of its own.",
        "",
        "| operation | calls | clean errors | correct results | crashes (the input's own) | other |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for operation in OPERATIONS:
        mine = [result for result in results if result.operation == operation.name]
        counts = Counter(result.outcome for result in mine)
        other = len(mine) - counts["error"] - counts["correct"] - counts["crash"]
        lines.append(
            f"| `{operation.name}` | {len(mine)} | {counts['error']} | {counts['correct']} | "
            f"{counts['crash']} | {other} |"
        )
    other_total = len(results) - totals["error"] - totals["correct"] - totals["crash"]
    lines.append(
        f"| **all** | **{len(results)}** | **{totals['error']}** | **{totals['correct']}** | "
        f"**{totals['crash']}** | **{other_total}** |"
    )
    crashes = [result for result in results if result.outcome == "crash"]
    if crashes:
        lines += ["", "Every crash, and why it is the input's own:", ""]
        for result in crashes:
            why = result.own_crash or "NOT the input's own: a defect"
            lines.append(f"- `{result.operation}` of *{result.input}* ({result.detail}): {why}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the hostile-input catalogue.")
    parser.add_argument("--write-docs", action="store_true", help=f"write {DOCS_COUNTS.name}")
    parser.add_argument("--json", action="store_true", help="print every call's result as JSON")
    arguments = parser.parse_args(argv)
    results = run_catalogue()
    text = render_counts(results)
    if arguments.json:
        sys.stdout.write(json.dumps([dataclasses.asdict(result) for result in results]) + "\n")
        return 0
    sys.stdout.write(text)
    for result in failures(results):
        sys.stdout.write(
            f"FAILED {result.operation} of {result.input}: {result.outcome}: {result.detail}\n"
        )
    if arguments.write_docs:
        DOCS_COUNTS.write_text(text)
    return 1 if failures(results) else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
