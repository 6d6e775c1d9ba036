"""Every private or version-dependent torch API aliasguard touches, in one place.

A torch upgrade that moves one of these should need a change here and nowhere else.
"""

from __future__ import annotations

import contextlib
import types
import warnings
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Final, cast

import numpy as np
import torch
from torch._ops import OpOverload as OpOverload  # noqa: PLC0414  # private torch API, offered from here only
from torch._subclasses.fake_tensor import FakeTensor
from torch.utils._python_dispatch import (
    _get_current_dispatch_mode_stack,  # pyright: ignore[reportPrivateUsage]
)

#: ``torch.from_numpy``, typed: torch's stubs leave its parameter unannotated.
from_numpy = cast("Callable[[np.ndarray[Any, Any]], torch.Tensor]", torch.from_numpy)  # pyright: ignore[reportUnknownMemberType]

#: What torch says on every complex32 (ComplexHalf) op.
_COMPLEX_HALF_WARNING: Final = "ComplexHalf support is experimental"


@contextlib.contextmanager
def quiet_complex_half(*, when: bool = True) -> Generator[None, None, None]:
    """Silence torch's "ComplexHalf support is experimental" while aliasguard makes complex32 tensors.

    The user asked for a conversion or a drawn value, not for a complex32 op; the warning would
    only leak into their logs (or fail their ``-W error`` runs). ``when=False`` skips the
    (comparatively slow) warning filter, for callers that know no complex32 is involved.
    """
    if not when:
        yield
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_COMPLEX_HALF_WARNING, category=UserWarning)
        yield


#: What torch says when it makes a tensor over a read-only NumPy array.
_READ_ONLY_ARRAY_WARNING: Final = "The given NumPy array is not writable"


