"""The sanitizer's quick overlap test for same-stride views agrees with the exact solver."""

from __future__ import annotations

import torch
from hypothesis import given, settings, strategies as st

from aliasguard._memory import shares_memory
from aliasguard._sanitizer._overlap import _overlaps  # pyright: ignore[reportPrivateUsage]


@st.composite
def two_views(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor]:
    shape = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    base = torch.zeros(shape)
    step = draw(st.lists(st.integers(1, 3), min_size=len(shape), max_size=len(shape)))

    def view() -> torch.Tensor:
        index: list[slice] = []
        for size, stride in zip(shape, step, strict=True):
            start = draw(st.integers(0, size - 1))
            stop = draw(st.integers(start + 1, size))
            index.append(slice(start, stop, stride))
        return base[tuple(index)]

    return view(), view()


@settings(max_examples=500, deadline=None)
@given(two_views())
def test_the_same_stride_search_agrees_with_the_exact_solver(
    views: tuple[torch.Tensor, torch.Tensor],
) -> None:
    written, read = views
    assert _overlaps(written, written.data_ptr(), read, read.data_ptr()) == shares_memory(
        written, read
    )
