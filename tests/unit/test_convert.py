"""share() and own(): what shares, what copies, and a table of every input that must be refused."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import tempfile
import textwrap
import tracemalloc
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorMode

import aliasguard
from aliasguard import CastError, ConversionError, ShareError, own, share, shares_memory
from helpers import address


def quantized() -> torch.Tensor:
    with warnings.catch_warnings():  # torch 2.13 deprecates quantized dtypes; they still exist
        warnings.simplefilter("ignore", UserWarning)
        return torch.quantize_per_tensor(torch.ones(2), 0.1, 0, torch.quint8)


def shrunk_storage() -> torch.Tensor:
    """A tensor whose storage was freed under it, as FSDP frees unsharded parameters."""
    tensor = torch.ones(4)
    tensor.untyped_storage().resize_(0)
    return tensor


def fake_tensor() -> torch.Tensor:
    with FakeTensorMode():
        return torch.ones(2)


class CopyingNumpy(torch.Tensor):
    """A subclass whose numpy() hands back a copy: share() must notice, not return it."""

    def numpy(self, *, force: bool = False) -> npt.NDArray[Any]:
        return super().numpy(force=force).copy()


def copying_subclass() -> torch.Tensor:
    return torch.arange(3.0).as_subclass(CopyingNumpy)


# ----------------------------------------------------------------------------------------------
# share(): zero-copy, always


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.arange(12, dtype=np.float32).reshape(3, 4),
        lambda: np.arange(12, dtype=np.float64).reshape(3, 4)[:, ::2],
        lambda: np.asfortranarray(np.arange(12, dtype=np.int64).reshape(3, 4)),
        lambda: np.array(3.5),
        lambda: np.zeros((0, 3), dtype=np.uint16),
        lambda: np.broadcast_to(np.arange(3.0), (4, 3)),
        lambda: np.arange(10, dtype=np.complex128)[2:7],
        lambda: np.array([True, False]),
    ],
    ids=["contiguous", "strided", "fortran", "0-d", "empty", "broadcast", "offset", "bool"],
)
def test_share_array_aliases_the_same_memory(make: Callable[[], npt.NDArray[Any]]) -> None:
    array = make()
    tensor = share(array).value
    assert isinstance(tensor, torch.Tensor)
    assert tuple(tensor.shape) == array.shape
    if array.size:
        assert tensor.data_ptr() == address(array)
        assert tuple(s * tensor.element_size() for s in tensor.stride()) == array.strides
        assert shares_memory(tensor, array)
    np.testing.assert_array_equal(tensor.numpy(), array)


@pytest.mark.aliasguard_unsanitized  # writes into the borrowed source on purpose
def test_share_negative_stride_on_a_length_one_axis_is_zero_copy() -> None:
    # numpy #23349: such strides survive np.ascontiguousarray, and torch.from_numpy refuses them.
    array = np.ascontiguousarray(np.arange(1.0)[::-1])
    assert array.strides == (-8,)
    tensor = share(array).value
    assert tensor.data_ptr() == address(array)
    array[0] = 5.0
    assert float(tensor[0]) == 5.0


def test_share_read_only_array_is_allowed_and_leaks_no_warning() -> None:
    # filterwarnings=error turns torch's once-per-process UserWarning into a failure here.
    array = np.arange(4.0)
    array.flags.writeable = False
    borrowed = share(array)
    assert borrowed.value.data_ptr() == address(array)
    assert borrowed.source is array


@pytest.mark.aliasguard_unsanitized  # writes into the borrowed source on purpose
def test_share_tensor_gives_a_read_only_view_that_cannot_be_made_writable() -> None:
    tensor = torch.arange(6.0).reshape(2, 3)
    array = share(tensor).value
    assert address(array) == tensor.data_ptr()
    assert not array.flags.writeable
    with pytest.raises(ValueError, match="WRITEABLE"):
        array.flags.writeable = True
    with pytest.raises(ValueError, match="WRITEABLE"):
        array[:, :1].flags.writeable = True
    tensor[0, 0] = 42.0
    assert array[0, 0] == 42.0


def test_share_tensor_pins_its_storage_against_resize() -> None:
    tensor = torch.arange(4.0)
    array = share(tensor).value
    # torch refuses it (the storage is not resizable); under the sanitizer, aliasguard first.
    with pytest.raises(RuntimeError, match=r"not resizable|other memory"):
        tensor.resize_(1000)
    assert array.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_share_bfloat16_tensor_zero_copy_through_ml_dtypes() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    tensor = torch.tensor([1.5, -2.0], dtype=torch.bfloat16)
    array = share(tensor).value
    assert array.dtype == np.dtype(ml_dtypes.bfloat16)
    assert address(array) == tensor.data_ptr()
    back = share(np.array([0.25, 8.0], dtype=ml_dtypes.bfloat16)).value
    assert back.dtype == torch.bfloat16
    assert own(back, dtype=np.float64).value.tolist() == [0.25, 8.0]


def test_share_complex32_zero_copy_through_ml_dtypes() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    if not hasattr(ml_dtypes, "complex32"):
        pytest.skip("this ml_dtypes has no complex32")
    tensor = torch.tensor([1 + 2j, -3.5 + 0.25j], dtype=torch.complex32)
    array = share(tensor).value
    assert address(array) == tensor.data_ptr()
    assert array.astype(np.complex64).tolist() == [1 + 2j, -3.5 + 0.25j]


def test_share_accepts_wrappers_and_follows_the_payload() -> None:
    array = np.arange(3.0)
    through_tensor = share(share(array))
    assert isinstance(through_tensor.value, np.ndarray)
    assert address(through_tensor.value) == address(array)


# ----------------------------------------------------------------------------------------------
# share(): every refusal, in a table


def _readonly_memmap_path() -> Path:
    path = Path(tempfile.mkdtemp()) / "data.bin"
    np.arange(8.0).tofile(path)
    return path


UNSHAREABLE: list[tuple[str, Callable[[], object], str]] = [
    ("negative strides", lambda: np.arange(6.0)[::-1], "negative-strides"),
    ("flipped image", lambda: np.zeros((2, 3, 3), np.uint8)[..., ::-1], "negative-strides"),
    ("big-endian", lambda: np.arange(3, dtype=">f8"), "byte-order"),
    ("object", lambda: np.array([1, "a"], dtype=object), "dtype"),
    ("str", lambda: np.array(["a", "b"]), "dtype"),
    ("datetime", lambda: np.array(["2020-01-01"], dtype="datetime64[D]"), "dtype"),
    ("longdouble", lambda: np.zeros(2, np.longdouble), "dtype"),
    ("structured", lambda: np.zeros(2, dtype=[("a", "i4"), ("b", "f8")]), "dtype"),
    # complex128 needs 8-byte alignment, so a 24-byte stride is aligned yet not a multiple of 16.
    ("odd strides", lambda: np.zeros(3, dtype=[("z", "c16"), ("x", "f8")])["z"], "strides"),
    ("unaligned", lambda: np.frombuffer(bytes(17), np.float64, count=2, offset=1), "unaligned"),
    ("masked", lambda: np.ma.masked_array([1.0, 2.0], mask=[True, False]), "masked"),
    ("requires_grad", lambda: torch.ones(2, requires_grad=True), "requires-grad"),
    ("conj bit", lambda: torch.tensor([1 + 2j]).conj(), "conjugate"),
    ("neg bit", lambda: torch.tensor([1 + 2j]).conj().imag, "negative"),
    ("sparse", lambda: torch.eye(2).to_sparse(), "layout"),
    ("quantized", quantized, "quantized"),
    ("meta", lambda: torch.empty(2, device="meta"), "meta"),
    (
        "nested",
        lambda: torch.nested.nested_tensor(  # pyright: ignore[reportUnknownMemberType]
            [torch.ones(2), torch.ones(3)], layout=torch.jagged
        ),
        "nested",
    ),
    ("uint1", lambda: torch.zeros(2, dtype=torch.uint8).view(torch.bits8), "dtype"),
    ("shrunk storage", shrunk_storage, "short-storage"),
    ("70 dimensions", lambda: torch.zeros((1,) * 70), "dimensions"),
    ("fake tensor", fake_tensor, "no-storage"),
    ("subclass numpy() copies", copying_subclass, "torch"),
    ("list", lambda: [1.0, 2.0], "type"),
    ("scalar", lambda: np.float64(1.0), "type"),
]


@pytest.mark.parametrize(
    ("make", "reason"), [(m, r) for _, m, r in UNSHAREABLE], ids=[n for n, _, _ in UNSHAREABLE]
)
def test_share_refuses_with_a_reasoned_error(make: Callable[[], object], reason: str) -> None:
    value = make()
    with pytest.raises(ShareError) as caught:
        share(value)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    assert caught.value.reason == reason
    first_line = str(caught.value).splitlines()[0]
    # What happened, why, and the fix, on the first line.
    assert first_line.startswith(("share() cannot", "share() takes", "cannot convert"))
    assert ":" in first_line
    assert any(word in first_line for word in ("Use", "use", "To fix", "Convert", "Cast"))


def test_share_refuses_bfloat16_without_ml_dtypes_with_the_install_hint() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["ml_dtypes"] = None  # as if it were not installed
        import torch, aliasguard
        try:
            aliasguard.share(torch.ones(2, dtype=torch.bfloat16))
        except aliasguard.ShareError as error:
            print(error.reason, str(error).splitlines()[0])
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert out.startswith("dtype ")
    assert "aliasguard[ml-dtypes]" in out
    assert "own(t, dtype=np.float32)" in out


@pytest.mark.slow
def test_unshareable_inputs_never_crash_the_process() -> None:
    # The same table, run in a child: a crash there (an abort, a segfault) fails this test
    # instead of killing the test run. The memmap cases are the crash-prone ones (pytorch #46741).
    code = textwrap.dedent(
        f"""
        import json, sys
        # test_convert, and the helpers it imports, as pytest finds them.
        sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).parent.parent)!r}]
        import numpy as np
        from test_convert import UNSHAREABLE
        import aliasguard
        results = {{}}
        for name, make, _ in UNSHAREABLE:
            try:
                aliasguard.share(make())
                results[name] = "shared"
            except aliasguard.ShareError as error:
                results[name] = error.reason
        memmap = np.memmap({str(_readonly_memmap_path())!r}, dtype=np.float64, mode="r")
        results["read-only memmap"] = type(aliasguard.share(memmap).value).__name__
        results["flipped memmap"] = type(aliasguard.own(memmap[::-1]).value).__name__
        from test_convert import shrunk_storage
        try:
            aliasguard.own(shrunk_storage())  # a plain clone() of it segfaults
        except aliasguard.ConversionError as error:
            results["own shrunk storage"] = error.reason
        print(json.dumps(results))
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    assert results == {
        **{name: reason for name, _, reason in UNSHAREABLE},
        "read-only memmap": "Tensor",
        "flipped memmap": "Tensor",
        "own shrunk storage": "short-storage",
    }


