"""What the whole-program sanitizer costs a real loop, and what the raw routes cost without it.

Run: ``python benchmarks/bench_run.py``.

- **training loop**: a 3-layer CNN, batch 32 of 3x32x32 images, 20 SGD steps, each batch made
  by ``torch.from_numpy`` from a NumPy array the loop fills (the usual loader shape), timed under
  ``sanitize(raw_routes=True)`` (what ``aliasguard run`` enters) against the same loop without it.
  Target: at most 1.3x.
- **unpatched routes**: ``share()`` and ``torch.from_numpy`` with no sanitizer active, against
  ``torch.from_numpy`` captured before aliasguard was imported: nothing is patched then, so the
  ratio is 1x within noise.

Each ratio is the median over rounds of two timings taken side by side in the same round,
alternating which goes first.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

RAW_FROM_NUMPY = torch.from_numpy  # captured before aliasguard is imported

import aliasguard  # noqa: E402  # after the capture above, on purpose

ROUNDS = 7
TARGET_LOOP = 1.3


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(4),
        nn.Flatten(),
        nn.Linear(32 * 16, 10),
    )


def training_loop() -> None:
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    for _ in range(20):
        images = rng.random((32, 3, 32, 32), dtype=np.float32)
        labels = rng.integers(0, 10, size=32)
        batch = torch.from_numpy(images)
        targets = torch.from_numpy(labels)
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(batch), targets)
        loss.backward()
        optimizer.step()


def sanitized_loop() -> None:
    with aliasguard.sanitize(raw_routes=True):
        training_loop()


def _time(function: Callable[[], None]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _ratio(subject: Callable[[], None], baseline: Callable[[], None]) -> float:
    subject()
    baseline()  # warm both up: first calls pay for lazy initialisation
    ratios: list[float] = []
    for round_number in range(ROUNDS):
        if round_number % 2:
            base, timed = _time(baseline), _time(subject)
        else:
            timed, base = _time(subject), _time(baseline)
        ratios.append(timed / base)
    return statistics.median(ratios)


def _many(call: Callable[[], object], count: int = 20_000) -> Callable[[], None]:
    def repeat() -> None:
        for _ in range(count):
            call()

    return repeat


def main() -> None:
    array = np.zeros(16, dtype=np.float32)
    loop = _ratio(sanitized_loop, training_loop)
    verdict = "met" if loop <= TARGET_LOOP else "missed"
    print(
        f"training loop under aliasguard run / without: {loop:.2f}x (target <= {TARGET_LOOP}x, {verdict})"
    )
    from_numpy = _ratio(
        _many(lambda: torch.from_numpy(array)), _many(lambda: RAW_FROM_NUMPY(array))
    )
    print(f"torch.from_numpy, no sanitizer active / captured original: {from_numpy:.2f}x")
    share = _ratio(_many(lambda: aliasguard.share(array)), _many(lambda: RAW_FROM_NUMPY(array)))
    print(f"share(), no sanitizer active / torch.from_numpy: {share:.2f}x")


if __name__ == "__main__":
    main()
