"""What the sanitizer's errors and notes say: each first line names what happened, why, and the
fix; the lines after it give the stacks of the sites involved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import torch

from .._describing import copy_expression, describe, function_name
from ._call_sites import Frame, format_stack
from ._ledger import Borrow

#: What a sanitizer error says after its first line when the write hit a borrow.
BORROWED_WRITE_EXPLANATION: Final = """\
A value from share() aliases its source's memory; writing through it changes the source too
(torchvision #680: an in-place Normalize re-normalized the cached dataset every epoch).

    t = aliasguard.share(array).value
    t.sub_(mean)                        # writes into `array`

    t = aliasguard.own(array).value     # a copy: writes stay in `t`
    t = aliasguard.share(array).value
    t = t.sub(mean)                     # out of place: a fresh tensor
"""

#: How a note of aliasguard's starts, so one error is never explained twice.
NOTE_PREFIX: Final = "aliasguard: "


def borrowed_memory_written(op: str, name: str, borrow: Borrow) -> str:
    first = (
        f"{op} would write its argument '{name}' into memory borrowed by "
        f"{borrow.made_by} ({borrow.description}), which is read-only by contract: own() a copy "
        "(aliasguard.own(x)) or write into a fresh tensor (the out-of-place op, or x.clone())."
    )
    return (
        f"{first}\nThe borrow was made by {borrow.made_by} here (most recent call last):\n"
        f"{format_stack(borrow.stack)}\n"
        f"{BORROWED_WRITE_EXPLANATION}"
    )


def partly_overlapping_write(
    op: str, name: str, tensor: torch.Tensor, read: torch.Tensor, position: int
) -> str:
    return (
        f"{op} would write its argument '{name}' (shape "
        f"{tuple(tensor.shape)}, strides {tensor.stride()}) while reading argument {position} "
        f"(shape {tuple(read.shape)}, strides {read.stride()}), which partly overlaps it: the "
        "result would depend on the order the kernel visits elements (CPU, CUDA and NumPy "
        "disagree). Read from a copy (x[:, 2:] = x[:, :-2].clone()), or write into a fresh tensor.\n"
        "  pytorch #144861: arr[:, 1:] = arr[:, :-1] gives a different answer on CPU and CUDA."
    )


def storage_moved_under_numpy_view(operation: str, viewer: Borrow) -> str:
    return (
        f"{operation} would give a tensor other memory while a NumPy array made by "
        f"{viewer.made_by} ({viewer.description}) still views its current memory: the array "
        "would go on reading the old bytes, freed or no longer the tensor's. Call it before the "
        "NumPy view is made, or give NumPy a copy (aliasguard.own(t), t.numpy().copy()).\n"
        f"The NumPy view was made by {viewer.made_by} here (most recent call last):\n"
        f"{format_stack(viewer.stack)}"
        "  pytorch #51849: DataLoader workers (spawn) move a tensor to shared memory, and the "
        "array made earlier with tensor.numpy() no longer sees it."
    )


def overlapping_elements_written(op: str, name: str, tensor: torch.Tensor) -> str:
    return (
        f"{op} would write its argument '{name}' into a tensor whose "
        f"elements overlap each other (shape {tuple(tensor.shape)}, strides {tensor.stride()}, as "
        "made by expand() or broadcasting): one memory location would receive several writes. "
        "Write into a fresh tensor instead (x.clone() first, or the out-of-place op)."
    )


def owner_write_refused(borrow: Borrow) -> str:
    """The note added to NumPy's refusal of an owner's write into an array a borrow locked."""
    made_at = format_stack(borrow.stack).rstrip("\n")
    return (
        f"{NOTE_PREFIX}NumPy refused this write because the memory is borrowed by "
        f"{borrow.made_by} ({borrow.description}), and aliasguard.sanitize() makes the owner's "
        "arrays read-only while a borrow lives: write into a copy (a.copy(), aliasguard.own(a)), "
        "or let the borrower drop its value (or own() it) before the owner writes.\n"
        f"The borrow was made here (most recent call last):\n{made_at}"
    )


def cross_library_write(
    op: str,
    parameter: str,
    description: str,
    route: str,
    *,
    alias_stack: tuple[Frame, ...],
    write_stack: tuple[Frame, ...],
) -> str:
    return (
        f"{op} would write its argument '{parameter}' ({description}) into "
        f"memory that a live NumPy array still views (the alias was made by {route}): "
        "the array would change under whoever holds it. Write into a copy (t.clone(), "
        "a.copy()) or drop the array first; if the sharing is intended, wrap the write in "
        "aliasguard.allow_shared_writes().\n"
        f"The alias was made by {route} here (most recent call last):\n"
        f"{format_stack(alias_stack)}"
        f"The write came from here (most recent call last):\n{format_stack(write_stack)}"
    )


def borrow_would_be_written(
    function: Callable[..., Any], parameter: str, value: object, op: str
) -> str:
    """A write into a value a ``@checked`` call lent, refused: said as the call's borrow rule."""
    return (
        f"{function_name(function)} would write into its Shared parameter {parameter!r} (borrow "
        f"rule): the in-place op {op} would change this {describe(value)}, which the caller only "
        f"lent. Write into a copy ({copy_expression(value)}), or annotate the parameter Owned[...].\n"
        "  Nothing was modified: sanitize() refused the write before it happened."
    )
