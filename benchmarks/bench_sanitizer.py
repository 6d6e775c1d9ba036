"""Per-op cost of `aliasguard.sanitize()` against a trivial `TorchDispatchMode`, side by side.

Run: ``python benchmarks/bench_sanitizer.py`` (add ``--json`` for machine-readable output).

A dispatch mode's cost is per op, so each case times a loop of small ops inside one mode entry:
out-of-place ``torch.add``/``torch.mul`` (they write nothing), and in-place ``add_`` on a tensor
that is not borrowed, with no live borrow and with 1 and 1,000 live borrows elsewhere in memory.
Every figure is a ratio of two timings taken in the same round, alternating which mode goes first,
and the reported ratio is the median over rounds. Target (the sanitizer issue): at most 1.5x the
trivial mode's per-op time.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

import aliasguard._sanitizer as sanitizer_module
from aliasguard import share
from aliasguard._torch_compat import OpOverload, TorchDispatchMode

TARGET = 1.5


class TrivialMode(TorchDispatchMode):
    """The baseline: a mode that forwards every op unchanged."""

    def __torch_dispatch__(
        self,
        func: OpOverload[..., Any],
        types: Sequence[type],
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        return func(*args, **(kwargs or {}))


@dataclass(frozen=True)
class Comparison:
    name: str
    ops_per_call: int
    sanitize_seconds: float  # per op
    trivial_seconds: float  # per op
    no_mode_seconds: float  # per op, for scale
    ratio: float

    @property
    def met(self) -> bool:
        return self.ratio <= TARGET


def _loop_time(enter: Callable[[], Any], body: Callable[[], object], calls: int) -> float:
    with enter():
        start = time.perf_counter()
        for _ in range(calls):
            body()
        return time.perf_counter() - start


def _null_context() -> Any:
    import contextlib

    return contextlib.nullcontext()


def compare(
    name: str, body: Callable[[], object], ops_per_call: int, *, calls: int, rounds: int
) -> Comparison:
    for enter in (sanitizer_module.sanitize, TrivialMode):  # warm caches (schemas, allocator)
        _loop_time(enter, body, calls // 10 + 1)
    ours: list[float] = []
    trivial: list[float] = []
    ratios: list[float] = []
    for round_index in range(rounds):
        gc.collect()
        if round_index % 2:
            ours_time = _loop_time(sanitizer_module.sanitize, body, calls)
            trivial_time = _loop_time(TrivialMode, body, calls)
        else:
            trivial_time = _loop_time(TrivialMode, body, calls)
            ours_time = _loop_time(sanitizer_module.sanitize, body, calls)
        ours.append(ours_time)
        trivial.append(trivial_time)
        ratios.append(ours_time / trivial_time)
    plain = statistics.median(_loop_time(_null_context, body, calls) for _ in range(5))
    per_op = calls * ops_per_call
    return Comparison(
        name,
        ops_per_call,
        statistics.median(ours) / per_op,
        statistics.median(trivial) / per_op,
        plain / per_op,
        statistics.median(ratios),
    )


def run(calls: int, rounds: int) -> list[Comparison]:
    a = torch.rand(16)
    b = torch.rand(16)
    target = torch.zeros(16)
    column = torch.zeros(16, 4)[:, 1]  # non-contiguous: torch's overlap test says TOO_HARD

    def out_of_place() -> None:
        torch.add(a, b)
        torch.mul(a, b)

    def in_place() -> None:
        target.add_(1.0)

    def in_place_column() -> None:
        column.add_(1.0)

    # The within-one-op overlap test: a tensor read argument elsewhere in memory (address ranges
    # apart), and the worst case, a disjoint view of the written tensor whose address range
    # interleaves with it (the exact overlap test runs).
    def in_place_reading_a_tensor() -> None:
        target.add_(b)

    grid = torch.zeros(16, 8)
    left, right = grid[:, :4], grid[:, 4:]

    def in_place_reading_an_interleaved_view() -> None:
        left.add_(right)

    results: list[Comparison] = []
    results.append(compare("add + mul, no borrows", out_of_place, 2, calls=calls, rounds=rounds))
    results.append(compare("add_, no borrows", in_place, 1, calls=calls, rounds=rounds))
    results.append(
        compare("add_ on a column, no borrows", in_place_column, 1, calls=calls, rounds=rounds)
    )
    results.append(
        compare("add_ reading a tensor", in_place_reading_a_tensor, 1, calls=calls, rounds=rounds)
    )
    results.append(
        compare(
            "add_ reading an interleaved view of itself",
            in_place_reading_an_interleaved_view,
            1,
            calls=calls,
            rounds=rounds,
        )
    )
    for count in (1, 1000):
        arrays = [np.zeros(16, dtype=np.float32) for _ in range(count)]
        with sanitizer_module.sanitize():
            borrowed = [share(array).value for array in arrays]  # live while this list is
        label = f"{count} live borrow{'s' if count > 1 else ''}"
        results.append(compare(f"add + mul, {label}", out_of_place, 2, calls=calls, rounds=rounds))
        results.append(compare(f"add_, {label}", in_place, 1, calls=calls, rounds=rounds))
        del borrowed
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--calls", type=int, default=1_000, help="loop iterations per timing")
    parser.add_argument("--rounds", type=int, default=15, help="alternating rounds per case")
    arguments = parser.parse_args(argv)

    torch.set_num_threads(1)  # 16-element kernels: threads only add noise
    comparisons = run(arguments.calls, arguments.rounds)
    if arguments.json:
        rows = [{**asdict(c), "met": c.met} for c in comparisons]
        json.dump({"torch": torch.__version__, "target": TARGET, "rows": rows}, sys.stdout)
        print()
    else:
        print(f"torch {torch.__version__}; per-op time; target: sanitize <= {TARGET}x trivial mode")
        print(f"{'case':<30} {'no mode':>9} {'trivial':>9} {'sanitize':>9} {'ratio':>7}  target")
        for c in comparisons:
            print(
                f"{c.name:<30} {c.no_mode_seconds * 1e6:>7.2f}us {c.trivial_seconds * 1e6:>7.2f}us "
                f"{c.sanitize_seconds * 1e6:>7.2f}us {c.ratio:>6.2f}x  {'met' if c.met else 'MISSED'}"
            )
        worst = max(c.ratio for c in comparisons)
        verdict = "met" if worst <= TARGET else "MISSED"
        print(f"worst ratio {worst:.2f}x: the {TARGET}x target is {verdict}")
    return 0 if all(c.met for c in comparisons) else 1


if __name__ == "__main__":
    raise SystemExit(main())
