"""The dispatch mode: every torch op on a sanitized thread passes here before its kernel runs.

Ops whose schema writes nothing cost one dict lookup. For the rest, each written argument
(``Tensor(a!)`` in the schema: the ``self`` of in-place ops, ``out=``) is checked against the live
borrows, against itself (elements that overlap each other), against the op's read arguments
(partial overlap), and, while raw routes are recorded, against the raw cross-library aliases.
A violation raises `AliasingError` before the kernel runs, so nothing is modified.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, cast

import torch

from .. import _torch_compat
from .._describing import function_name
from .._errors import AliasingError
from .._memory import extent_of, shares_memory
from ._ledger import LIVE_BORROWS, REGISTRY, Borrow, Value
from ._messages import (
    borrow_would_be_written,
    borrowed_memory_written,
    overlapping_elements_written,
)
from ._overlap import WrittenArguments, check_read_overlap, elements_overlap
from ._storage_swaps import STORAGE_SWAP_OPS, check_storage_swap

_STRIDED: Final = torch.strided
_has_internal_overlap: Final = _torch_compat.has_internal_overlap
_OVERLAP_YES: Final = _torch_compat.INTERNAL_OVERLAP_YES

#: Each op overload's written arguments, learned from its schema on first sight.
_WRITTEN_BY_OP: Final[dict[_torch_compat.OpOverload[..., Any], WrittenArguments]] = {}


#: Ops that write arguments their schema does not mark: batch norm updates running_mean and
#: running_var in training mode, though ``native_batch_norm`` declares neither as written.
_BATCH_NORM_WRITES: Final[WrittenArguments] = (
    (3, "running_mean", False),
    (4, "running_var", False),
)
_UNMARKED_WRITES: Final[dict[str, WrittenArguments]] = {
    "aten::native_batch_norm": _BATCH_NORM_WRITES,
}
_BATCH_NORM_TRAINING_POSITION: Final = 5
#: The overloads seen so far whose unmarked writes happen only in training mode.
_STATS_UPDATING_OPS: Final[set[_torch_compat.OpOverload[..., Any]]] = set()


def _batch_norm_updates_stats(args: Sequence[Any], kwargs: Mapping[str, Any] | None) -> bool:
    if len(args) > _BATCH_NORM_TRAINING_POSITION:
        return bool(args[_BATCH_NORM_TRAINING_POSITION])
    return bool(kwargs and kwargs.get("training"))


#: What `_written_arguments` returns for `STORAGE_SWAP_OPS`: a marker `_check_writes` tells
#: apart by identity, so the hot path of ops that write nothing stays one dict lookup and one
#: truth test.
_STORAGE_SWAP: Final[WrittenArguments] = ((0, "self", False),)


def _written_arguments(func: _torch_compat.OpOverload[..., Any]) -> WrittenArguments:
    if _torch_compat.op_name(func).split(".", 1)[0] in STORAGE_SWAP_OPS:
        return _STORAGE_SWAP
    marked = _torch_compat.written_arguments(func)
    # Every overload (.default, .out) writes the same unmarked arguments.
    unmarked = _UNMARKED_WRITES.get(_torch_compat.op_name(func).split(".", 1)[0])
    if unmarked is None:
        return marked
    _STATS_UPDATING_OPS.add(func)
    return unmarked + marked


def _dispatch(
    mode: SanitizerMode,
    func: _torch_compat.OpOverload[..., Any],
    types: Sequence[type],
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
) -> Any:
    written = _WRITTEN_BY_OP.get(func)
    if written is None:
        written = _WRITTEN_BY_OP[func] = _written_arguments(func)
    if written:
        _check_writes(func, written, args, kwargs)
    if kwargs:
        return func(*args, **kwargs)
    return func(*args)


#: Whether torch's frame evaluator already keeps torch.compile out of `_dispatch`.
_DISPATCH_NEVER_COMPILED: Final = _torch_compat.never_compiled(_dispatch)


class SanitizerMode(_torch_compat.TorchDispatchMode):
    """Checks each write before torch performs it; lets everything else through untouched."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # torch's own way (a wrapper around __torch_dispatch__) imports torch._dynamo at the
        # first op, which made the first share() in sanitize() take 1.5 s; `never_compiled`
        # keeps torch.compile out without it.
        return not _DISPATCH_NEVER_COMPILED

    __torch_dispatch__ = _dispatch


