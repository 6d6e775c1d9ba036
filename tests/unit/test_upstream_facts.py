"""Pin the behaviour of raw NumPy <-> PyTorch routes, as aliasguard's design relies on it.

These tests exercise torch and NumPy, not aliasguard. aliasguard's design rests on each row below,
so a new torch or NumPy release that changes a row must show up here as a failing test rather than
as a silent aliasing bug downstream. Anything that can abort the interpreter, or that depends on
once-per-process state, runs in a fresh subprocess. A fact that holds from some release on says so
with `verified_on` (see ``tests/versions.py``), and the behaviour before it has a test of its own.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import torch
from torch.utils.dlpack import from_dlpack as torch_from_dlpack

from helpers import address, run_python
from versions import verified_on

NEGATIVE_STRIDE_MESSAGE = "At least one stride in the given numpy array is negative"
BYTE_ORDER_MESSAGE = "byte order different from the native byte order"
SUBPROCESS_TIMEOUT_S = 60


def from_numpy(array: npt.NDArray[Any]) -> torch.Tensor:
    """``torch.from_numpy`` with a typed parameter (torch's stub leaves it unannotated)."""
    return torch.from_numpy(array)  # pyright: ignore[reportUnknownMemberType]


def values(tensor: torch.Tensor) -> list[Any]:
    """``tensor.tolist()`` of a tensor with one or more dimensions, typed for strict checkers."""
    result: list[Any] = tensor.tolist()  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    return result


# -------------------------------------------------------------------------------------------------
# The article's five "methods"
# -------------------------------------------------------------------------------------------------


def test_method1_from_numpy_gives_int64_and_shares_memory() -> None:
    # The article prints int32, which was Windows with NumPy 1.x; NumPy 2's default integer is intp.
    array = np.array([1, 2, 3])
    tensor = from_numpy(array)
    assert array.dtype == np.int64
    assert tensor.dtype == torch.int64
    assert tensor.data_ptr() == address(array)
    tensor[0] = 10
    assert array.tolist() == [10, 2, 3]
    array[2] = 30
    assert values(tensor) == [10, 2, 30]


@pytest.mark.parametrize(
    ("numpy_dtype", "torch_dtype"),
    [
        pytest.param(np.float32, torch.float32, id="float32"),
        pytest.param(np.float64, torch.float64, id="float64"),
        pytest.param(np.int64, torch.int64, id="int64"),
        pytest.param(np.int32, torch.int32, id="int32"),
        pytest.param(np.uint8, torch.uint8, id="uint8"),
        pytest.param(np.bool_, torch.bool, id="bool"),
        pytest.param(np.complex64, torch.complex64, id="complex64"),
    ],
)
def test_method2_tensor_copies_and_keeps_dtype(
    numpy_dtype: type[np.generic], torch_dtype: torch.dtype
) -> None:
    array = np.ones(4, dtype=numpy_dtype)
    tensor = torch.tensor(array)
    assert tensor.dtype == torch_dtype
    assert tensor.data_ptr() != address(array)
    tensor.zero_()
    assert array.tolist() == np.ones(4, dtype=numpy_dtype).tolist()


def test_method3_clone_does_not_share() -> None:
    array = np.arange(4.0)
    shared = from_numpy(array)
    clone = shared.clone()
    assert shared.data_ptr() == address(array)
    assert clone.data_ptr() != address(array)
    clone[0] = 100.0
    assert array[0] == 0.0
    array[1] = -1.0
    assert clone[1].item() == 1.0


def test_method4_numpy_then_from_numpy_shares() -> None:
    tensor = torch.arange(4.0)
    array = tensor.numpy()
    back = from_numpy(array)
    assert address(array) == tensor.data_ptr() == back.data_ptr()
    back[0] = 42.0
    assert tensor[0].item() == 42.0
    assert array[0] == 42.0


NUMPY_REJECTS: list[tuple[str, Callable[[], torch.Tensor], type[Exception], str]] = [
    (
        "requires_grad",
        lambda: torch.zeros(2, requires_grad=True),
        RuntimeError,
        "Can't call numpy\\(\\) on Tensor that requires grad",
    ),
    (
        "conj_bit",
        lambda: torch.zeros(2, dtype=torch.complex64).conj(),
        RuntimeError,
        "conjugate bit set",
    ),
    (
        "neg_bit",
        lambda: torch.zeros(2, dtype=torch.complex64).conj().imag,
        RuntimeError,
        "negative bit set",
    ),
    (
        "bfloat16",
        lambda: torch.zeros(2, dtype=torch.bfloat16),
        TypeError,
        "Got unsupported ScalarType BFloat16",
    ),
    # The meta device stands in for "non-CPU" on machines without an accelerator.
    (
        "meta_device",
        lambda: torch.zeros(2, device="meta"),
        TypeError,
        "can't convert meta device type tensor to numpy",
    ),
]


@pytest.mark.parametrize(
    ("make_tensor", "error", "match"),
    [pytest.param(make, error, match, id=name) for name, make, error, match in NUMPY_REJECTS],
)
def test_method4_numpy_rejects(
    make_tensor: Callable[[], torch.Tensor], error: type[Exception], match: str
) -> None:
    tensor = make_tensor()
    with pytest.raises(error, match=match):
        tensor.numpy()


def test_neg_and_conj_bits_are_what_the_rejects_table_claims() -> None:
    # Guards the table above: without these bits set, its conj/neg rows would test nothing.
    conjugated = torch.zeros(2, dtype=torch.complex64).conj()
    negated = conjugated.imag
    assert conjugated.is_conj()
    assert not conjugated.is_neg()
    assert negated.is_neg()


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_method4_numpy_rejects_cuda_tensor() -> None:
    tensor = torch.zeros(2, device="cuda")
    with pytest.raises(TypeError, match="can't convert cuda"):
        tensor.numpy()


def test_method5_tensor_constructor_aliases_float32() -> None:
    # The article claims torch.Tensor(arr) "assures no shared memory": false for float32 input.
    array = np.arange(4, dtype=np.float32)
    tensor = torch.Tensor(array)
    assert tensor.dtype == torch.float32
    assert tensor.data_ptr() == address(array)
    tensor[0] = 9.0
    assert array[0] == 9.0
    array[3] = -3.0
    assert tensor[3].item() == -3.0


@pytest.mark.parametrize(
    "numpy_dtype", [np.float64, np.float16, np.int64, np.int32, np.uint8, np.bool_]
)
def test_method5_tensor_constructor_copies_and_converts_to_float32(
    numpy_dtype: type[np.generic],
) -> None:
    array = np.ones(4, dtype=numpy_dtype)
    tensor = torch.Tensor(array)
    assert tensor.dtype == torch.float32
    assert tensor.data_ptr() != address(array)
    tensor.zero_()
    assert array.tolist() == np.ones(4, dtype=numpy_dtype).tolist()


def test_method5_float64_loses_precision() -> None:
    array = np.array([0.1], dtype=np.float64)
    tensor = torch.Tensor(array)
    assert tensor.dtype == torch.float32
    assert tensor.double().item() != 0.1
    assert tensor.double().item() == float(np.float32(0.1))


def test_method5_int64_loses_low_bits() -> None:
    array = np.array([2**40 + 1], dtype=np.int64)
    tensor = torch.Tensor(array)
    assert tensor.dtype == torch.float32
    assert int(tensor.item()) == 2**40


def test_method5_complex_input_drops_imaginary_part_with_a_warning() -> None:
    # Not quite "silently": complex input is the one conversion torch warns about.
    array = np.array([1 + 2j], dtype=np.complex64)
    with pytest.warns(UserWarning, match="Casting complex values to real discards the imaginary"):
        tensor = torch.Tensor(array)
    assert tensor.dtype == torch.float32
    assert values(tensor) == [1.0]


# -------------------------------------------------------------------------------------------------
# NumPy -> torch
# -------------------------------------------------------------------------------------------------

NEGATIVE_STRIDE_ARRAYS: list[tuple[str, Callable[[], npt.NDArray[Any]]]] = [
    ("reversed", lambda: np.arange(6.0)[::-1]),
    ("flip_2d", lambda: np.flip(np.arange(6.0).reshape(2, 3))),
    ("bgr_to_rgb", lambda: np.zeros((4, 4, 3), dtype=np.uint8)[..., ::-1]),
]


@pytest.mark.parametrize(
    "make_array", [pytest.param(make, id=name) for name, make in NEGATIVE_STRIDE_ARRAYS]
)
def test_from_numpy_rejects_negative_strides(make_array: Callable[[], npt.NDArray[Any]]) -> None:
    array = make_array()
    assert min(array.strides) < 0
    with pytest.raises(ValueError, match=NEGATIVE_STRIDE_MESSAGE):
        from_numpy(array)


def test_ascontiguousarray_keeps_negative_stride_on_length_one_axis() -> None:
    # numpy #23349: a length-1 axis is "contiguous" whatever its stride, so ascontiguousarray
    # returns the input itself, negative stride and all, and from_numpy still rejects it.
    reversed_single = np.arange(1.0)[::-1]
    result = np.ascontiguousarray(reversed_single)
    assert result is reversed_single
    assert result.flags.c_contiguous
    assert result.strides == (-8,)
    with pytest.raises(ValueError, match=NEGATIVE_STRIDE_MESSAGE):
        from_numpy(result)


def test_ascontiguousarray_keeps_negative_stride_on_length_one_axis_2d() -> None:
    column = np.ascontiguousarray(np.arange(3.0).reshape(3, 1)[:, ::-1])
    assert column.flags.c_contiguous
    assert column.strides == (8, -8)
    with pytest.raises(ValueError, match=NEGATIVE_STRIDE_MESSAGE):
        from_numpy(column)


def test_from_numpy_rejects_non_native_byte_order() -> None:
    non_native = ">" if sys.byteorder == "little" else "<"
    array = np.arange(3, dtype=f"{non_native}i4")
    with pytest.raises(ValueError, match=BYTE_ORDER_MESSAGE):
        from_numpy(array)


@pytest.mark.parametrize(
    "numpy_dtype",
    [
        pytest.param(np.object_, id="object"),
        pytest.param(np.dtype("U3"), id="str"),
        pytest.param(np.dtype("S3"), id="bytes"),
        pytest.param(np.dtype("datetime64[s]"), id="datetime64"),
        pytest.param(np.dtype("timedelta64[s]"), id="timedelta64"),
        pytest.param(np.longdouble, id="longdouble"),
    ],
)
def test_from_numpy_rejects_unsupported_dtypes(numpy_dtype: npt.DTypeLike) -> None:
    array = np.zeros(2, dtype=numpy_dtype)
    with pytest.raises(TypeError, match=r"can't convert np\.ndarray of type"):
        from_numpy(array)


@pytest.mark.slow
def test_from_numpy_read_only_warns_once_per_process_and_writes_through() -> None:
    result = run_python(
        """
        import warnings
        import numpy as np
        import torch

        array = np.arange(3.0)
        array.flags.writeable = False
        with warnings.catch_warnings(record=True) as first:
            warnings.simplefilter("always")
            tensor = torch.from_numpy(array)
        with warnings.catch_warnings(record=True) as second:
            warnings.simplefilter("always")
            torch.from_numpy(array)
        tensor[0] = 7.0
        print([w.category.__name__ for w in first])
        print(any("not writable" in str(w.message) for w in first))
        print(len(second))
        print(array.flags.writeable, array.tolist())
        """,
        timeout=SUBPROCESS_TIMEOUT_S,
        core_dumps=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "['UserWarning']",
        "True",
        "0",
        "False [7.0, 1.0, 2.0]",
    ]


def test_as_tensor_shares_when_dtype_matches() -> None:
    array = np.arange(4.0)
    tensor = torch.as_tensor(array)
    assert tensor.dtype == torch.float64
    assert tensor.data_ptr() == address(array)
    tensor[0] = 5.0
    assert array[0] == 5.0


def test_as_tensor_copies_when_dtype_differs() -> None:
    array = np.arange(4.0)
    tensor = torch.as_tensor(array, dtype=torch.float32)
    assert tensor.dtype == torch.float32
    assert tensor.data_ptr() != address(array)
    tensor[0] = 5.0
    assert array[0] == 0.0


def test_as_tensor_of_tensor_is_the_tensor_itself() -> None:
    tensor = torch.arange(4.0)
    assert torch.as_tensor(tensor) is tensor


def test_asarray_shares_by_default() -> None:
    array = np.arange(4.0)
    tensor = torch.asarray(array)
    assert tensor.data_ptr() == address(array)


def test_asarray_copy_true_always_copies() -> None:
    array = np.arange(4.0)
    tensor = torch.asarray(array, copy=True)
    assert tensor.dtype == torch.float64
    assert tensor.data_ptr() != address(array)
    tensor[0] = 5.0
    assert array[0] == 0.0


NEGATIVE_STRIDE_COPYING_ROUTES: list[tuple[str, Callable[[npt.NDArray[Any]], torch.Tensor]]] = [
    ("as_tensor_other_dtype", lambda a: torch.as_tensor(a, dtype=torch.float32)),
    ("asarray_other_dtype", lambda a: torch.asarray(a, dtype=torch.float32)),
    ("asarray_copy_true", lambda a: torch.asarray(a, copy=True)),
]


@pytest.mark.parametrize(
    "convert", [pytest.param(route, id=name) for name, route in NEGATIVE_STRIDE_COPYING_ROUTES]
)
def test_copying_routes_still_reject_negative_strides(
    convert: Callable[[npt.NDArray[Any]], torch.Tensor],
) -> None:
    with pytest.raises(ValueError, match=NEGATIVE_STRIDE_MESSAGE):
        convert(np.arange(4.0)[::-1])


def test_as_tensor_rejects_non_native_byte_order_even_when_converting() -> None:
    non_native = ">" if sys.byteorder == "little" else "<"
    array = np.arange(3, dtype=f"{non_native}i4")
    with pytest.raises(ValueError, match=BYTE_ORDER_MESSAGE):
        torch.as_tensor(array, dtype=torch.float32)


def test_from_dlpack_shares() -> None:
    array = np.arange(4.0)
    tensor = torch_from_dlpack(array)
    assert tensor.data_ptr() == address(array)
    tensor[0] = 5.0
    assert array[0] == 5.0


# torch speaks DLPack 1.0 (versioned capsules, the copy= and dl_device= keywords) from 2.8 on
# (pytorch/pytorch#145000, #150218), NumPy from 2.1; before both, they exchange DLPack 0.x
# capsules, which have no read-only flag.
DLPACK_1 = "2.8"
NUMPY_DLPACK_1 = "2.1"


@verified_on(torch=DLPACK_1, before=True)
def test_from_dlpack_takes_no_copy_keyword_before_dlpack_1() -> None:
    with pytest.raises(TypeError, match="copy"):
        torch_from_dlpack(np.arange(4.0), copy=True)


@verified_on(torch=DLPACK_1)
def test_from_dlpack_copy_true_copies() -> None:
    array = np.arange(4.0)
    tensor = torch_from_dlpack(array, copy=True)
    assert tensor.data_ptr() != address(array)
    tensor[0] = 5.0
    assert array[0] == 0.0


@verified_on(torch=DLPACK_1, numpy=NUMPY_DLPACK_1, before=True)
def test_from_dlpack_refuses_read_only_arrays_before_dlpack_1() -> None:
    array = np.arange(3.0)
    array.flags.writeable = False
    with pytest.raises(BufferError, match="readonly"):
        torch_from_dlpack(array)


@verified_on(torch=DLPACK_1, numpy=NUMPY_DLPACK_1)
def test_from_dlpack_imports_read_only_array_as_writable_silently() -> None:
    # No warning either (filterwarnings = error would turn one into a failure here).
    array = np.arange(3.0)
    array.flags.writeable = False
    tensor = torch_from_dlpack(array)
    assert tensor.data_ptr() == address(array)
    tensor[0] = 7.0
    assert not array.flags.writeable
    assert array.tolist() == [7.0, 1.0, 2.0]


# torch 2.15 raises instead (measured on 2.15.0 by `aliasguard report`).
DLPACK_NEGATIVE_STRIDES_RAISE = "2.15"


@verified_on(torch=DLPACK_NEGATIVE_STRIDES_RAISE)
def test_from_dlpack_negative_strides_raise() -> None:
    with pytest.raises(RuntimeError, match="Storage size calculation overflowed"):
        torch_from_dlpack(np.arange(4.0)[::-1])


@pytest.mark.slow
@verified_on(torch=DLPACK_NEGATIVE_STRIDES_RAISE, before=True)
def test_from_dlpack_negative_strides_abort_the_process() -> None:
    # pytorch #188023: the stride check throws a c10::Error that escapes as std::terminate, so the
    # whole interpreter dies with SIGABRT instead of raising. Measured: returncode -6 on Linux.
    result = run_python(
        """
        import numpy as np
        import torch

        torch.from_dlpack(np.arange(4.0)[::-1])
        print("survived")
        """,
        timeout=SUBPROCESS_TIMEOUT_S,
        core_dumps=False,
    )
    assert "survived" not in result.stdout
    assert result.returncode != 0
    if os.name == "posix":
        assert result.returncode == -signal.SIGABRT
    assert "Storage size calculation overflowed" in result.stderr


# -------------------------------------------------------------------------------------------------
# torch -> NumPy
# -------------------------------------------------------------------------------------------------


def test_numpy_shares() -> None:
    tensor = torch.arange(4.0)
    array = tensor.numpy()
    assert address(array) == tensor.data_ptr()
    array[0] = 5.0
    assert tensor[0].item() == 5.0
    tensor[1] = 6.0
    assert array[1] == 6.0


def test_numpy_makes_storage_non_resizable() -> None:
    control = torch.zeros(3)
    control.resize_(1000)
    assert control.numel() == 1000

    tensor = torch.zeros(3)
    tensor.numpy()
    with pytest.raises(RuntimeError, match="Trying to resize storage that is not resizable"):
        tensor.resize_(1000)


@pytest.mark.parametrize("requires_grad", [False, True])
def test_numpy_force_still_shares_for_plain_cpu_tensors(requires_grad: bool) -> None:
    tensor = torch.zeros(3, requires_grad=requires_grad)
    array = tensor.numpy(force=True)
    assert address(array) == tensor.data_ptr()


def test_numpy_force_copies_and_resolves_conj_bit() -> None:
    base = torch.tensor([1 + 2j])
    conjugated = base.conj()
    array = conjugated.numpy(force=True)
    assert address(array) != conjugated.data_ptr()
    assert array.tolist() == [1 - 2j]


def test_numpy_force_copies_and_resolves_neg_bit() -> None:
    negated = torch.tensor([1 + 2j]).conj().imag
    array = negated.numpy(force=True)
    assert address(array) != negated.data_ptr()
    assert array.tolist() == [-2.0]


def test_numpy_force_still_rejects_bfloat16() -> None:
    tensor = torch.zeros(2, dtype=torch.bfloat16)
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16"):
        tensor.numpy(force=True)


def test_np_asarray_shares() -> None:
    tensor = torch.arange(4.0)
    array = np.asarray(tensor)
    assert address(array) == tensor.data_ptr()
    array[0] = 5.0
    assert tensor[0].item() == 5.0


def test_np_asarray_copies_when_dtype_differs() -> None:
    tensor = torch.arange(4.0)
    array = np.asarray(tensor, dtype=np.float64)
    assert array.dtype == np.float64
    assert address(array) != tensor.data_ptr()


def test_np_asarray_copy_false_raises() -> None:
    # pytorch #136264: Tensor.__array__ has no `copy` parameter, so NumPy 2 warns about the
    # signature, retries without `copy`, and then refuses because it cannot prove no copy was made.
    tensor = torch.arange(4.0)
    with (
        pytest.warns(DeprecationWarning, match="__array__ implementation doesn't accept a copy"),
        pytest.raises(ValueError, match="Unable to avoid copy while creating an array"),
    ):
        np.asarray(tensor, copy=False)


@verified_on(torch=DLPACK_1, numpy=NUMPY_DLPACK_1, before=True)
def test_np_from_dlpack_shares_read_only_before_dlpack_1() -> None:
    tensor = torch.arange(4.0)
    array = np.from_dlpack(tensor)
    assert address(array) == tensor.data_ptr()
    assert not array.flags.writeable


@verified_on(torch=DLPACK_1, numpy=NUMPY_DLPACK_1)
def test_np_from_dlpack_shares_and_is_writable() -> None:
    tensor = torch.arange(4.0)
    array = np.from_dlpack(tensor)
    assert address(array) == tensor.data_ptr()
    assert array.flags.writeable
    array[0] = 5.0
    assert tensor[0].item() == 5.0


@verified_on(torch=DLPACK_1, numpy=NUMPY_DLPACK_1, before=True)
def test_np_from_dlpack_cannot_copy_before_dlpack_1() -> None:
    # NumPy 2.0 takes no keywords; 2.1 passes dl_device=, which torch's __dlpack__ then refuses.
    with pytest.raises(TypeError, match="keyword"):
        np.from_dlpack(torch.arange(4.0), copy=True)


@verified_on(torch=DLPACK_1, numpy=NUMPY_DLPACK_1)
def test_np_from_dlpack_copy_true_copies() -> None:
    tensor = torch.arange(4.0)
    array = np.from_dlpack(tensor, copy=True)
    assert address(array) != tensor.data_ptr()


def test_np_from_dlpack_ignores_neg_bit() -> None:
    # The right values are -2, -4; DLPack has no neg bit, so NumPy reads the raw storage.
    negated = torch.tensor([1 + 2j, 3 + 4j]).conj().imag
    assert negated.is_neg()
    assert values(negated) == [-2.0, -4.0]
    array = np.from_dlpack(negated)
    assert array.tolist() == [2.0, 4.0]


@verified_on(torch=DLPACK_1)
def test_np_from_dlpack_rejects_conj_bit() -> None:
    conjugated = torch.tensor([1 + 2j]).conj()
    with pytest.raises(BufferError, match="conjugate bit set"):
        np.from_dlpack(conjugated)


@verified_on(torch=DLPACK_1, before=True)
def test_np_from_dlpack_rejects_conj_bit_with_a_runtime_error_before_dlpack_1() -> None:
    conjugated = torch.tensor([1 + 2j]).conj()
    with pytest.raises(RuntimeError, match="conjugate bit set"):
        np.from_dlpack(conjugated)


# -------------------------------------------------------------------------------------------------
# Calls that return the same object, so "the copy" is the original
# -------------------------------------------------------------------------------------------------

TORCH_SAME_OBJECT_CALLS: list[tuple[str, Callable[[torch.Tensor], torch.Tensor]]] = [
    ("cpu", lambda t: t.cpu()),
    ("to_cpu", lambda t: t.to("cpu")),
    ("float_on_float32", lambda t: t.float()),
    ("contiguous_on_contiguous", lambda t: t.contiguous()),
    ("as_tensor", torch.as_tensor),
]


@pytest.mark.parametrize(
    "call", [pytest.param(call, id=name) for name, call in TORCH_SAME_OBJECT_CALLS]
)
def test_torch_call_returns_same_object(call: Callable[[torch.Tensor], torch.Tensor]) -> None:
    tensor = torch.arange(6, dtype=torch.float32)
    assert call(tensor) is tensor


def test_reshape_returns_a_new_view_sharing_memory() -> None:
    # reshape is often listed among the calls that return the same object: it returns a *new*
    # tensor object, but a view of the same memory.
    tensor = torch.arange(6.0)
    for shape in [(2, 3), (6,)]:
        reshaped = tensor.reshape(shape)
        assert reshaped is not tensor
        assert reshaped._base is tensor
        assert reshaped.data_ptr() == tensor.data_ptr()
    reshaped = tensor.reshape(2, 3)
    reshaped[1, 2] = 100.0
    assert tensor[5].item() == 100.0


NUMPY_SAME_OBJECT_CALLS: list[tuple[str, Callable[[npt.NDArray[Any]], npt.NDArray[Any]]]] = [
    ("asarray", np.asarray),
    ("ascontiguousarray_on_contiguous", np.ascontiguousarray),
    ("astype_same_copy_false", lambda a: a.astype(a.dtype, copy=False)),
]


@pytest.mark.parametrize(
    "call", [pytest.param(call, id=name) for name, call in NUMPY_SAME_OBJECT_CALLS]
)
def test_numpy_call_returns_same_object(
    call: Callable[[npt.NDArray[Any]], npt.NDArray[Any]],
) -> None:
    array = np.arange(6.0)
    assert call(array) is array


# -------------------------------------------------------------------------------------------------
# Detecting writes
# -------------------------------------------------------------------------------------------------


def version(tensor: torch.Tensor) -> int:
    """Read torch's private in-place write counter."""
    return int(tensor._version)


def test_version_counts_in_place_ops() -> None:
    tensor = torch.zeros(4)
    assert version(tensor) == 0
    tensor.add_(1)
    assert version(tensor) == 1
    tensor[0] = 5.0
    assert version(tensor) == 2
    tensor.mul_(2)
    assert version(tensor) == 3


def test_version_counts_writes_through_views() -> None:
    tensor = torch.zeros(4)
    view = tensor[1:3]
    view.add_(1)
    assert version(tensor) == 1
    assert version(view) == 1
    tensor.reshape(2, 2).mul_(3)
    assert version(tensor) == 2
    assert values(tensor) == [0.0, 3.0, 3.0, 0.0]


def _write_through_data(tensor: torch.Tensor, array: npt.NDArray[np.float64]) -> None:
    tensor.data.add_(1)


def _write_through_numpy_view(tensor: torch.Tensor, array: npt.NDArray[np.float64]) -> None:
    array[:] += 1


def _write_through_second_from_numpy(tensor: torch.Tensor, array: npt.NDArray[np.float64]) -> None:
    from_numpy(array).add_(1)


@pytest.mark.parametrize(
    "write",
    [_write_through_data, _write_through_numpy_view, _write_through_second_from_numpy],
    ids=["data", "numpy_view", "second_from_numpy"],
)
def test_version_misses_writes(
    write: Callable[[torch.Tensor, npt.NDArray[np.float64]], None],
) -> None:
    array = np.zeros(4)
    tensor = from_numpy(array)
    before = version(tensor)
    write(tensor, array)
    assert values(tensor) == [1.0, 1.0, 1.0, 1.0]
    assert version(tensor) == before


def test_readonly_memoryview_asarray_is_zero_copy_and_cannot_be_made_writable() -> None:
    source = np.arange(4.0)
    # `source.data` is `memoryview(source)`; NumPy's stubs only declare `__buffer__` on 3.12+.
    view = np.asarray(source.data.toreadonly())
    assert address(view) == address(source)
    assert not view.flags.writeable
    with pytest.raises(ValueError, match="cannot set WRITEABLE flag to True"):
        view.flags.writeable = True
    source[0] = 9.0
    assert view[0] == 9.0


def test_writeable_false_does_not_stop_an_existing_tensor() -> None:
    array = np.arange(4.0)
    tensor = from_numpy(array)
    array.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        array[0] = 1.0
    tensor[0] = 8.0
    assert array[0] == 8.0


def test_two_from_numpy_wrappers_share_memory_not_storage() -> None:
    array = np.arange(4.0)
    first = from_numpy(array)
    second = from_numpy(array)
    first_storage = first.untyped_storage()
    second_storage = second.untyped_storage()
    assert first_storage.data_ptr() == second_storage.data_ptr() == address(array)
    assert first_storage is not second_storage
    # The same tensor hands back one storage object, so `is` would be a usable key if this held.
    assert first.untyped_storage() is first_storage
    # Distinct storages, distinct version counters: a write through one is invisible to the other.
    second.add_(1)
    assert version(second) == 1
    assert version(first) == 0
    assert values(first) == [1.0, 2.0, 3.0, 4.0]
