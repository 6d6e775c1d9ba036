"""The borrows of one call: how `Shared` values are lent, and how a write into one is caught.

A borrowed tensor's version counter is read before the call and compared after it; a borrowed NumPy
array reaches the callee as a read-only view, so NumPy refuses a write, and that refusal is reported
as the borrow it broke; with ``exhaustive=True`` every borrow is also snapshot and compared bit for
bit after the call. While a sanitizer is active, the borrows are lent to it for the call.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from .._annotations import SHARED
from .._describing import function_name
from .._errors import AliasingError
from .._lent_views import read_only_view
from .._memory import shares_memory
from .._numpy_locks import is_read_only_refusal
from .._sanitizer import Borrow, explain_refused_write, lend
from .._torch_compat import quiet_complex_half, version_counter
from .._wrappers import MOVED, Shared, is_ndarray, make_shared
from ._messages import (
    borrow_written,
    lent_parameters,
    numpy_borrow_written,
)
from ._slots import Slot


def memory_of(value: object) -> object | None:
    """The array or tensor behind an argument, for overlap checks; None for everything else."""
    if isinstance(value, Shared):
        inner = typing.cast("Any", value)._value
        return None if inner is MOVED else inner
    if isinstance(value, np.ndarray | torch.Tensor):
        return typing.cast("object", value)
    return None


def lent_view(array: Any) -> Shared[Any]:
    """What the callee gets for a NumPy borrow: a `Shared` of a read-only view of it.

    Read-only arrays too: an array that owns its memory (or one the sanitizer locked) can be made
    writable again. No source on the lent view: the callee gets no writable path back.
    """
    return make_shared(read_only_view(array), None)


def lend_to_sanitizer(
    function: Callable[..., Any],
    borrowed: list[tuple[Slot, torch.Tensor, int]],
    numpy_borrows: list[tuple[Slot, object]],
) -> list[Borrow]:
    """Record this call's borrows with the active sanitizer: the caller's arrays are locked
    read-only for the call, and raw routes inside it see the lent memory as borrowed."""
    loans: list[Borrow | None] = []
    for slot, tensor, _ in borrowed:
        loans.append(lend(tensor, function, slot.name, ()))
    for slot, array in numpy_borrows:
        assert is_ndarray(array)
        loans.append(lend(array, function, slot.name, (array,)))
    return [loan for loan in loans if loan is not None]


def explain_value_error(
    function: Callable[..., Any],
    error: ValueError,
    numpy_borrows: list[tuple[Slot, object]],
    unheld: Sequence[object] = (),
) -> None:
    """A ``ValueError`` the callee raised; the caller re-raises it when this returns.

    NumPy refused a write into a read-only array while NumPy values were lent: report the borrow,
    with NumPy's error chained (it cannot say which array it refused). ``unheld`` are arguments
    no frame holds as a local of its own (gathered into ``*args`` or ``**kwargs``, or members
    of a container), which the write may have targeted too.
    """
    if (
        numpy_borrows
        and is_read_only_refusal(error)
        and _refused_write_was_a_borrow(error, [array for _, array in numpy_borrows], unheld)
    ):
        raise AliasingError(
            numpy_borrow_written(function, numpy_borrows),
            function=function_name(function),
            parameter=lent_parameters(numpy_borrows),
            rule="borrow",
        ) from error
    explain_refused_write(error)


def _refused_write_was_a_borrow(
    error: BaseException, borrowed: list[object], unheld: Sequence[object]
) -> bool:
    """Whether NumPy's read-only refusal can only have been a write into a borrowed array.

    NumPy's error does not name the array it refused, so look at the read-only arrays the frames
    between the call and the error hold, and at ``unheld``: if one of them is the callee's own
    (it overlaps no borrow), the write may have targeted it, and the error is not blamed on the
    borrow.
    """
    lent_empty = any(is_ndarray(array) and array.size == 0 for array in borrowed)

    def is_own_read_only(value: object) -> bool:
        candidate = memory_of(value)
        return (
            is_ndarray(candidate)
            and not candidate.flags.writeable
            # An empty array overlaps nothing, not even the empty view it was lent as.
            and not (candidate.size == 0 and lent_empty)
            and not any(shares_memory(candidate, array) for array in borrowed)
        )

    if any(is_own_read_only(value) for value in unheld):
        return False
    traceback = error.__traceback__
    while traceback is not None:
        if any(is_own_read_only(local) for local in traceback.tb_frame.f_locals.values()):
            return False
        traceback = traceback.tb_next
    return True


def take_snapshots(values: list[tuple[Slot, object]]) -> list[tuple[Slot, Any, Any]]:
    """``(slot, copy, value)`` of each borrowed value, for ``exhaustive=True``."""
    taken: list[tuple[Slot, Any, Any]] = []
    for slot, value in values:
        if slot.kind == SHARED:
            inner = memory_of(value)
            if inner is not None:
                taken.append((slot, _snapshot(inner), inner))
    return taken


def check_borrows_kept(
    function: Callable[..., Any],
    borrowed: list[tuple[Slot, torch.Tensor, int]],
    snapshots: Sequence[tuple[Slot, Any, Any]],
) -> None:
    """After the call: no borrowed tensor's version moved, and each snapshot still matches."""
    for slot, tensor, version in borrowed:
        if version_counter(tensor) != version:
            raise AliasingError(
                borrow_written(function, slot.name, tensor, "a torch in-place write"),
                function=function_name(function),
                parameter=slot.name,
                rule="borrow",
            )
    for slot, before, after in snapshots:
        if not _same_bits(before, after):
            raise AliasingError(
                borrow_written(
                    function, slot.name, after, "a write the version counter cannot see"
                ),
                function=function_name(function),
                parameter=slot.name,
                rule="borrow",
            )


def _snapshot(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        with quiet_complex_half():  # a complex32 clone warns; the copy is ours, not the user's
            return value.detach().clone()
    return value.copy()


def _same_bits(before: Any, after: Any) -> bool:
    """Bitwise equality (NaN payloads and -0.0 included) of a snapshot and the live value."""
    if isinstance(before, torch.Tensor) and isinstance(after, torch.Tensor):
        if after.numel() == 0:
            return True  # no element to write
        with quiet_complex_half():  # complex32 copies warn; they are ours, not the user's
            return bool(torch.equal(_bytes_of(before), _bytes_of(after)))
    if is_ndarray(before) and is_ndarray(after):
        return np.ascontiguousarray(before).tobytes() == np.ascontiguousarray(after).tobytes()
    return True


def _bytes_of(tensor: torch.Tensor) -> torch.Tensor:
    # Into fresh standard strides first: contiguous() keeps any stride on a length-1 axis, and
    # viewing as bytes needs a unit last stride.
    flat = torch.empty(tensor.numel(), dtype=tensor.dtype, device=tensor.device)
    flat.copy_(tensor.reshape(-1))
    return flat.view(torch.uint8)
