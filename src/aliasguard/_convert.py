"""The converters: `share` (zero-copy or an error) and `own` (a fresh copy, exact unless asked).

The direction follows the input's type: NumPy arrays become tensors, tensors become NumPy arrays.
Every check that decides whether a route is possible runs before the call into torch or NumPy that
would act on it, so no input reaches a call that could crash the process (``torch.from_dlpack``
aborts on negative strides before torch 2.15, and a tensor over a read-only memmap segfaults on
write: tests/unit/test_upstream_facts.py pins both).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, cast, overload

import numpy as np
import torch

from . import _conversion_messages as messages, _torch_compat
from ._dtypes import (
    CASTING_RULES,
    TORCH_DTYPE_BY_NUMPY,
    Casting,
    DtypeInfo,
    info_from_numpy,
    info_from_torch,
    is_cast_allowed,
    numpy_dtype_of,
    resolve_dtype,
    weakest_rule_allowing,
)
from ._errors import CastError, ConversionError, ShareError
from ._host_memory import empty_host_tensor, refuse_more_than_physical_memory
from ._memory import MAX_NUMPY_DIMS
from ._wrappers import (
    Owned,
    Shared,
    is_ndarray,
    is_tensor,
    make_owned,
    make_shared,
    new_wrapper,
    set_source,
    set_value,
    unwrap,
)

if TYPE_CHECKING:
    from numpy.typing import DTypeLike, NDArray

#: Above this size `own()` copies with torch's multi-threaded copy into fresh memory backed by huge
#: pages (`empty_host_tensor`); below it one clone has the least fixed cost.
PARALLEL_COPY_MIN_BYTES: Final = 1 << 20

_from_numpy = _torch_compat.from_numpy
_ndarray = np.ndarray
_contiguous = torch.contiguous_format


# ----------------------------------------------------------------------------------------------
# share()

#: Called with every new borrow while a sanitizer is active (see `set_borrow_hook`); ``None``
#: otherwise, so that share() pays one global lookup when nothing listens.
_borrow_hook: Callable[[Shared[Any]], None] | None = None


def set_borrow_hook(hook: Callable[[Shared[Any]], None] | None) -> None:
    """Install (or with ``None`` remove) the callback that sees every borrow `share` makes.

    The contracts layer uses it to track live borrows; the core itself never calls anything above it.
    """
    global _borrow_hook  # noqa: PLW0603  # one process-wide slot, read on share()'s hot path
    _borrow_hook = hook


def _registered(wrapper: Shared[Any]) -> Shared[Any]:
    if _borrow_hook is not None:
        _borrow_hook(wrapper)
    return wrapper


@overload
def share(x: NDArray[Any] | Shared[NDArray[Any]]) -> Shared[torch.Tensor]: ...
@overload
def share(x: torch.Tensor | Shared[torch.Tensor]) -> Shared[NDArray[Any]]: ...
def share(x: Any) -> Shared[Any]:
    """Alias ``x`` in the other library, zero-copy, or raise: never a silent copy.

    ``np.ndarray -> Shared[torch.Tensor]`` and ``torch.Tensor -> Shared[np.ndarray]``. The result's
    ``.value`` uses the same memory as ``x`` (same data pointer); ``.source`` is ``x``, kept alive
    as long as the result lives. A NumPy result is a truly read-only view that cannot be flipped
    back to writable. A tensor result is writable at the torch level (torch has no read-only
    tensors), and read-only by contract: `aliasguard.sanitize` and `aliasguard.checked` enforce it.

    Sharing a tensor into NumPy pins the tensor's storage: a later ``resize_()`` on it raises
    instead of leaving the array reading freed memory, and ``set_()`` leaves the array reading the
    old memory. One hazard remains that no Python-level check can stop: ``t.share_memory_()``
    moves the data to shared memory and frees the old block under any NumPy view of it
    (pytorch #51849). Call ``share_memory_()`` before ``share()``, never after.

    Args:
        x: an ``np.ndarray`` or a ``torch.Tensor``, or a `Shared`/`Owned` wrapping one.

    Returns:
        A `Shared` wrapper around the aliasing value.

    Raises:
        ShareError: zero-copy is impossible (negative strides, non-native byte order, a dtype the
            other library lacks, a non-CPU device, ``requires_grad``, conjugate or negative bit,
            sparse/quantized/meta/nested tensors, tensors without memory of their own (FakeTensor,
            functional, vmap, wrapper subclasses) or with shrunk storage, tensors of more than
            64 dimensions, masked arrays, unaligned memory, strides that are not a multiple of
            the item size). The message
            names the cause and what to do instead, usually `own`.

    Examples:
        >>> import numpy as np, aliasguard
        >>> a = np.arange(3.0)
        >>> t = aliasguard.share(a).value  # no copy: t uses a's memory
        >>> t.data_ptr() == a.ctypes.data
        True
    """
    if type(x) is _ndarray:  # not __class__, which an object can fake
        # Fast path. torch.from_numpy raises (never crashes) on every dtype, byte order and stride
        # it cannot alias; those errors send the input to the slow path, which explains them.
        # Read-only arrays go there first, to keep torch's warning about them out of user logs.
        if x.flags.behaved:
            try:
                tensor = _from_numpy(x)
            except (TypeError, ValueError):
                return _share_array(x)
            # The wrapper is built inline: a function call is a sixth of this path's budget.
            wrapper: Shared[Any] = new_wrapper(Shared)
            set_value(wrapper, tensor)
            set_source(wrapper, x)
            if _borrow_hook is not None:
                _borrow_hook(wrapper)
            return wrapper
        return _share_array(x)
    x = unwrap(x)
    if is_tensor(x):
        return _share_tensor(x)
    if is_ndarray(x):
        return _share_array(cast("NDArray[Any]", x))
    raise ShareError(messages.not_an_array("share", x), reason="type")


def _share_array(array: np.ndarray[Any, Any]) -> Shared[torch.Tensor]:
    if isinstance(array, np.ma.MaskedArray):
        raise ShareError(messages.masked_array("share"), reason="masked")
    info = info_from_numpy(array.dtype)
    if info is None:
        raise ShareError(messages.share_dtype_not_in_torch(array.dtype), reason="dtype")
    if not array.dtype.isnative:
        raise ShareError(messages.share_byte_order(array.dtype), reason="byte-order")
    if not array.flags.aligned:
        raise ShareError(messages.share_unaligned(array), reason="unaligned")
    if array.size == 0:
        aliasable = _canonical(_zero_strided(array), info)
    elif any(stride % array.itemsize for stride in array.strides):
        raise ShareError(messages.share_odd_strides(array), reason="strides")
    else:
        aliasable = _canonical(_without_inert_negative_strides(array), info)
    if info.numpy is None:  # an ml_dtypes array: move the bits, then reinterpret in torch
        with _quiet_complex32(info):
            tensor = _tensor_view(aliasable.view(info.storage)).view(info.torch)
    else:
        tensor = _tensor_view(aliasable)
    return _registered(make_shared(tensor, array))


def _without_inert_negative_strides(array: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``array``, with axes whose negative strides never step (length <= 1) turned forward.

    Such strides survive even ``np.ascontiguousarray`` (numpy #23349) and make torch refuse an
    array whose elements are laid out forward. Reversing those axes views the same elements with
    positive strides; negative strides that do step cannot be aliased.
    """
    if all(stride >= 0 for stride in array.strides):
        return array
    if any(
        stride < 0 and size > 1 for size, stride in zip(array.shape, array.strides, strict=True)
    ):
        raise ShareError(messages.share_negative_strides(array), reason="negative-strides")
    return array[tuple(slice(None, None, -1) if s < 0 else slice(None) for s in array.strides)]


def _canonical(array: np.ndarray[Any, Any], info: DtypeInfo) -> np.ndarray[Any, Any]:
    """``array`` viewed with the table's spelling of its dtype, which torch.from_numpy accepts.

    NumPy has two type codes for some dtypes (``np.ulonglong`` and ``np.uint64`` on Linux): they
    compare equal, but torch refuses the spelling it does not map. The view copies nothing.
    """
    if info.numpy is None or array.dtype.char == info.numpy.char:
        return array
    return array.view(info.numpy)


def _zero_strided(array: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """An empty ``array`` with all strides zero: with no element to lay out, any strides will do.

    Negative or odd strides of an empty array (a field of an empty structured array) would make
    torch refuse memory it never reads. as_strided cannot name ml_dtypes' dtypes, so those go
    through same-size integers.
    """
    if not any(array.strides):
        return array
    # isbuiltin is 1 for NumPy's own dtypes and 2 for registered ones such as ml_dtypes'.
    bits = array if array.dtype.isbuiltin == 1 else array.view(f"u{array.itemsize}")
    flat = np.lib.stride_tricks.as_strided(
        bits, shape=array.shape, strides=(0,) * array.ndim, writeable=array.flags.writeable
    )
    return flat if flat.dtype == array.dtype else flat.view(array.dtype)


def _tensor_view(array: np.ndarray[Any, Any]) -> torch.Tensor:
    """``torch.from_numpy`` without its once-per-process warning for read-only arrays.

    Sharing a read-only array is allowed (the borrow is read-only by contract), so the warning
    would only leak into the user's logs, or fail their ``-W error`` test run.
    """
    if array.flags.writeable:
        return _from_numpy(array)
    with _torch_compat.quiet_read_only_warning():
        return _from_numpy(array)


def _share_tensor(tensor: torch.Tensor) -> Shared[NDArray[Any]]:
    reason = _unshareable_tensor_reason(tensor)
    if reason is not None:
        raise ShareError(messages.share_unsupported_tensor(tensor, reason), reason=reason)
    info = info_from_torch(tensor.dtype)
    numpy_dtype = None if info is None else numpy_dtype_of(info)
    if info is None or numpy_dtype is None:
        raise ShareError(messages.dtype_not_in_numpy(tensor.dtype, info), reason="dtype")
    try:
        if tensor.numel() == 0:
            # .numpy() of an empty tensor owns a buffer of its own, which could be made writable.
            array = np.frombuffer(b"", dtype=numpy_dtype).reshape(tuple(tensor.shape))
        elif info.numpy is None:  # through same-size integers, then reinterpret as ml_dtypes
            storage = info_from_numpy(info.storage)
            assert storage is not None
            bits = tensor.view(storage.torch).numpy()
            bits.flags.writeable = False  # before the view, whose base it becomes
            array = bits.view(numpy_dtype)
        else:
            array = tensor.numpy()
    except (RuntimeError, TypeError) as error:  # tensor subclasses torch cannot export
        raise ShareError(messages.share_torch_refused(tensor, error), reason="torch") from error
    if type(tensor) is not torch.Tensor and array.size and array.ctypes.data != tensor.data_ptr():
        # A subclass may override numpy() (or __torch_function__) to hand back a copy.
        raise ShareError(messages.share_subclass_copied(tensor), reason="torch")
    # The array's base is the tensor (or read-only bytes), which has no writable buffer, so NumPy
    # refuses to make this array, or any view of it, writable again.
    array.flags.writeable = False
    return _registered(make_shared(array, tensor))


def _unshareable_tensor_reason(tensor: torch.Tensor) -> str | None:
    # Order matters: the first applicable reason is the one the user must fix first.
    if tensor.is_nested:
        return "nested"
    if tensor.device.type == "meta":
        return "meta"
    if tensor.device.type != "cpu":
        return "device"
    if tensor.layout != torch.strided:
        return "layout"
    if tensor.dim() > MAX_NUMPY_DIMS:
        return "dimensions"
    problem = _torch_compat.memory_problem(tensor)
    if problem is not None:
        return problem
    if tensor.is_quantized:
        return "quantized"
    if tensor.requires_grad:
        return "requires-grad"
    if tensor.is_conj():
        return "conjugate"
    if tensor.is_neg():
        return "negative"
    return None


# ----------------------------------------------------------------------------------------------
# own()


@overload
def own(
    x: NDArray[Any] | Shared[NDArray[Any]],
    *,
    dtype: DTypeLike | torch.dtype | None = None,
    device: torch.device | str | int | None = None,
    casting: Casting = "safe",
) -> Owned[torch.Tensor]: ...
@overload
def own(
    x: torch.Tensor | Shared[torch.Tensor],
    *,
    dtype: DTypeLike | torch.dtype | None = None,
    device: None = None,
    casting: Casting = "safe",
) -> Owned[NDArray[Any]]: ...
def own(
    x: object,
    *,
    dtype: object = None,
    device: torch.device | str | int | None = None,
    casting: Casting = "safe",
) -> Owned[Any]:
    """Copy ``x`` into fresh memory in the other library; only the result holds it.

    ``np.ndarray -> Owned[torch.Tensor]`` and ``torch.Tensor -> Owned[np.ndarray]``. The result is
    C-contiguous, native byte order, detached from autograd, with conjugate and negative bits
    resolved; every layout is accepted (negative or zero strides, Fortran order, read-only, memmap,
    0-d, empty) and tensors are copied to the host from any device. ``dtype=None`` keeps the exact
    dtype: float64 stays float64, int64 above 2**53 stays exact.

    CPU tensors made by ``own()`` are torch's own: their storage is resizable, so ``out=`` an
    ``own()`` tensor of another size resizes it as it would a ``torch.zeros`` tensor. Large ones are
    backed by transparent huge pages, which makes large copies several times faster than
    ``torch.tensor``.

    ``casting="safe"`` is NumPy's rule, which admits int64 and uint64 to float64 (and complex128)
    although values above 2**53 round; keep ``dtype=None`` (or pass ``casting="no"``) where
    every integer must survive.

    Args:
        x: an ``np.ndarray`` or a ``torch.Tensor``, or a `Shared`/`Owned` wrapping one.
        dtype: the result's dtype (a NumPy dtype-like, a ``torch.dtype``, or a name such as
            ``"bfloat16"``); ``None`` keeps the input's.
        device: where an ``Owned[Tensor]`` is placed (``"cuda:0"``...); tensors always come back to
            the host as NumPy arrays, so it must be ``None`` for tensor inputs.
        casting: NumPy's casting rule for a dtype change: ``"no"``, ``"equiv"``, ``"safe"``,
            ``"same_kind"`` or ``"unsafe"``; it applies to bfloat16, float8 and the unsigned types too.

    Returns:
        An `Owned` wrapper around the new value.

    Raises:
        CastError: ``casting`` does not allow the dtype change; the message names the rule to pass.
        ConversionError: the target library cannot represent ``x`` (object or string dtypes, masked
            arrays, quantized or nested tensors, tensors of more than 64 dimensions, bfloat16 into
            NumPy without ``ml_dtypes``), ``x``
            holds no readable data (meta tensors, tensors without memory of their own or with
            shrunk storage), or ``device`` is unknown, unavailable, or given for a tensor input.
        ValueError: ``casting`` is not one of the five rules.
        MemoryError: the copy would be larger than the machine's memory (a zero-stride view of
            2**40 elements is), or the system refused the allocation; nothing was allocated.

    Examples:
        >>> import numpy as np, aliasguard
        >>> a = np.array([2**53 + 1], dtype=np.int64)
        >>> t = aliasguard.own(a).value
        >>> a[0] = 0
        >>> int(t[0]) == 2**53 + 1, t.dtype
        (True, torch.int64)
    """
    if type(x) is np.ndarray and dtype is None and device is None and casting == "safe":
        torch_dtype = TORCH_DTYPE_BY_NUMPY.get(x.dtype)
        flags = x.flags
        if torch_dtype is not None and x.nbytes < PARALLEL_COPY_MIN_BYTES and flags.behaved:
            try:
                # A clone, not a NumPy copy under torch.from_numpy: that tensor's storage could not
                # be resized, and a failed out= resize would leave it reading past its memory.
                source = _from_numpy(x)
            except (TypeError, ValueError):  # a second dtype spelling (np.ulonglong), negative
                pass  # strides, byte order: the slow path views or normalises them
            else:
                # clone() keeps a C-contiguous layout by itself, and a keyword costs a fifth.
                copy = (
                    source.clone()
                    if flags.c_contiguous
                    else source.clone(memory_format=_contiguous)
                )
                owned: Owned[Any] = new_wrapper(Owned)  # inline, as in share(): a call costs more
                set_value(owned, copy)
                set_source(owned, None)
                return owned
    return _own_any(x, dtype, device, casting)


def _own_any(x: object, dtype: object, device: object, casting: Casting) -> Owned[Any]:
    """`own` past its fast path: any input, dtype, device and casting rule."""
    if casting not in CASTING_RULES:
        raise ValueError(messages.not_a_casting_rule(casting))
    x = unwrap(x)
    if is_ndarray(x):
        return make_owned(_own_array(cast("NDArray[Any]", x), dtype, device, casting))
    if is_tensor(x):
        if device is not None and _resolve_device(device).type != "cpu":
            raise ConversionError(messages.own_device_for_tensor(device), reason="device")
        return make_owned(_own_tensor(x, dtype, casting))
    raise ConversionError(messages.not_an_array("own", x), reason="type")


def _target_info(dtype: object) -> DtypeInfo | None:
    try:
        return resolve_dtype(dtype)
    except (TypeError, ValueError):
        raise ConversionError(messages.not_a_dtype(dtype), reason="dtype") from None


def _check_cast(
    source: DtypeInfo,
    target: DtypeInfo,
    casting: Casting,
    *,
    source_dtype: np.dtype[Any] | None = None,
) -> None:
    if casting == "no" and source_dtype is not None and not source_dtype.isnative:
        # Only the byte order changes: name both orders, or the message reads float64 -> float64.
        native = source_dtype.newbyteorder("=")
        raise CastError(
            messages.cast_refused(
                f"{source.name} ({source_dtype.str})",
                f"{target.name} ({native.str})",
                casting,
                "equiv",
            ),
            source=source.name,
            target=target.name,
            casting=casting,
        )
    if not is_cast_allowed(source, target, casting):
        raise CastError(
            messages.cast_refused(
                source.name, target.name, casting, weakest_rule_allowing(source, target)
            ),
            source=source.name,
            target=target.name,
            casting=casting,
        )


def _own_array(
    array: np.ndarray[Any, Any], dtype: object, device: object, casting: Casting
) -> torch.Tensor:
    if isinstance(array, np.ma.MaskedArray):
        raise ConversionError(messages.masked_array("own"), reason="masked")
    target_device = _resolve_device(device)
    source = info_from_numpy(array.dtype)
    target = source if dtype is None else _target_info(dtype)
    if dtype is not None and target is None:
        raise ConversionError(messages.no_such_torch_dtype(dtype), reason="dtype")
    if source is None:
        # Only NumPy can cast from its own extra dtypes (longdouble...): let it, under the same rule.
        array, source = _cast_numpy_only(array, target, casting)
    assert target is not None
    _check_cast(source, target, casting, source_dtype=array.dtype)
    if target_device.type == "cpu":
        refuse_more_than_physical_memory(array.shape, target.torch, target.itemsize)
    with _quiet_complex32(source, target):
        source_tensor = _tensor_view_of_any_layout(array, source)
        if target_device.type != "cpu":
            try:
                result = torch.empty(array.shape, dtype=target.torch, device=target_device)
            except torch.cuda.OutOfMemoryError:
                raise  # the device exists and torch's message says how much memory was asked for
            except Exception as error:  # no such device in this torch build, or no backend module
                raise ConversionError(
                    messages.device_unavailable(target_device, error), reason="device"
                ) from error
            result.copy_(source_tensor)
            return result
        if source is target and array.nbytes < PARALLEL_COPY_MIN_BYTES:
            return source_tensor.clone(memory_format=torch.contiguous_format)
        result = _host_tensor(array.shape, target)
        result.copy_(source_tensor)
        return result


def _cast_numpy_only(
    array: np.ndarray[Any, Any], target: DtypeInfo | None, casting: Casting
) -> tuple[np.ndarray[Any, Any], DtypeInfo]:
    target_numpy = None if target is None else target.numpy
    if target is None or array.dtype.kind not in "biufc":
        raise ConversionError(messages.own_dtype_not_in_torch(array.dtype), reason="dtype")
    if target_numpy is None:
        raise ConversionError(messages.numpy_only_cast(array.dtype, target.name), reason="dtype")
    if not np.can_cast(array.dtype, target_numpy, casting):
        raise CastError(
            messages.cast_refused(str(array.dtype), target.name, casting, "same_kind"),
            source=str(array.dtype),
            target=target.name,
            casting=casting,
        )
    return array.astype(target_numpy), target


def _resolve_device(device: object) -> torch.device:
    if device is None:
        return torch.device("cpu")
    try:
        resolved = torch.device(cast("Any", device))
    except (RuntimeError, TypeError, ValueError):
        raise ConversionError(messages.not_a_device(device), reason="device") from None
    if resolved.type == "meta":  # a meta tensor holds no data: nothing would be owned
        raise ConversionError(messages.not_a_device(device), reason="device")
    return resolved


def _quiet_complex32(*infos: DtypeInfo | None) -> contextlib.AbstractContextManager[None]:
    """torch's ComplexHalf warning silenced when one of ``infos`` is complex32."""
    involved = any(info is not None and info.name == "complex32" for info in infos)
    return _torch_compat.quiet_complex_half(when=involved)


def _tensor_view_of_any_layout(array: np.ndarray[Any, Any], info: DtypeInfo) -> torch.Tensor:
    """A tensor over ``array``'s memory, or over a normalised NumPy copy where torch cannot alias it.

    Negative strides, non-native byte order, unaligned or odd strides are NumPy-only layouts;
    NumPy's copy fixes each, and torch then does the (multi-threaded) copy and any cast.
    """
    strides_ok = all(stride >= 0 and stride % array.itemsize == 0 for stride in array.strides)
    if not (strides_ok and array.dtype.isnative and array.flags.aligned):
        refuse_more_than_physical_memory(array.shape, array.dtype, array.itemsize)
        array = np.array(array, dtype=array.dtype.newbyteorder("="), order="C")
    if info.numpy is None:
        return _tensor_view(array.view(info.storage)).view(info.torch)
    return _tensor_view(_canonical(array, info))


def _host_tensor(shape: tuple[int, ...], info: DtypeInfo) -> torch.Tensor:
    """Fresh, resizable CPU memory of torch's, on transparent huge pages where it is large."""
    return empty_host_tensor(shape, info.torch)


def _own_tensor(tensor: torch.Tensor, dtype: object, casting: Casting) -> NDArray[Any]:
    reason = _unconvertible_tensor_reason(tensor)
    if reason is not None:
        raise ConversionError(messages.own_unsupported_tensor(tensor, reason), reason=reason)
    if tensor.layout != torch.strided:
        tensor = tensor.to_dense()  # sparse and mkldnn: the dense copy is the NumPy value
    source = info_from_torch(tensor.dtype)
    if source is None:
        raise ConversionError(messages.dtype_not_in_numpy(tensor.dtype, None), reason="dtype")
    target = source if dtype is None else _target_info(dtype)
    if target is None:
        raise ConversionError(messages.no_such_numpy_dtype(dtype, None), reason="dtype")
    numpy_dtype = numpy_dtype_of(target)
    if numpy_dtype is None:
        raise ConversionError(messages.no_such_numpy_dtype(target.name, target), reason="dtype")
    _check_cast(source, target, casting)
    refuse_more_than_physical_memory(tuple(tensor.shape), numpy_dtype, numpy_dtype.itemsize)
    try:
        result = np.empty(tuple(tensor.shape), numpy_dtype)
    except MemoryError:
        nbytes = tensor.numel() * numpy_dtype.itemsize
        raise MemoryError(
            messages.own_out_of_memory(tuple(tensor.shape), numpy_dtype, nbytes)
        ) from None
    destination = _from_numpy(result if target.numpy is not None else result.view(target.storage))
    try:
        with _quiet_complex32(target):
            if target.numpy is None:
                destination = destination.view(target.torch)
            detached = tensor.detach()
            if detached.device.type != "cpu" and (detached.is_neg() or detached.is_conj()):
                # A device-to-host copy_ drops the negative bit (seen with torch 2.11 on CUDA:
                # own(z.conj().imag) came back with the wrong sign): resolve on the device first.
                detached = detached.resolve_neg().resolve_conj()
            # copy_ resolves conjugate and negative bits, moves across devices and casts.
            destination.copy_(detached)
    except (RuntimeError, NotImplementedError, TypeError, AssertionError) as error:
        # Tensor subclasses can refuse the copy in their own words (__torch_dispatch__).
        raise ConversionError(messages.own_torch_refused(tensor, error), reason="torch") from error
    return result


def _unconvertible_tensor_reason(tensor: torch.Tensor) -> str | None:
    if tensor.is_nested:
        return "nested"
    if tensor.device.type == "meta":
        return "meta"
    if tensor.is_quantized:
        return "quantized"
    if tensor.dim() > MAX_NUMPY_DIMS:
        return "dimensions"
    if tensor.layout == torch.strided:
        return _torch_compat.memory_problem(tensor)
    return None
