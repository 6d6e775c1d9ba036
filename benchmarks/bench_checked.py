"""Per-call cost of `@checked` against ``@jaxtyped(typechecker=beartype)``, three signatures.

Run: ``python benchmarks/bench_checked.py [--rounds N] [--general]``.

Each case decorates one signature twice: ``@checked`` on the aliasguard annotations, and
``@jaxtyped(typechecker=beartype)`` on the bare jaxtyping ones. Plain ``@beartype`` and an
undecorated call are shown for scale.

- (a) two ``Float[Tensor, "b c"]`` arguments and a ``Float[Tensor, "b c"]`` return, each wrapped in
  ``Shared`` for ``@checked`` (version counters on both borrows);
- (b) one ``Shared[Float[np.ndarray, "n"]]`` argument, passed as ``Shared(array)`` (the callee gets
  a read-only view) and a ``Float[np.ndarray, "n"]`` return;
- (c) four tensors (``"b c"`` twice, ``"c"``, ``"b"``), an ``int`` and a ``float``, tensor return.

All routes are timed in every round, in an order that rotates from round to round; a round's
ratio is ``@checked``'s time over jaxtyping's in that round. The medians of those ratios are held
to the target (at most 0.1x); the exit status is 1 when one misses. ``--general`` times `@checked`
with its generated call path turned off (every call through the general checker), for comparison.
"""

# jaxtyping's shape strings read as names to ruff.
# ruff: noqa: F821

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from beartype import beartype
from jaxtyping import Float, jaxtyped
from torch import Tensor

from aliasguard import Shared, checked
from aliasguard._checking import _fast_path

TARGET = 0.1
CALLS = 1_000


def _signatures() -> dict[str, dict[str, Callable[..., Any]]]:
    """Each case's functions, decorated now (after ``--general`` has set the switch)."""

    def a_body(x: Any, y: Any) -> Any:
        return x

    def b_body(x: Any) -> Any:
        return x

    def c_body(x: Any, y: Any, z: Any, w: Any, k: Any, f: Any) -> Any:  # noqa: PLR0917
        return x

    @checked
    def a_checked(
        x: Shared[Float[Tensor, "b c"]], y: Shared[Float[Tensor, "b c"]]
    ) -> Shared[Float[Tensor, "b c"]]:
        return x

    @jaxtyped(typechecker=beartype)
    def a_jaxtyped(x: Float[Tensor, "b c"], y: Float[Tensor, "b c"]) -> Float[Tensor, "b c"]:
        return x

    @beartype
    def a_beartype(x: Tensor, y: Tensor) -> Tensor:
        return x

    @checked
    def b_checked(x: Shared[Float[np.ndarray, "n"]]) -> Float[np.ndarray, "n"]:
        return x.value

    @jaxtyped(typechecker=beartype)
    def b_jaxtyped(x: Float[np.ndarray, "n"]) -> Float[np.ndarray, "n"]:
        return x

    @beartype
    def b_beartype(x: np.ndarray) -> np.ndarray:
        return x

    @checked
    def c_checked(  # noqa: PLR0917  # the signature under test
        x: Float[Tensor, "b c"],
        y: Float[Tensor, "b c"],
        z: Float[Tensor, "c"],
        w: Float[Tensor, "b"],
        k: int,
        f: float,
    ) -> Float[Tensor, "b c"]:
        return x

    @jaxtyped(typechecker=beartype)
    def c_jaxtyped(  # noqa: PLR0917
        x: Float[Tensor, "b c"],
        y: Float[Tensor, "b c"],
        z: Float[Tensor, "c"],
        w: Float[Tensor, "b"],
        k: int,
        f: float,
    ) -> Float[Tensor, "b c"]:
        return x

    @beartype
    def c_beartype(  # noqa: PLR0917
        x: Tensor, y: Tensor, z: Tensor, w: Tensor, k: int, f: float
    ) -> Tensor:
        return x

    return {
        "a": {
            "checked": a_checked,
            "jaxtyped": a_jaxtyped,
            "beartype": a_beartype,
            "plain": a_body,
        },
        "b": {
            "checked": b_checked,
            "jaxtyped": b_jaxtyped,
            "beartype": b_beartype,
            "plain": b_body,
        },
        "c": {
            "checked": c_checked,
            "jaxtyped": c_jaxtyped,
            "beartype": c_beartype,
            "plain": c_body,
        },
    }