def test_tensors_without_memory_inside_transforms_are_refused() -> None:
    # A functional tensor's data pointer is 0 and a vmap tensor has no storage: torch's own
    # numpy() returns garbage for the first. Neither may reach NumPy.
    seen: list[str] = []

    def convert(tensor: torch.Tensor) -> torch.Tensor:
        with pytest.raises(ShareError) as shared:
            share(tensor)
        with pytest.raises(ConversionError) as owned:
            own(tensor)
        seen.extend([shared.value.reason, owned.value.reason])
        return tensor

    torch.func.functionalize(convert)(torch.arange(4.0))
    torch.func.vmap(convert)(torch.zeros(2, 3))
    assert seen == ["no-storage"] * 4


@pytest.mark.parametrize("spelling", [np.ulonglong, np.longlong, np.uint64, np.intc])
def test_every_spelling_of_a_dtype_converts(spelling: type[np.generic]) -> None:
    # np.ulonglong equals np.uint64 but has its own type code, which torch.from_numpy refuses.
    array = np.array([1, 2, 3], dtype=spelling)
    shared = share(array).value
    assert shared.data_ptr() == address(array)
    expected = torch.tensor([1, 2, 3])
    assert torch.equal(shared.long(), expected)
    assert torch.equal(own(array).value.long(), expected)
    assert torch.equal(own(array.astype(array.dtype.newbyteorder(">"))).value.long(), expected)
    assert torch.equal(own(array, dtype=np.float64, casting="unsafe").value, expected.double())