@contextlib.contextmanager
def quiet_read_only_warning() -> Generator[None, None, None]:
    """Silence torch's "The given NumPy array is not writable" where aliasguard means it.

    aliasguard lends read-only arrays on purpose (a borrow is read-only by contract), so the
    warning would blame the user for aliasguard's choice, in their logs or their ``-W error`` runs.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_READ_ONLY_ARRAY_WARNING, category=UserWarning)
        yield


_COMPRESSED_LAYOUTS = {
    torch.sparse_csr: ("crow_indices", "col_indices"),
    torch.sparse_bsr: ("crow_indices", "col_indices"),
    torch.sparse_csc: ("ccol_indices", "row_indices"),
    torch.sparse_bsc: ("ccol_indices", "row_indices"),
}


def component_tensors(tensor: torch.Tensor) -> list[torch.Tensor]:
    """The strided tensors that hold a non-strided tensor's data.

    Sparse COO tensors expose their buffers only through the private ``_indices()``/``_values()``
    (the public ``indices()`` refuses uncoalesced tensors). Layouts with no inspectable buffers
    (nested, mkldnn) are returned whole, and callers treat them as opaque.
    """
    layout = tensor.layout
    if layout == torch.sparse_coo:
        return [tensor._indices(), tensor._values()]
    if layout in _COMPRESSED_LAYOUTS:
        outer, inner = _COMPRESSED_LAYOUTS[layout]
        return [getattr(tensor, outer)(), getattr(tensor, inner)(), tensor.values()]
    return [tensor]


def is_fake(tensor: torch.Tensor) -> bool:
    """Whether ``tensor`` is a FakeTensor: shape and dtype only, its data pointer warns when read."""
    return type(tensor) is not torch.Tensor and isinstance(tensor, FakeTensor)


def memory_problem(tensor: torch.Tensor) -> str | None:
    """Why a strided tensor's data pointer is not memory it can be read through, or ``None``.

    ``"no-storage"``: a FakeTensor, a functional or vmap/grad tensor, or a wrapper subclass
    (``_make_wrapper_subclass``, as MaskedTensor and jagged nested tensors are): its data lives
    elsewhere or nowhere, and ``.numpy()`` or ``copy_`` would read address 0 or garbage.
    ``"short-storage"``: the storage holds fewer bytes than the shape reaches, as after FSDP's
    ``untyped_storage().resize_(0)``; reading it reads freed memory, or crashes.
    """
    if type(tensor) is not torch.Tensor and is_fake(tensor):  # its data pointer warns when read
        return "no-storage"
    try:
        storage = tensor.untyped_storage()
        address, available = storage.data_ptr(), storage.nbytes()
    except (RuntimeError, NotImplementedError):  # no storage at all (vmap, functional)
        return "no-storage"
    if tensor.numel() == 0:
        return None  # no element to read
    if tensor.is_contiguous():  # the common case, without a loop over the axes
        needed = tensor.storage_offset() * tensor.element_size() + tensor.nbytes
    else:
        last = tensor.storage_offset() + sum(
            (size - 1) * stride for size, stride in zip(tensor.shape, tensor.stride(), strict=True)
        )
        needed = (last + 1) * tensor.element_size()
    if address == 0 and available > 0:  # a FakeTensor's storage: a size, no memory
        return "no-storage"
    if needed > available:
        return "short-storage"
    return None


_storage_use_count = cast(
    "Callable[[int], int] | None",
    getattr(torch._C, "_storage_Use_Count", None),  # pyright: ignore[reportPrivateUsage]
)


def storage_has_other_tensors(tensor: torch.Tensor) -> bool:
    """Whether another tensor (a ``detach()``, ``.data`` or ``set_()`` alias) holds this storage.

    Counted with torch's storage use count: one per tensor on the storage, plus one for the Python
    storage object this check makes. Where torch does not expose the count, the answer is False.
    """
    if _storage_use_count is None or tensor.layout != torch.strided or tensor.is_nested:
        return False
    try:
        storage = tensor.untyped_storage()
        return _storage_use_count(storage._cdata) > 2  # pyright: ignore[reportPrivateUsage]
    except (RuntimeError, NotImplementedError, AttributeError):
        return False


def wrapped_tensors(tensor: torch.Tensor) -> list[torch.Tensor] | None:
    """The tensors a traceable wrapper subclass holds (jagged nested tensors, DTensor), or ``None``.

    Such subclasses name their inner tensors through ``__tensor_flatten__``, the protocol
    torch.compile uses; their own data pointer is 0.
    """
    flatten = getattr(tensor, "__tensor_flatten__", None)
    if flatten is None:
        return None
    try:
        names = cast("tuple[list[str], object]", flatten())[0]
    except Exception:  # a subclass's own code: any failure means "cannot tell"
        return None
    inner = [getattr(tensor, name, None) for name in names]
    return [value for value in inner if isinstance(value, torch.Tensor)]


def version_counter(tensor: torch.Tensor) -> int:
    """torch's in-place write counter for ``tensor``'s storage view (shared with its views)."""
    return tensor._version


# ----------------------------------------------------------------------------------------------
# The dispatch-mode API behind `aliasguard.sanitize` (``_sanitizer._dispatch``).

if TYPE_CHECKING:

    class TorchDispatchMode:
        """``torch.utils._python_dispatch.TorchDispatchMode`` as its subclasses use it, typed.

        torch leaves its methods unannotated, which strict checkers reject at every call.
        """

        def __init__(self) -> None: ...
        @classmethod
        def _should_skip_dynamo(cls) -> bool: ...
        def __enter__(self) -> TorchDispatchMode: ...
        def __exit__(
            self,
            exc_type: type[BaseException] | None,
            exc_value: BaseException | None,
            traceback: types.TracebackType | None,
        ) -> None: ...

else:
    from torch.utils._python_dispatch import TorchDispatchMode


def never_compiled(function: Callable[..., object]) -> bool:
    """Tell torch.compile never to trace ``function``, nor anything it calls; False if torch can't.

    torch wraps every dispatch mode's ``__torch_dispatch__`` in ``torch._disable_dynamo`` so that
    torch.compile does not trace into it, and that wrapper imports ``torch._dynamo`` at the first
    op (about 1.5 s and 70 MB). Marking the code object in torch's C frame evaluator instead has
    the same effect, is free when torch.compile never runs, and imports nothing. torch releases
    without the C entry point (before 2.6) return False: the caller then keeps torch's wrapper.
    """
    try:
        from torch._C._dynamo import eval_frame  # lazy: absent before torch 2.6 (see above)
    except ImportError:
        return False
    set_strategy = getattr(eval_frame, "set_code_exec_strategy", None)
    strategy = getattr(eval_frame, "_FrameExecStrategy", None)
    action = getattr(eval_frame, "_FrameAction", None)
    code = getattr(function, "__code__", None)
    if set_strategy is None or strategy is None or action is None or code is None:
        return False
    skip = action.SKIP
    set_strategy(code, strategy(skip, skip))  # this frame, and every frame below it
    return True


#: ``torch._debug_has_internal_overlap``'s answers (``at::MemOverlap``).
INTERNAL_OVERLAP_NO: Final = 0
INTERNAL_OVERLAP_YES: Final = 1
INTERNAL_OVERLAP_TOO_HARD: Final = 2


def written_arguments(op: OpOverload[..., Any]) -> tuple[tuple[int, str, bool], ...]:
    """``(position, name, keyword_only)`` of every argument whose memory ``op`` may write.

    Read from the schema's alias annotations (``Tensor(a!)``), out= arguments included. Ops tagged
    ``inplace_view`` (``squeeze_``, ``as_strided_``, ``set_``, ``resize_``, ``detach_``, ...) change
    only a tensor's metadata, never the bytes it points at, so they write nothing here.
    """
    if torch.Tag.inplace_view in op.tags:
        return ()
    schema = op._schema  # pyright: ignore[reportPrivateUsage]
    return tuple(
        (position, argument.name, argument.kwarg_only)
        for position, argument in enumerate(schema.arguments)
        if argument.alias_info is not None and argument.alias_info.is_write
    )


def op_name(op: OpOverload[..., Any]) -> str:
    """The schema name with its overload, as torch prints it: ``aten::add_.Tensor``."""
    schema = op._schema  # pyright: ignore[reportPrivateUsage]
    return f"{schema.name}.{schema.overload_name}" if schema.overload_name else schema.name


#: torch's own test of whether a strided tensor's elements overlap each other: `INTERNAL_OVERLAP_NO`
#: for dense layouts, `INTERNAL_OVERLAP_YES` for a zero stride on an axis longer than one, and
#: `INTERNAL_OVERLAP_TOO_HARD` for the rest (a column slice, ``as_strided`` layouts). The function
#: itself, not a wrapper: the sanitizer calls it on every write.
has_internal_overlap = cast(
    "Callable[[torch.Tensor], int]",
    torch._debug_has_internal_overlap,  # pyright: ignore[reportPrivateUsage, reportPrivateImportUsage]
)


def dispatch_mode_stack() -> list[object]:
    """The dispatch modes active on this thread, outermost first (for tests and diagnostics)."""
    return list(_get_current_dispatch_mode_stack())
