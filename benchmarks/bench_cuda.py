"""own(array, device="cuda") against the raw routes to the GPU, side by side (needs a GPU).

Run: ``python benchmarks/bench_cuda.py``. Reports medians of alternating rounds for a 256 MiB
float32 array: ``torch.tensor(a, device="cuda")``, ``torch.from_numpy(a).to("cuda")`` and
``aliasguard.own(a, device="cuda")``, each synchronised before the clock stops.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

import aliasguard


def _timed(function: Callable[[], object]) -> float:
    torch.cuda.synchronize()
    start = time.perf_counter()
    function()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to measure")
        return 0
    array = np.random.default_rng(0).random(64 * 2**20, dtype=np.float32)
    routes: dict[str, Callable[[], object]] = {
        "torch.tensor(a, device='cuda')": lambda: torch.tensor(array, device="cuda"),
        "torch.from_numpy(a).to('cuda')": lambda: torch.from_numpy(array).to("cuda"),
        "aliasguard.own(a, device='cuda')": lambda: aliasguard.own(array, device="cuda"),
    }
    for route in routes.values():
        route()  # warm up the CUDA context and allocator
    times: dict[str, list[float]] = {name: [] for name in routes}
    for round_index in range(9):
        order = list(routes.items())
        if round_index % 2:
            order.reverse()
        for name, route in order:
            times[name].append(_timed(route))
    baseline = statistics.median(times["torch.tensor(a, device='cuda')"])
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name()}, 256 MiB float32")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(
            f"{name:<36} {median * 1e3:8.2f} ms  {array.nbytes / median / 1e9:6.2f} GB/s  "
            f"{baseline / median:5.2f}x vs torch.tensor"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