def test_share_of_an_empty_array_ignores_strides_it_never_steps() -> None:
    base = np.zeros(8, np.float32)
    odd = np.lib.stride_tricks.as_strided(base, shape=(0, 3), strides=(6, 2))
    assert share(odd).value.shape == (0, 3)


# ----------------------------------------------------------------------------------------------
# own(): fresh memory, exact by default


LAYOUTS: list[tuple[str, Callable[[], npt.NDArray[Any]]]] = [
    ("contiguous", lambda: np.arange(12.0).reshape(3, 4)),
    ("negative strides", lambda: np.arange(12.0).reshape(3, 4)[::-1, ::-2]),
    ("zero strides", lambda: np.broadcast_to(np.arange(4.0), (3, 4))),
    ("fortran", lambda: np.asfortranarray(np.arange(12.0).reshape(3, 4))),
    ("big-endian", lambda: np.arange(12.0).reshape(3, 4).astype(">f8")),
    ("0-d", lambda: np.array(2.5)),
    ("empty", lambda: np.zeros((0, 4))),
    ("odd strides", lambda: np.zeros(3, dtype=[("a", "i4"), ("b", "f8")])["b"]),
    ("unaligned", lambda: np.frombuffer(bytes(33), np.float64, count=4, offset=1)),
]


