"""aliasguard.shares_memory is exact on ordinary views and prompt on adversarial ones.

Pairs of random views of one buffer (slices with any step and offset, transposes, reshapes,
broadcasts, dtype views, single elements) are checked against NumPy's exact solver
(``np.shares_memory`` at its default, exact work bound), as arrays and as tensors made by share(). Torch-made
views are checked against a brute-force oracle that lists every byte each view touches. Adversarial
strides must come back within a fraction of a second, with ``True`` ("may overlap") only where
NumPy's solver really gives up within aliasguard's bound.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp
from numpy.lib.stride_tricks import as_strided

from aliasguard import ShareError, own, share, shares_memory
from aliasguard._memory import MAX_OVERLAP_WORK

Value = npt.NDArray[Any] | torch.Tensor
EXACT = settings(max_examples=200, deadline=None)
BASE_DTYPES = (np.int8, np.int16, np.float32, np.complex128)
#: A bounded solver must answer adversarial strides well within this (it takes ~2 ms here).
PROMPT_S = 0.5
#: np.shares_memory with a positive work bound: NumPy's stubs admit only the sentinels -1 and 0.
bounded_shares_memory: Callable[..., bool] = np.shares_memory


@st.composite
def bases(draw: st.DrawFn) -> npt.NDArray[Any]:
    dtype = draw(st.sampled_from(BASE_DTYPES))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    return np.zeros(shape, dtype)


def element_of(view: npt.NDArray[Any], index: tuple[int, ...]) -> npt.NDArray[Any]:
    """The element at ``index`` as a 0-d view (plain integer indexing would give a copy)."""
    key: Any = (*index, Ellipsis)
    return view[key]  # type: ignore[no-any-return]


def _reshapes(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    size = int(np.prod(shape))
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    return [(size,), (1, size), (size, 1), *((d, size // d) for d in divisors), shape[::-1]]


@st.composite
def views_of(draw: st.DrawFn, base: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A view of ``base`` after up to four random view-making operations."""
    view = base
    for _ in range(draw(st.integers(0, 4))):
        operation = draw(
            st.sampled_from(("slice", "transpose", "reshape", "element", "broadcast", "dtype"))
        )
        if operation == "slice" and view.ndim:
            view = view[draw(st.tuples(*(st.slices(size) for size in view.shape)))]
        elif operation == "transpose" and view.ndim > 1:
            view = view.transpose(draw(st.permutations(range(view.ndim))))
        elif operation == "reshape" and view.size:
            new_shape = draw(st.sampled_from(_reshapes(view.shape)))
            reshaped = view.reshape(new_shape)
            if np.shares_memory(reshaped, view):  # a view, not a copy (NumPy 2.0 has no copy=)
                view = reshaped
        elif operation == "element" and view.size:
            index = tuple(draw(st.integers(0, size - 1)) for size in view.shape)
            view = element_of(view, index)
        elif operation == "broadcast":
            view = np.broadcast_to(view, (draw(st.integers(1, 3)), *view.shape))
        elif operation == "dtype":
            new_dtype = draw(st.sampled_from((np.int8, np.int32, np.complex64)))
            with contextlib.suppress(ValueError):  # a non-contiguous last axis, or no fit
                view = view.view(new_dtype)
    return view


def forms(view: npt.NDArray[Any]) -> list[Value]:
    """``view`` itself, and the tensor share() makes of it where it can alias it."""
    try:
        return [view, share(view).value]
    except ShareError:
        return [view]


def touched_bytes(value: Value) -> set[int]:
    """Every byte address ``value`` reads, listed element by element: the brute-force oracle."""
    if isinstance(value, torch.Tensor):
        start, itemsize = value.data_ptr(), value.element_size()
        strides = [stride * itemsize for stride in value.stride()]
    else:
        start, itemsize, strides = int(value.ctypes.data), value.itemsize, list(value.strides)
    addresses: set[int] = set()
    for index in itertools.product(*(range(size) for size in value.shape)):
        element = start + sum(i * stride for i, stride in zip(index, strides, strict=True))
        addresses.update(range(element, element + itemsize))
    return addresses


# ----------------------------------------------------------------------------------------------
# Exact on ordinary views


@EXACT
@given(st.data())
def test_agrees_with_numpy_exact_solver(data: st.DataObject) -> None:
    base = data.draw(bases())
    first, second = data.draw(views_of(base)), data.draw(views_of(base))
    expected = bool(np.shares_memory(first, second))
    for one in forms(first):
        for other in forms(second):
            assert shares_memory(one, other) == expected, (type(one), type(other))
            assert shares_memory(other, one) == expected


@EXACT
@given(st.data())
def test_disjoint_buffers_never_share(data: st.DataObject) -> None:
    first = data.draw(views_of(data.draw(bases())))
    second = data.draw(views_of(data.draw(bases())))
    for one in forms(first):
        for other in forms(second):
            assert not shares_memory(one, other)
        assert not shares_memory(one, own(one).value)


@EXACT
@given(st.data())
def test_a_view_shares_with_each_of_its_elements(data: st.DataObject) -> None:
    view = data.draw(views_of(data.draw(bases())))
    if view.size == 0:
        for one in forms(view):
            assert not shares_memory(one, one)  # empty values touch no memory
        return
    index = tuple(data.draw(st.integers(0, size - 1)) for size in view.shape)
    element = element_of(view, index)
    for one in forms(view):
        assert shares_memory(one, one)
        for other in forms(element):
            assert shares_memory(one, other)
            assert shares_memory(other, one)


