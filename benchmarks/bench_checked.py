"""Per-call cost of `@checked` against ``@jaxtyped(typechecker=beartype)``, side by side.

Run: ``python benchmarks/bench_checked.py``.

Both decorate the same signature: two ``Float[Tensor, "b c"]`` arguments and a return; ours wraps
each in ``Shared`` and adds the aliasing checks (version counters on both borrows). The target
(issue 3) is at most 0.25x jaxtyping's time per call. A plain undecorated call is shown for scale.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from beartype import beartype
from jaxtyping import Float, jaxtyped
from torch import Tensor

import aliasguard
from aliasguard import Shared, checked

TARGET = 0.25


@jaxtyped(typechecker=beartype)
def with_jaxtyping(x: Float[Tensor, "b c"], y: Float[Tensor, "b c"]) -> Float[Tensor, "b c"]:
    return x


@checked
def with_aliasguard(
    x: Shared[Float[Tensor, "b c"]], y: Shared[Float[Tensor, "b c"]]
) -> Shared[Float[Tensor, "b c"]]:
    return x


def undecorated(x: Tensor, y: Tensor) -> Tensor:
    return x


def _per_call(function: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls


def main() -> int:
    x, y = torch.ones(3, 4), torch.ones(3, 4)
    shared_x = aliasguard.share(np.ones((3, 4), dtype=np.float32))
    shared_y = aliasguard.share(np.ones((3, 4), dtype=np.float32))

    def ours() -> object:
        return with_aliasguard(shared_x, shared_y)

    def theirs() -> object:
        return with_jaxtyping(x, y)

    def plain() -> object:
        return undecorated(x, y)

    ratios, ours_times, theirs_times, plain_times = [], [], [], []
    for round_index in range(31):
        first, second = (ours, theirs) if round_index % 2 else (theirs, ours)
        timings = {first: _per_call(first, 2_000), second: _per_call(second, 2_000)}
        ours_times.append(timings[ours])
        theirs_times.append(timings[theirs])
        plain_times.append(_per_call(plain, 2_000))
        ratios.append(timings[ours] / timings[theirs])
    ratio = statistics.median(ratios)
    print(f"torch {torch.__version__}")
    print(f"@jaxtyped(typechecker=beartype): {statistics.median(theirs_times) * 1e6:7.2f} us/call")
    print(f"@aliasguard.checked:             {statistics.median(ours_times) * 1e6:7.2f} us/call")
    print(f"undecorated:                     {statistics.median(plain_times) * 1e6:7.2f} us/call")
    print(f"ratio: {ratio:.3f}x (target <= {TARGET}x): {'met' if ratio <= TARGET else 'MISSED'}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