@pytest.mark.parametrize("make", [m for _, m in LAYOUTS], ids=[n for n, _ in LAYOUTS])
@pytest.mark.parametrize("read_only", [False, True])
def test_own_array_copies_every_layout_exactly(
    make: Callable[[], npt.NDArray[Any]], read_only: bool
) -> None:
    array = make()
    if read_only:
        array.flags.writeable = False
    tensor = own(array).value
    assert tensor.dtype == torch.float64
    assert tensor.is_contiguous()
    assert not shares_memory(tensor, array)
    np.testing.assert_array_equal(tensor.numpy(), array)


def test_own_large_array_takes_the_parallel_path_and_is_exact() -> None:
    array = np.random.default_rng(1).random(2**19)  # 4 MiB: above the parallel-copy threshold
    tensor = own(array[::-1]).value
    assert not shares_memory(tensor, array)
    np.testing.assert_array_equal(tensor.numpy(), array[::-1])


OWN_ROUTES: list[tuple[str, Callable[[], torch.Tensor]]] = [
    ("small, fast path", lambda: own(np.zeros(3, np.float32)).value),
    ("small, read-only", lambda: own(np.zeros(3, np.float32)[::-1].copy().view()).value),
    ("small, negative strides", lambda: own(np.zeros(6, np.float32)[::-2]).value),
    ("small, big-endian", lambda: own(np.zeros(3, ">f4")).value),
    ("small, second spelling", lambda: own(np.zeros(3, np.ulonglong)).value),
    ("small, cast", lambda: own(np.zeros(3, np.float32), dtype=np.float64).value),
    ("large, parallel copy", lambda: own(np.zeros(2**21, np.float32)).value),
    ("large, cast", lambda: own(np.zeros(2**21, np.float32), dtype=torch.float64).value),
    ("bfloat16", lambda: own(np.zeros(3, np.float32), dtype="bfloat16", casting="same_kind").value),
    (
        "large bfloat16",
        lambda: own(np.zeros(2**21, np.float32), dtype="bfloat16", casting="same_kind").value,
    ),
]


@pytest.mark.parametrize("make", [m for _, m in OWN_ROUTES], ids=[n for n, _ in OWN_ROUTES])
def test_out_into_an_owned_tensor_of_another_size_resizes_it_like_torchs_own(
    make: Callable[[], torch.Tensor],
) -> None:
    # A torch.from_numpy storage refuses the resize after torch has set the new shape: the tensor
    # then read 4 * 10**6 bytes past a 12-byte buffer.
    tensor = make()
    assert tensor.untyped_storage().resizable()
    size = 10**6
    with pytest.warns(UserWarning, match="was resized"):
        torch.cat([torch.ones(size, dtype=tensor.dtype)], out=tensor)  # cat takes every dtype
    assert tensor.shape == (size,)
    assert tensor.untyped_storage().nbytes() >= size * tensor.element_size()
    assert bool((tensor.double() == 1).all())


