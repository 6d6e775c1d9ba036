"""Error messages of the converters, kept apart so the converters read as logic.

Each first line says what happened, why, and the fix; later lines show the buggy and the fixed code.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import torch

from ._dtypes import CASTING_RULES, DtypeInfo, ml_dtypes_module

_INSTALL_ML_DTYPES: Final = "pip install 'aliasguard[ml-dtypes]'"


def not_an_array(function: str, value: object) -> str:
    return (
        f"{function}() takes an np.ndarray or a torch.Tensor (or a Shared/Owned wrapping one), got "
        f"{type(value).__name__}: only those have memory to {'alias' if function == 'share' else 'copy'}. "
        "Convert it with np.asarray(x) first."
    )


def masked_array(function: str) -> str:
    return (
        f"{function}() cannot convert a masked array: torch has no mask, so the mask would be "
        "silently dropped. Convert a.filled(fill_value) and np.ma.getmaskarray(a) separately."
    )


def share_dtype_not_in_torch(dtype: np.dtype[Any]) -> str:
    if dtype.kind in "fc":
        fix = "copy it at float64 precision with own(a, dtype=np.float64, casting='same_kind')"
    elif dtype.names is not None:
        fix = "share each field as its own array, e.g. share(np.ascontiguousarray(a['x']))"
    elif dtype.kind in "mM":
        fix = "alias the raw int64 ticks with share(a.view(np.int64))"
    else:
        fix = "convert it to a numeric dtype first, e.g. a.astype(np.float32)"
    return (
        f"share() cannot alias an array of dtype {dtype}: torch has no dtype for it, so no tensor "
        f"can view this memory. To fix, {fix}."
    )


def share_byte_order(dtype: np.dtype[Any]) -> str:
    return (
        f"share() cannot alias an array of non-native byte order (dtype {dtype.str}): torch reads "
        "only native byte order. Use own(a) to copy it into native order."
    )


def share_unaligned(array: np.ndarray[Any, Any]) -> str:
    return (
        f"share() cannot alias an unaligned array (data address "
        f"{array.__array_interface__['data'][0]:#x}, itemsize {array.itemsize}): torch kernels "
        "assume aligned elements. Use own(a) to copy it into aligned memory."
    )


def share_odd_strides(array: np.ndarray[Any, Any]) -> str:
    return (
        f"share() cannot alias an array whose strides {array.strides} are not multiples of its "
        f"itemsize {array.itemsize} (a field of a structured array?): torch counts strides in "
        "elements. Use own(a) to copy it."
    )


def share_negative_strides(array: np.ndarray[Any, Any]) -> str:
    return (
        f"share() cannot alias an array with negative strides (strides={array.strides}): torch has "
        "no negative strides. Use own(a) to copy it, or share the unflipped array and flip the "
        "tensor with torch.flip (which copies too).\n"
        "  Typical source: img[..., ::-1] (BGR -> RGB) or np.flip(a)."
    )


_TENSOR_REASONS: Final = {
    "nested": ("a nested tensor", "its rows have different shapes", "share each of t.unbind()"),
    "meta": ("a meta tensor", "it has a shape but no data", "materialise it first"),
    "device": (
        "a tensor on {device}",
        "NumPy only addresses host memory",
        "use own(t) to copy it to the host",
    ),
    "layout": (
        "a {layout} tensor",
        "NumPy has only strided arrays",
        "use own(t) for a dense copy",
    ),
    "dimensions": (
        "a {ndim}-dimensional tensor",
        "NumPy arrays have at most 64 dimensions",
        "reshape it to 64 or fewer first (t.squeeze() drops length-one axes, t.flatten(0, k) merges "
        "leading ones), then convert",
    ),
    "quantized": (
        "a quantized tensor",
        "NumPy has no quantized dtypes",
        "share(t.int_repr()) for the raw integers (a copy) or own(t.dequantize())",
    ),
    "requires-grad": (
        "a tensor that requires grad",
        "NumPy writes would bypass autograd",
        "share(t.detach()) to borrow the data, or own(t) for a copy",
    ),
    "no-storage": (
        "a {type} with no memory at its data pointer",
        "it is a FakeTensor, a functional or vmap tensor, or a wrapper subclass whose data lives in "
        "other tensors, so NumPy would read garbage",
        "convert the real tensor outside the tracing or transform, or the tensor the wrapper holds",
    ),
    "short-storage": (
        "a tensor whose storage is smaller than its shape",
        "the storage was resized (as FSDP does to free parameters), so reading it would read freed "
        "memory",
        "convert it while its storage is allocated, e.g. inside FSDP's summon_full_params()",
    ),
    "conjugate": (
        "a tensor with its conjugate bit set",
        "the conjugation is lazy and NumPy would read unconjugated values",
        "use own(t), or share(t.resolve_conj()) (which copies)",
    ),
    "negative": (
        "a tensor with its negative bit set",
        "the negation is lazy and NumPy would read the wrong sign",
        "use own(t), or share(t.resolve_neg()) (which copies)",
    ),
}


def _reason_parts(tensor: torch.Tensor, reason: str) -> tuple[str, str, str]:
    what, why, fix = _TENSOR_REASONS[reason]
    what = what.format(
        device=tensor.device, layout=tensor.layout, type=type(tensor).__name__, ndim=tensor.dim()
    )
    return what, why, fix


def share_unsupported_tensor(tensor: torch.Tensor, reason: str) -> str:
    what, why, fix = _reason_parts(tensor, reason)
    return f"share() cannot alias {what} into NumPy: {why}. To fix, {fix}."


def own_unsupported_tensor(tensor: torch.Tensor, reason: str) -> str:
    what, why, fix = _reason_parts(tensor, reason)
    if reason == "quantized":
        fix = "pass t.dequantize() for real values or t.int_repr() for the stored integers"
    return f"own() cannot convert {what} to NumPy: {why}. To fix, {fix}."


def dtype_not_in_numpy(dtype: torch.dtype, info: DtypeInfo | None) -> str:
    if info is None:
        return (
            f"cannot convert a {dtype} tensor: NumPy has no counterpart for {dtype}, and aliasguard "
            "converts only dtypes both libraries can hold. Cast it first, e.g. t.to(torch.float32)."
        )
    if info.kind == "c":
        fix = "use own(t, dtype=np.complex64) for an exact copy"
    else:
        fix = (
            f"install ml_dtypes ({_INSTALL_ML_DTYPES}) to share it zero-copy, or use "
            "own(t, dtype=np.float32) for an exact float32 copy"
        )
    return (
        f"cannot give NumPy a {dtype} view: NumPy has no {info.name} dtype built in. To fix, {fix}."
    )


def share_torch_refused(tensor: torch.Tensor, error: BaseException) -> str:
    return (
        f"share() cannot alias this {type(tensor).__name__} into NumPy: torch refused to export "
        f"it ({error}). Use own(t) to copy its values."
    )


def share_subclass_copied(tensor: torch.Tensor) -> str:
    return (
        f"share() cannot alias this {type(tensor).__name__} into NumPy: its numpy() returned a copy, "
        "not a view of the tensor's memory. Use own(t) for a copy, or share the plain tensor "
        "(t.as_subclass(torch.Tensor))."
    )


def own_torch_refused(tensor: torch.Tensor, error: BaseException) -> str:
    return (
        f"own() cannot copy this {type(tensor).__name__} into NumPy: torch refused the copy "
        f"({error}). Convert it to a plain tensor first."
    )


def _size_text(nbytes: int) -> str:
    for unit, scale in (("EiB", 2**60), ("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes / 2**20:.1f} MiB"


def own_out_of_memory(
    shape: tuple[int, ...], dtype: object, nbytes: int, physical: int | None = None
) -> str:
    why = (
        "the system refused the memory"
        if physical is None
        else f"that is more than this machine's {_size_text(physical)} of memory"
    )
    return (
        f"own() cannot allocate {_size_text(nbytes)} for a copy of shape {shape} and dtype "
        f"{dtype}: {why}, and own() copies every element, also those a zero-stride view "
        "(np.broadcast_to, expand) only repeats. Copy a smaller part, or share() the view instead."
    )


def own_device_for_tensor(device: object) -> str:
    return (
        f"own() of a tensor makes a NumPy array, which lives on the host, so device={device!r} "
        "cannot apply. Drop device=, or use own(array, device=...) for arrays going to torch."
    )


def own_dtype_not_in_torch(dtype: np.dtype[Any]) -> str:
    return (
        f"own() cannot convert an array of dtype {dtype}: torch has no dtype that holds it. "
        "Pass dtype= with a numeric dtype to cast (e.g. dtype=np.float64, casting='same_kind'), "
        "or convert it yourself first."
    )


def no_such_torch_dtype(dtype: object) -> str:
    return (
        f"own() cannot make a tensor of dtype {dtype!r}: torch has no such dtype. "
        "Pass one of torch's numeric dtypes, e.g. dtype=torch.float32."
    )


def no_such_numpy_dtype(dtype: object, info: DtypeInfo | None) -> str:
    if info is not None and info.kind == "c":
        fix = "Pass dtype=np.complex64 for an exact copy"
    elif info is not None and ml_dtypes_module() is None:
        fix = f"Install ml_dtypes ({_INSTALL_ML_DTYPES}) for it, or pass dtype=np.float32"
    else:
        fix = "Pass a NumPy numeric dtype, e.g. dtype=np.float32"
    return (
        f"own() cannot make a NumPy array of dtype {dtype!r}: NumPy has no such dtype here. {fix}."
    )


def numpy_only_cast(dtype: np.dtype[Any], target: str) -> str:
    step = "np.complex128" if dtype.kind == "c" else "np.float64"
    return (
        f"own() cannot cast an array of dtype {dtype} to {target}: only NumPy reads {dtype}, and "
        f"NumPy has no {target}. Cast in two steps: own(a.astype({step}), dtype={target!r}, "
        "casting='same_kind')."
    )


def not_a_dtype(dtype: object) -> str:
    return (
        f"dtype={dtype!r} is not a dtype: own() takes a NumPy dtype, a torch dtype or a dtype "
        "name. Pass e.g. np.float32, torch.float32 or 'bfloat16'."
    )


def not_a_device(device: object) -> str:
    return (
        f"device={device!r} is not a device own() can fill: own() places tensors with "
        "torch.device(...) on a device that holds data. Pass e.g. 'cpu', 'cuda', 'cuda:1'."
    )


def device_unavailable(device: object, error: BaseException) -> str:
    first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
    return (
        f"own() cannot place a tensor on {device}: this torch build or machine has no such "
        f"device ({first_line}). Pass device=None (or 'cpu'), or install a torch build for it."
    )


def not_a_casting_rule(casting: object) -> str:
    return (
        f"casting={casting!r} is not a casting rule: NumPy's rules are {', '.join(CASTING_RULES)}. "
        "Pass one of those."
    )


_CAST_WHY: Final = {
    "no": "the rule forbids any change of dtype or byte order",
    "equiv": "the rule allows only byte-order changes",
    "safe": "NumPy's safe rule does not admit it (not every {source} value fits {target})",
    "same_kind": "{target} is a less general kind than {source}",
}


def cast_refused(source: str, target: str, casting: str, allowing: str) -> str:
    why = _CAST_WHY[casting].format(source=source, target=target)
    return (
        f"own() refused to cast {source} to {target} under casting={casting!r}: {why}. "
        f"Pass casting={allowing!r} to allow it."
    )