@st.composite
def tensor_views_of(draw: st.DrawFn, base: torch.Tensor) -> torch.Tensor:
    """A view of ``base`` made by torch itself: positive-step slices, transposes, expand, diagonal."""
    view = base
    for _ in range(draw(st.integers(0, 3))):
        operation = draw(st.sampled_from(("slice", "transpose", "expand", "diagonal", "unfold")))
        if operation == "slice" and view.dim():
            dim = draw(st.integers(0, view.dim() - 1))
            size = view.shape[dim]
            start = draw(st.integers(0, size))
            stop = draw(st.integers(start, size))
            view = view.narrow(dim, start, stop - start)[
                (slice(None),) * dim + (slice(None, None, draw(st.integers(1, 3))),)
            ]
        elif operation == "transpose" and view.dim() > 1:
            view = view.transpose(0, view.dim() - 1)
        elif operation == "expand":
            view = view.unsqueeze(0).expand(draw(st.integers(1, 3)), *view.shape)
        elif operation == "diagonal" and view.dim() > 1:
            view = view.diagonal(draw(st.integers(-1, 1)))
        elif operation == "unfold" and view.dim() and view.shape[-1] >= 2:
            view = view.unfold(-1, 2, draw(st.integers(1, 2)))  # overlapping windows
    return view


@EXACT
@given(st.data())
def test_torch_views_agree_with_brute_force(data: st.DataObject) -> None:
    base = torch.from_numpy(data.draw(bases()))  # pyright: ignore[reportUnknownMemberType]
    first, second = data.draw(tensor_views_of(base)), data.draw(tensor_views_of(base))
    expected = bool(touched_bytes(first) & touched_bytes(second))
    assert shares_memory(first, second) == expected
    as_arrays = [share(value).value for value in (first, second)]
    assert shares_memory(as_arrays[0], second) == expected
    assert shares_memory(first, as_arrays[1]) == expected
    assert bool(np.shares_memory(as_arrays[0], as_arrays[1])) == expected


# ----------------------------------------------------------------------------------------------
# Prompt on adversarial strides


@functools.cache
def big_buffer() -> npt.NDArray[np.int8]:
    """16 MiB of zeros that nothing reads: the solver looks at addresses only."""
    return np.zeros(1 << 24, np.int8)


@st.composite
def adversarial_views(draw: st.DrawFn, ndim: int) -> npt.NDArray[Any]:
    """A read-only view with ``ndim`` axes of length 2 and large, mostly co-prime strides."""
    strides = tuple(draw(st.integers(10_000, 1_000_000)) for _ in range(ndim))
    reach = sum(strides)
    offset = draw(st.integers(0, big_buffer().size - reach - 1))
    return as_strided(big_buffer()[offset:], shape=(2,) * ndim, strides=strides, writeable=False)


def timed_shares_memory(first: Value, second: Value) -> bool:
    start = time.perf_counter()
    answer = shares_memory(first, second)
    elapsed = time.perf_counter() - start
    assert elapsed < PROMPT_S, f"shares_memory took {elapsed:.3f} s on adversarial strides"
    return answer


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_adversarial_strides_answer_promptly(data: st.DataObject) -> None:
    ndim = data.draw(st.integers(6, 12))
    first = data.draw(adversarial_views(ndim))
    second = data.draw(adversarial_views(data.draw(st.integers(6, 12))))
    answers = {timed_shares_memory(one, other) for one in forms(first) for other in forms(second)}
    assert len(answers) == 1, "arrays and tensors over the same memory got different answers"
    answer = answers.pop()
    if not answer:
        # A "no" must be exact, and the solver found it within the bound, so this is quick.
        assert not np.shares_memory(first, second)
        return
    try:
        exact = bool(bounded_shares_memory(first, second, max_work=100 * MAX_OVERLAP_WORK))
    except np.exceptions.TooHardError:
        return  # too hard to check here either: "may overlap" stands
    if not exact:  # "may overlap" for disjoint memory only where the bounded solver gave up
        with pytest.raises(np.exceptions.TooHardError):
            bounded_shares_memory(first, second, max_work=MAX_OVERLAP_WORK)


def test_too_hard_pair_is_reported_as_may_overlap() -> None:
    # Disjoint, but NumPy needs more than MAX_OVERLAP_WORK steps to prove it.
    buffer = big_buffer()
    first = as_strided(
        buffer,
        shape=(2,) * 10,
        strides=(999983, 499979, 249989, 124987, 62497, 31249, 15619, 7817, 3907, 1949),
        writeable=False,
    )
    second = as_strided(
        buffer[1:],
        shape=(2,) * 10,
        strides=(999979, 499973, 249973, 124981, 62483, 31247, 15629, 7823, 3911, 1951),
        writeable=False,
    )
    with pytest.raises(np.exceptions.TooHardError):
        bounded_shares_memory(first, second, max_work=MAX_OVERLAP_WORK)
    assert not bounded_shares_memory(first, second, max_work=100 * MAX_OVERLAP_WORK)
    for one in forms(first):
        for other in forms(second):
            assert timed_shares_memory(one, other) is True