def test_a_large_owned_tensor_is_exact_and_c_contiguous_in_torchs_memory() -> None:
    array = np.random.default_rng(2).random((1024, 1025)).astype(np.float32)
    tensor = own(array.T).value
    assert tensor.is_contiguous()
    assert tensor.untyped_storage().resizable()
    np.testing.assert_array_equal(tensor.numpy(), array.T)


def test_own_keeps_int64_above_2_53_and_float64_exact() -> None:
    values = np.array([2**53 + 1, -(2**62) - 1], dtype=np.int64)
    assert own(values).value.numpy().tolist() == values.tolist()
    floats = np.array([0.1, 1e-310, -0.0, np.inf])
    result = own(floats).value
    assert result.dtype == torch.float64
    assert result.numpy().tobytes() == floats.tobytes()


def test_own_tensor_resolves_conj_neg_grad_and_layouts() -> None:
    z = torch.tensor([1 + 2j, 3 - 4j])
    assert own(z.conj()).value.tolist() == [1 - 2j, 3 + 4j]
    assert own(z.conj().imag).value.tolist() == [-2.0, 4.0]
    leaf = torch.ones(2, requires_grad=True)
    array = own(leaf * 3).value
    assert array.tolist() == [3.0, 3.0]
    assert array.flags.writeable
    assert array.flags.c_contiguous
    expanded = torch.arange(3.0).expand(2, 3)
    assert own(expanded).value.strides == (12, 4)
    assert own(torch.eye(2).to_sparse()).value.tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_own_tensor_does_not_pin_the_source_storage() -> None:
    tensor = torch.arange(4.0)
    own(tensor)
    tensor.resize_(1000)  # own() must leave the caller's tensor resizable
    assert tensor.numel() == 1000


@pytest.mark.parametrize(
    ("source", "dtype", "casting", "expected"),
    [
        (np.arange(3, dtype=np.int8), torch.bfloat16, "safe", torch.bfloat16),
        (np.arange(3, dtype=np.float64), np.float32, "same_kind", torch.float32),
        (np.arange(3, dtype=np.uint8), "float16", "safe", torch.float16),
        (np.array([1.0, -2.0]), torch.int64, "unsafe", torch.int64),
        (np.arange(3, dtype=">f4"), np.float32, "equiv", torch.float32),
        (np.zeros(2, np.longdouble), np.float64, "same_kind", torch.float64),
    ],
)
def test_own_casts_when_the_rule_allows(
    source: npt.NDArray[Any], dtype: object, casting: Any, expected: torch.dtype
) -> None:
    result = own(source, dtype=cast("Any", dtype), casting=casting).value
    assert result.dtype == expected
    np.testing.assert_array_equal(result.to(torch.float64).numpy(), source.astype(np.float64))


@pytest.mark.parametrize(
    ("source", "dtype", "casting", "allowing"),
    [
        (np.arange(3.0), np.float32, "safe", "same_kind"),
        (np.arange(3.0), torch.bfloat16, "safe", "same_kind"),
        (np.arange(3.0), np.int64, "same_kind", "unsafe"),
        (np.arange(3, dtype=np.int16), torch.bfloat16, "safe", "same_kind"),
        (np.arange(3, dtype=np.uint64), np.int64, "safe", "same_kind"),
        (np.arange(3, dtype=">f4"), np.float32, "no", "equiv"),
        (np.arange(3, dtype=np.int32), np.int64, "equiv", "safe"),
    ],
)
def test_own_refuses_casts_the_rule_forbids_and_names_the_rule_to_pass(
    source: npt.NDArray[Any], dtype: object, casting: Any, allowing: str
) -> None:
    with pytest.raises(CastError) as caught:
        own(source, dtype=cast("Any", dtype), casting=casting)
    error = caught.value
    assert error.casting == casting
    first_line = str(error).splitlines()[0]
    assert f"casting={casting!r}" in first_line
    assert f"Pass casting={allowing!r}" in first_line
    assert error.target in first_line


def test_own_tensor_to_numpy_casts_under_the_same_rules() -> None:
    tensor = torch.tensor([1.0, 2.5], dtype=torch.bfloat16)
    assert own(tensor, dtype=np.float32).value.dtype == np.float32
    with pytest.raises(CastError, match="Pass casting='same_kind'"):
        own(torch.arange(3.0), dtype=np.float16)
    assert (
        own(torch.zeros(2, dtype=torch.complex32), dtype=np.complex64).value.dtype == np.complex64
    )


