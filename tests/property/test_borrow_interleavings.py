"""Random interleavings of borrows, owner writes, raw routes and releases, under the sanitizer.

Whatever the order: a write into memory that a live borrow covers never goes through (NumPy or
torch), and once the sanitizer exits and the borrows are gone every NumPy array has exactly the
writeable flag it started with (the ones that were read-only stay so).
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from aliasguard import AliasingError, Shared, sanitize, share

pytestmark = pytest.mark.aliasguard_unsanitized  # each example enters its own sanitizer

ARRAYS = 3
TORCH: Any = torch  # from_numpy is partly unannotated in torch's stubs
Step = tuple[str, int]
steps = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "share",
                "shared wrapper",
                "from_numpy",
                "numpy of a tensor",
                "owner write",
                "torch write",
                "release one",
                "release all",
            ]
        ),
        st.integers(0, ARRAYS - 1),
    ),
    max_size=25,
)


def _write_numpy(array: np.ndarray[Any, Any]) -> bool:
    """Try an owner write; whether it went through."""
    before = array.copy()
    try:
        array[0] = before[0] + 1
    except ValueError:
        assert np.array_equal(array, before)  # refused before any byte changed
        return False
    return True


def _write_torch(tensor: torch.Tensor) -> bool:
    before = tensor.clone()
    try:
        tensor.add_(1)
    except AliasingError:
        assert torch.equal(tensor, before)
        return False
    return True


@settings(max_examples=40, deadline=None)
@given(steps, st.lists(st.booleans(), min_size=ARRAYS, max_size=ARRAYS))
def test_no_write_into_a_live_borrow_and_every_flag_comes_back(
    plan: list[Step], read_only: list[bool]
) -> None:
    arrays = [np.zeros(4, dtype=np.float32) for _ in range(ARRAYS)]
    for array, frozen in zip(arrays, read_only, strict=True):
        array.flags.writeable = not frozen
    tensors = [torch.zeros(4) for _ in range(ARRAYS)]
    borrows: list[list[object]] = [[] for _ in range(ARRAYS)]  # share()/Shared() of arrays[i]
    lent_tensors: list[list[object]] = [[] for _ in range(ARRAYS)]  # share() of tensors[i]
    kept: list[object] = []  # raw-route results, kept alive
    with sanitize(raw_routes=True):
        for action, index in plan:
            array, tensor = arrays[index], tensors[index]
            if action == "share":
                borrows[index].append(share(array).value)
                lent_tensors[index].append(share(tensor).value)
            elif action == "shared wrapper":
                borrows[index].append(Shared(array))
            elif action == "from_numpy":
                kept.append(TORCH.from_numpy(array))
            elif action == "numpy of a tensor":
                kept.append(tensor.numpy())
            elif action == "owner write":
                wrote = _write_numpy(array)
                assert not (wrote and borrows[index])  # a live borrow is never written
                wrote = _write_torch(tensor)
                assert not (wrote and lent_tensors[index])
            elif action == "torch write" and borrows[index]:
                lent = borrows[index][-1]
                value = lent.value if isinstance(lent, Shared) else lent
                if isinstance(value, torch.Tensor):
                    assert not _write_torch(value)
            elif action == "release one":
                for group in (borrows[index], lent_tensors[index]):
                    if group:
                        group.pop()
                gc.collect()
            elif action == "release all":
                for group in (*borrows, *lent_tensors):
                    group.clear()
                kept.clear()
                gc.collect()
    del borrows, lent_tensors, kept
    gc.collect()
    assert [not array.flags.writeable for array in arrays] == read_only