def _check_writes(
    func: _torch_compat.OpOverload[..., Any],
    written: WrittenArguments,
    args: Sequence[Any],
    kwargs: Mapping[str, Any] | None,
) -> None:
    if written is _STORAGE_SWAP:
        check_storage_swap(func, args)
        return
    if func in _STATS_UPDATING_OPS and not _batch_norm_updates_stats(args, kwargs):
        # Eval mode only reads the running stats.
        written = tuple(entry for entry in written if entry not in _BATCH_NORM_WRITES)
    for position, name, keyword_only in written:
        if keyword_only or position >= len(args):
            value = None if kwargs is None else kwargs.get(name)
        else:
            value = args[position]
        if isinstance(value, torch.Tensor):
            _check_written(func, name, value)
            check_read_overlap(func, name, value, written, args, kwargs, None)
        elif isinstance(value, list | tuple):  # Tensor(a!)[]: the _foreach_*_ ops
            items = cast("Sequence[object]", value)
            for index, item in enumerate(items):
                if isinstance(item, torch.Tensor):
                    _check_written(func, f"{name}[{index}]", item)
                    check_read_overlap(func, f"{name}[{index}]", item, written, args, kwargs, index)


#: ``(check, live aliases)`` while raw routes are recorded: the dispatch mode hands it each write.
_alias_checker: tuple[Callable[[Any, str, torch.Tensor, int, int], None], list[Borrow]] | None = (
    None
)


def register_alias_checker(
    checker: Callable[[Any, str, torch.Tensor, int, int], None] | None,
    live: list[Borrow] | None = None,
) -> None:
    global _alias_checker  # noqa: PLW0603  # read on every write, so one global slot
    _alias_checker = None if checker is None or live is None else (checker, live)


def _check_written(
    func: _torch_compat.OpOverload[..., Any], name: str, tensor: torch.Tensor
) -> None:
    # The hot path of every write: a few attribute reads when no borrow is live.
    if tensor.is_nested:
        return  # share() never lends nested tensors, and they have no single extent to test
    if tensor.layout is not _STRIDED:  # sparse and friends: no overlap test, exact buffer compare
        if LIVE_BORROWS:
            _raise_if_borrowed(func, name, tensor, REGISTRY.everything())
        return
    overlap = _has_internal_overlap(tensor)
    if overlap and (overlap == _OVERLAP_YES or elements_overlap(tensor)):
        raise AliasingError(
            overlapping_elements_written(_torch_compat.op_name(func), name, tensor),
            function=_torch_compat.op_name(func),
            parameter=name,
            rule="sanitizer",
        )
    aliases = _alias_checker
    if not (LIVE_BORROWS or (aliases is not None and aliases[1])) or not tensor.is_cpu:
        return  # share() lends host memory only, and NumPy has no other
    if type(tensor) is not torch.Tensor and _torch_compat.is_fake(tensor):
        return  # shapes only: a fake write touches no memory
    try:
        start = tensor.data_ptr()
    except RuntimeError:  # tensors without storage (fake, functional) hold no bytes to compare
        return
    if tensor.is_contiguous():
        stop = start + tensor.nbytes
    else:
        extent = extent_of(tensor)
        start, stop = extent.start, extent.stop
    if start != stop:
        candidates = REGISTRY.candidates(start, stop)
        if candidates:
            _raise_if_borrowed(func, name, tensor, candidates)
        if aliases is not None and aliases[1]:
            aliases[0](func, name, tensor, start, stop)


def _raise_if_borrowed(
    func: _torch_compat.OpOverload[..., Any],
    name: str,
    tensor: torch.Tensor,
    candidates: list[Borrow],
) -> None:
    hit: list[tuple[Borrow, Value]] = []
    for borrow in candidates:
        value = borrow.value()  # None once collected: its memory may be anyone's now
        if value is not None and shares_memory(tensor, value):
            hit.append((borrow, value))
    loans = [(borrow, value) for borrow, value in hit if borrow.lender is not None]
    if loans:
        loan, lent = max(loans, key=lambda pair: pair[0].order)
        assert loan.lender is not None
        function, parameter = loan.lender
        raise AliasingError(
            borrow_would_be_written(function, parameter, lent, _torch_compat.op_name(func)),
            function=function_name(function),
            parameter=parameter,
            rule="borrow",
        )
    if hit:
        raise AliasingError(
            borrowed_memory_written(_torch_compat.op_name(func), name, _culprit(tensor, hit)),
            function=_torch_compat.op_name(func),
            parameter=name,
            rule="sanitizer",
        )


def _culprit(tensor: torch.Tensor, hit: list[tuple[Borrow, Value]]) -> Borrow:
    """The borrow to blame when several cover the written memory (one buffer lent twice).

    The borrow the written tensor is, or is a view of, comes first; otherwise the newest one.
    """
    base = tensor._base
    for borrow, value in hit:
        if value is tensor or (base is not None and value is base):
            return borrow
    return max(hit, key=lambda pair: pair[0].order)[0]