@pytest.mark.parametrize(
    ("value", "kwargs", "reason"),
    [
        (np.array([object()]), {}, "dtype"),
        (np.array(["a"]), {"dtype": np.float32}, "dtype"),
        (np.ma.masked_array([1.0], mask=[True]), {}, "masked"),
        (np.arange(3.0), {"dtype": object}, "dtype"),
        (np.arange(3.0), {"device": "nonsense"}, "device"),
        (np.arange(3.0), {"device": "meta"}, "device"),
        (quantized, {}, "quantized"),
        (torch.empty(2, device="meta"), {}, "meta"),
        (torch.arange(3.0), {"device": "cuda"}, "device"),
        (torch.arange(3.0), {"dtype": torch.quint8}, "dtype"),
        (torch.arange(3.0), {"device": "nonsense"}, "device"),
        (torch.arange(3.0), {"device": 3.5}, "device"),
        (np.arange(3.0), {"dtype": ("f4", -1)}, "dtype"),
        (fake_tensor, {}, "no-storage"),
        (torch.zeros((1,) * 70), {}, "dimensions"),
        (torch.zeros((1,) * 65), {"dtype": np.float32}, "dimensions"),
        ("text", {}, "type"),
    ],
)
def test_own_refuses_what_cannot_be_represented(
    value: object, kwargs: dict[str, object], reason: str
) -> None:
    if callable(value):
        value = value()
    with pytest.raises(ConversionError) as caught:
        own(value, **kwargs)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    assert caught.value.reason == reason
    first_line = str(caught.value).splitlines()[0]
    assert "own()" in first_line
    assert any(word in first_line for word in ("Pass", "pass", "To fix", "Convert", "Drop"))


def test_64_dimensions_still_convert_both_ways() -> None:
    tensor = torch.arange(2.0).reshape((2,) + (1,) * 63)
    assert share(tensor).value.shape == tuple(tensor.shape)
    np.testing.assert_array_equal(own(tensor).value, tensor.numpy())


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_own_to_a_device_this_torch_lacks_is_a_conversion_error() -> None:
    with pytest.raises(ConversionError, match=r"^own\(\) cannot place a tensor on cuda") as caught:
        own(np.arange(3.0), device="cuda")
    assert caught.value.reason == "device"


@pytest.mark.parametrize(
    ("dtype", "first_step"), [(np.longdouble, "np.float64"), (np.clongdouble, "np.complex128")]
)
def test_a_cast_only_numpy_can_start_names_a_lossless_first_step(
    dtype: type[np.generic], first_step: str
) -> None:
    with pytest.raises(ConversionError) as caught:
        own(np.ones(2, dtype), dtype="bfloat16" if first_step == "np.float64" else "complex32")
    assert f"own(a.astype({first_step})," in str(caught.value).splitlines()[0]


def test_own_names_both_byte_orders_when_only_the_order_changes() -> None:
    with pytest.raises(CastError) as caught:
        own(np.arange(3, dtype=">f8"), casting="no")
    assert "float64 (>f8) to float64 (<f8)" in str(caught.value).splitlines()[0]


def test_own_rejects_an_unknown_casting_rule() -> None:
    with pytest.raises(ValueError, match="not a casting rule"):
        own(np.arange(3.0), casting="sloppy")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType, reportCallIssue]


# ----------------------------------------------------------------------------------------------
# Lifetime


def test_shared_keeps_its_source_alive() -> None:
    array = np.arange(5.0)
    source_ref = weakref.ref(array)
    borrowed = share(array)
    del array
    gc.collect()
    assert source_ref() is not None
    assert borrowed.value.numpy().tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    del borrowed
    gc.collect()
    assert source_ref() is None


def test_tensor_source_stays_alive_while_its_shared_view_lives() -> None:
    tensor = torch.arange(3.0)
    tensor_ref = weakref.ref(tensor)
    borrowed = share(tensor)
    del tensor
    gc.collect()
    assert tensor_ref() is not None
    assert borrowed.source is tensor_ref()
    array = borrowed.value
    del borrowed
    gc.collect()
    # Without the wrapper the Python tensor object may go, but the memory stays valid: NumPy's
    # view holds torch's storage through its base.
    assert array.tolist() == [0.0, 1.0, 2.0]