def _calls() -> dict[str, dict[str, Callable[[], object]]]:
    functions = _signatures()
    x, y = torch.ones(3, 4), torch.ones(3, 4)
    shared_x, shared_y = Shared(torch.ones(3, 4)), Shared(torch.ones(3, 4))
    array = np.ones(5, dtype=np.float32)
    shared_array = Shared(array)
    z, w = torch.ones(4), torch.ones(3)
    a, b, c = functions["a"], functions["b"], functions["c"]
    return {
        "a": {
            "checked": lambda: a["checked"](shared_x, shared_y),
            "jaxtyped": lambda: a["jaxtyped"](x, y),
            "beartype": lambda: a["beartype"](x, y),
            "plain": lambda: a["plain"](x, y),
        },
        "b": {
            "checked": lambda: b["checked"](shared_array),
            "jaxtyped": lambda: b["jaxtyped"](array),
            "beartype": lambda: b["beartype"](array),
            "plain": lambda: b["plain"](array),
        },
        "c": {
            "checked": lambda: c["checked"](x, y, z, w, 3, 0.5),
            "jaxtyped": lambda: c["jaxtyped"](x, y, z, w, 3, 0.5),
            "beartype": lambda: c["beartype"](x, y, z, w, 3, 0.5),
            "plain": lambda: c["plain"](x, y, z, w, 3, 0.5),
        },
    }


def _per_call(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(CALLS):
        function()
    return (time.perf_counter() - start) / CALLS


def _spread(values: list[float]) -> tuple[float, float]:
    """The 10th and 90th percentiles: what a noisy, shared machine does to the median."""
    deciles = statistics.quantiles(values, n=10)
    return deciles[0], deciles[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--general", action="store_true", help="turn the generated path off")
    options = parser.parse_args()
    _fast_path.enabled = not options.general
    calls = _calls()
    routes = [(case, route) for case in calls for route in calls[case]]
    for case, route in routes:  # warm-up: first calls compile and fill caches
        for _ in range(200):
            calls[case][route]()
    times: dict[tuple[str, str], list[float]] = {key: [] for key in routes}
    ratios: dict[str, list[float]] = {case: [] for case in calls}
    for round_index in range(options.rounds):
        shift = round_index % len(routes)
        this_round: dict[tuple[str, str], float] = {}
        for case, route in routes[shift:] + routes[:shift]:
            this_round[case, route] = _per_call(calls[case][route])
        for key, value in this_round.items():
            times[key].append(value)
        for case in calls:
            ratios[case].append(this_round[case, "checked"] / this_round[case, "jaxtyped"])
    print(f"torch {torch.__version__}, numpy {np.__version__}, {options.rounds} rounds")
    print("path: " + ("general checker only" if options.general else "generated per signature"))
    print("case  route      median us/call   (10%-90%)")
    missed = False
    for case in calls:
        for route in calls[case]:
            low, high = _spread(times[case, route])
            median = statistics.median(times[case, route])
            print(
                f"({case})   {route:9} {median * 1e6:8.2f}      ({low * 1e6:.2f}-{high * 1e6:.2f})"
            )
        ratio = statistics.median(ratios[case])
        low, high = _spread(ratios[case])
        verdict = "met" if ratio <= TARGET else "MISSED"
        missed |= ratio > TARGET
        print(
            f"({case})   checked/jaxtyped: {ratio:.3f}x ({low:.3f}-{high:.3f}), "
            f"target <= {TARGET}x: {verdict}"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
