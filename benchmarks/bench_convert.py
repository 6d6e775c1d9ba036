"""Speed of `share()` and `own()` against the raw torch/NumPy routes, measured side by side.

Run: ``python benchmarks/bench_convert.py`` (add ``--json`` for machine-readable output).

The machine is shared and noisy, so every figure is a ratio of two timings taken in the same round,
alternating the two routes, and the reported ratio is the median over rounds, after a few untimed
warm-up calls of each route. Targets:

- ``share()`` of a 16-element array: at most 1.75x ``torch.from_numpy``;
- ``own()`` of a 16-element array: at most 0.6x ``torch.tensor()``;
- ``own()`` of a 256 MiB float32 array: at least 4x faster than ``torch.tensor()`` and at least
  1.25x faster than ``ndarray.copy()``.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Final

import numpy as np
import torch

import aliasguard
from aliasguard._host_memory import empty_host_tensor


@dataclass(frozen=True)
class Comparison:
    name: str
    ours_seconds: float
    raw_seconds: float
    raw_route: str
    target: str
    met: bool
    #: The median of the per-round ratios, which `met` was judged on; the ratio of the two median
    #: times can differ from it when rounds are noisy.
    round_ratio: float | None = None

    @property
    def ratio(self) -> float:
        if self.round_ratio is not None:
            return self.round_ratio
        return self.ours_seconds / self.raw_seconds

    def describe_ratio(self, time_suffix: str = "") -> str:
        """``"4.10x faster"`` (or ``"slower"``) for speed-up targets, else ``"1.53x"`` + suffix."""
        if "faster" not in self.target:
            return f"{self.ratio:.2f}x{time_suffix}"
        if self.ratio <= 1:
            return f"{1 / self.ratio:.2f}x faster"
        return f"{self.ratio:.2f}x slower"


def _time_per_call(function: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls


#: Untimed calls of each route before the timed rounds. On a virtual machine the first touch of
#: memory the host has reclaimed costs host page faults (the first 256 MiB own() here takes
#: 170-310 ms, the next ones 21-25 ms); steady state is what a pipeline converting batch after
#: batch sees, and both routes get the same warm-up.
WARMUP_CALLS: Final = 3


def _warm_up(*routes: Callable[[], object]) -> None:
    for _ in range(WARMUP_CALLS):
        for route in routes:
            route()


def _paired_rounds(
    ours: Callable[[], object], raw: Callable[[], object], *, calls: int, rounds: int
) -> tuple[list[float], list[float]]:
    """Per-call times of both routes, one pair per round, timed back to back after a warm-up."""
    _warm_up(ours, raw)
    ours_times: list[float] = []
    raw_times: list[float] = []
    for round_index in range(rounds):
        gc.collect()
        # Alternate which route goes first so neither always gets the warmer cache.
        if round_index % 2:
            ours_time = _time_per_call(ours, calls)
            raw_time = _time_per_call(raw, calls)
        else:
            raw_time = _time_per_call(raw, calls)
            ours_time = _time_per_call(ours, calls)
        ours_times.append(ours_time)
        raw_times.append(raw_time)
    return ours_times, raw_times


def _median_pair(
    ours: Callable[[], object], raw: Callable[[], object], *, calls: int, rounds: int
) -> tuple[float, float, float]:
    """Median per-call times of both routes and the median of their per-round ratios."""
    ours_times, raw_times = _paired_rounds(ours, raw, calls=calls, rounds=rounds)
    ratios = [o / r for o, r in zip(ours_times, raw_times, strict=True)]
    return statistics.median(ours_times), statistics.median(raw_times), statistics.median(ratios)


def small_share() -> Comparison:
    array = np.zeros(16, dtype=np.float32)
    ours, raw, ratio = _median_pair(
        lambda: aliasguard.share(array), lambda: torch.from_numpy(array), calls=20_000, rounds=41
    )
    return Comparison(
        "share, 16 x float32", ours, raw, "torch.from_numpy", "<= 1.75x", ratio <= 1.75, ratio
    )


def small_own() -> Comparison:
    array = np.zeros(16, dtype=np.float32)
    ours, raw, ratio = _median_pair(
        lambda: aliasguard.own(array), lambda: torch.tensor(array), calls=20_000, rounds=41
    )
    return Comparison(
        "own, 16 x float32", ours, raw, "torch.tensor", "<= 0.6x", ratio <= 0.6, ratio
    )


def _large_array(mebibytes: int) -> np.ndarray:
    return np.random.default_rng(0).random(mebibytes * 2**20 // 4, dtype=np.float32)


def large_own(mebibytes: int = 256, rounds: int = 21) -> list[Comparison]:
    array = _large_array(mebibytes)
    label = f"own, {mebibytes} MiB float32"
    results = []
    for raw_name, raw_route, threshold in (
        ("torch.tensor", lambda: torch.tensor(array), 4.0),
        ("ndarray.copy", array.copy, 1.25),
    ):
        ours, raw, ratio = _median_pair(
            lambda: aliasguard.own(array), raw_route, calls=1, rounds=rounds
        )
        results.append(
            Comparison(
                label,
                ours,
                raw,
                raw_name,
                f">= {threshold}x faster",
                1 / ratio >= threshold,
                ratio,
            )
        )
    return results


@dataclass(frozen=True)
class LargeOwnBreakdown:
    """Where the time of a large `own()` goes, each part timed in the same rounds (medians).

    ``copy_alone`` is the same torch copy into memory that is already faulted in, and ``fault_in``
    is a torch ``zero_()`` of fresh memory allocated as `own()` allocates it (torch's, advised onto
    huge pages): its page faults, taken by torch's threads as
    `own()`'s copy takes them, plus a write that costs a fraction of the copy's. Any route that
    returns fresh memory pays both on this machine: ``torch.tensor / copy_alone`` is the ratio
    `own()` would reach if fresh memory cost nothing to fault in.
    """

    mebibytes: int
    own_seconds: float
    torch_tensor_seconds: float
    copy_alone_seconds: float
    fault_in_seconds: float

    @property
    def ceiling(self) -> float:
        return self.torch_tensor_seconds / self.copy_alone_seconds


def large_own_breakdown(mebibytes: int = 256, rounds: int = 21) -> LargeOwnBreakdown:
    array = _large_array(mebibytes)
    source = torch.from_numpy(array)
    warm_destination = torch.from_numpy(np.ones_like(array))

    def fault_in() -> torch.Tensor:
        return empty_host_tensor(array.shape, torch.float32).zero_()

    routes: dict[str, Callable[[], object]] = {
        "own": lambda: aliasguard.own(array),
        "torch_tensor": lambda: torch.tensor(array),
        "copy_alone": lambda: warm_destination.copy_(source),
        "fault_in": fault_in,
    }
    _warm_up(*routes.values())
    times: dict[str, list[float]] = {name: [] for name in routes}
    for round_index in range(rounds):
        gc.collect()
        # Rotate the order so that no route always runs right after the same neighbour.
        names = list(routes)
        names = names[round_index % len(names) :] + names[: round_index % len(names)]
        for name in names:
            times[name].append(_time_per_call(routes[name], 1))
    median = {name: statistics.median(values) for name, values in times.items()}
    return LargeOwnBreakdown(
        mebibytes,
        median["own"],
        median["torch_tensor"],
        median["copy_alone"],
        median["fault_in"],
    )


def throughput_curve(
    sizes_mebibytes: list[float], rounds: int = 5, *, best: bool = False
) -> list[dict[str, float]]:
    """GB/s of own() and torch.tensor() across sizes: the data behind the docs' plot.

    Each size's per-call time is the median over rounds, or with ``best`` the fastest round: the
    one least disturbed by other work on a shared machine.
    """
    pick = min if best else statistics.median
    rows = []
    for size in sizes_mebibytes:
        elements = max(1, int(size * 2**20 / 4))
        array = np.random.default_rng(0).random(elements, dtype=np.float32)
        calls = max(1, int(2**24 / max(array.nbytes, 1)))
        ours_times, raw_times = _paired_rounds(
            functools.partial(aliasguard.own, array),
            functools.partial(torch.tensor, array),
            calls=calls,
            rounds=rounds,
        )
        ours, raw = pick(ours_times), pick(raw_times)
        rows.append(
            {
                "mebibytes": size,
                "own_gb_per_s": array.nbytes / ours / 1e9,
                "torch_tensor_gb_per_s": array.nbytes / raw / 1e9,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--large-mib", type=int, default=256, help="size of the large copy")
    arguments = parser.parse_args(argv)

    comparisons = [small_share(), small_own(), *large_own(arguments.large_mib)]
    breakdown = large_own_breakdown(arguments.large_mib)
    if arguments.json:
        rows = [{**asdict(c), "ratio": c.ratio} for c in comparisons]
        json.dump(
            {
                "torch": torch.__version__,
                "numpy": np.__version__,
                "rows": rows,
                "large_own_breakdown": {**asdict(breakdown), "ceiling": breakdown.ceiling},
            },
            sys.stdout,
        )
        print()
    else:
        print(
            f"torch {torch.__version__}, numpy {np.__version__}, {torch.get_num_threads()} threads"
        )
        print(f"{'case':<24} {'ours':>11} {'raw':>11} {'raw route':<18} {'ratio':>13}  target")
        for c in comparisons:
            shown = c.describe_ratio()
            print(
                f"{c.name:<24} {c.ours_seconds * 1e6:>9.2f}us {c.raw_seconds * 1e6:>9.2f}us "
                f"{c.raw_route:<18} {shown:>13}  {c.target} {'met' if c.met else 'MISSED'}"
            )
        b = breakdown
        print(
            f"\nwhere own() of {b.mebibytes} MiB spends its time (medians of one run): "
            f"own {b.own_seconds * 1e3:.1f} ms, torch.tensor {b.torch_tensor_seconds * 1e3:.1f} ms;"
            f"\n  the copy alone, into memory already faulted in: {b.copy_alone_seconds * 1e3:.1f} ms"
            f" (torch.tensor takes {b.ceiling:.2f}x that: the ceiling for fresh memory)"
            f"\n  faulting in fresh memory (a zero_() of it): {b.fault_in_seconds * 1e3:.1f} ms"
        )
    return 0 if all(c.met for c in comparisons) else 1


if __name__ == "__main__":
    raise SystemExit(main())