@pytest.mark.slow
def test_a_hundred_thousand_conversions_leak_nothing() -> None:
    array = np.arange(16, dtype=np.float32)
    tensor = torch.arange(16, dtype=torch.float32)

    def convert_many(count: int) -> None:
        for _ in range(count):
            share(array)
            own(array)
            share(tensor)
            own(tensor)

    convert_many(2_000)  # warm caches and interned objects first
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    convert_many(25_000)  # 100,000 conversions in all
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after - before < 64 * 1024, f"{after - before} bytes retained"


def test_version_is_package_metadata() -> None:
    assert aliasguard.__version__ != "0+unknown"
    assert aliasguard.share.__module__ == "aliasguard"


# ----------------------------------------------------------------------------------------------
# CUDA (run where a GPU is present)


@pytest.mark.cuda
def test_cuda_round_trip_and_refusal() -> None:
    array = np.arange(6.0).reshape(2, 3)
    on_gpu = own(array, device="cuda").value
    assert on_gpu.device.type == "cuda"
    assert on_gpu.dtype == torch.float64
    back = own(on_gpu).value
    np.testing.assert_array_equal(back, array)
    with pytest.raises(ShareError) as caught:
        share(on_gpu)
    assert caught.value.reason == "device"
    assert not shares_memory(on_gpu, array)
    narrowed = own(array[::-1], device="cuda", dtype=torch.float32, casting="same_kind").value
    assert narrowed.dtype == torch.float32
    assert own(narrowed).value.tolist() == array[::-1].tolist()
    assert shares_memory(on_gpu, on_gpu[1:])
    assert own(on_gpu.conj() if on_gpu.is_complex() else on_gpu.T).value.shape == (3, 2)


@pytest.mark.parametrize(
    "value",
    [
        np.broadcast_to(np.zeros(1), (2**40,)),
        np.broadcast_to(np.zeros(1, ">f8"), (2**40,)),
        torch.zeros(1).expand(2**60),
    ],
    ids=["zero-stride array", "byte-swapped zero-stride array", "expanded tensor"],
)
def test_a_copy_larger_than_the_machine_is_refused_before_allocating(value: object) -> None:
    # Under overcommit the allocation succeeds and the copy is killed by the OOM killer.
    with pytest.raises(
        MemoryError, match=r"^own\(\) cannot allocate .* share\(\) the view instead"
    ):
        own(value)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]


UNALIGNED_COMPLEX_OWN = textwrap.dedent(
    """
    import numpy as np, aliasguard
    with aliasguard.sanitize():
        for _ in range(2000):
            array = np.frombuffer(bytearray(33), np.complex128, count=1, offset=1)
            array[0] = 1 + 2j
            assert aliasguard.own(array).value[0] == 1 + 2j
    print("copied")
    """
)


@pytest.mark.slow
def test_own_never_hands_torch_an_unaligned_array() -> None:
    # torch's complex kernels assume aligned elements: a clone of this array died by SIGSEGV.
    result = subprocess.run(
        [sys.executable, "-c", UNALIGNED_COMPLEX_OWN],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "copied"), result.stderr


def _compare_with_itself(value: Any) -> object:
    return shares_memory(value, value)


_CONVERTERS: list[tuple[Callable[[Any], object], type[Exception]]] = [
    (own, ConversionError),
    (share, ShareError),
    (_compare_with_itself, TypeError),
]


def _wrap(value: Any) -> object:
    return aliasguard.Shared(value)


@pytest.mark.parametrize("claimed", [aliasguard.Shared, np.ndarray, torch.Tensor])
@pytest.mark.parametrize(("convert", "error"), [*_CONVERTERS, (_wrap, TypeError)])
def test_an_object_that_claims_a_class_it_is_not_is_refused_as_not_an_array(
    convert: Callable[[Any], object], error: type[Exception], claimed: type
) -> None:
    # isinstance() believes __class__; the converters look at the type itself.
    impostor: Any = type("Impostor", (), {"__class__": property(lambda _: claimed)})()
    with pytest.raises(error, match=r"(takes|wraps) .*got Impostor"):
        convert(impostor)
