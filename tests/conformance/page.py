"""Renders docs/conformance.md from the conformance suite.

The counts come from the cases and the two tables of differences; `test_conformance.py` holds them
true (every run not listed agrees with jaxtyping, every ``TO_FIX`` run still disagrees, every
``DELIBERATE`` run gives the stated verdict), so the page needs no run of its own. Regenerate it
after changing a case or a difference, from the repository root:

    python -m tests.conformance.page --write
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from .cases import ALL_CASES
from .differences import DELIBERATE, TO_FIX, Difference, difference

PAGE = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"

JAXTYPING_REPOSITORY = "https://github.com/patrick-kidger/jaxtyping"
JAXTYPING_RELEASE = "v0.3.11"
JAXTYPING_COMMIT = "f4083b20aed1e41355041331ebfa5dc109c1c851"

_INTRO = f"""\
# Conformance with jaxtyping

`@checked` reads jaxtyping's annotations itself instead of calling jaxtyping at each call, so it is
tested against jaxtyping's own test suite: the cases of [jaxtyping]({JAXTYPING_REPOSITORY})
{JAXTYPING_RELEASE} (commit `{JAXTYPING_COMMIT}`), translated from JAX arrays
to NumPy arrays and torch tensors. Each call runs under `jaxtyped(typechecker=beartype)` and under
`@checked`, and both must give the same verdict: the call passes, or the checker rejects it.

`@checked` runs each case in up to three modes: `bare` (the annotations as written), `shared` (each
array annotation `A` becomes `Shared[A]`, and each array argument `x` is passed as `Shared(x)`) and
`owned` (`Owned[A]`, and `Owned` of a copy of `x`). jaxtyping's verdict on the bare case is the
expected verdict in every mode. The suite is `tests/conformance/`; this page is generated from it
(`python -m tests.conformance.page --write`), and a test fails when the two differ.

Not translated, because they test no function signature or need JAX: PRNG keys, JAX's `ArrayLike`,
`PyTree`, dataclass and Equinox fields, the wording of error messages, pickling, threading, the
import hook and the IPython extension.

A *run* is one call, on one library, in one mode.
"""


def _source_file(source: str) -> str:
    return source.split("::", 1)[0]


def _table() -> list[str]:
    calls: Counter[str] = Counter()
    runs: Counter[str] = Counter()
    deliberate: Counter[str] = Counter()
    to_fix: Counter[str] = Counter()
    modes: dict[str, set[str]] = {}
    for case in ALL_CASES:
        source = _source_file(case.source)
        calls[source] += len(case.calls)
        modes.setdefault(source, set()).update(case.modes)
        for call in case.calls:
            for library in case.libraries:
                for mode in case.modes:
                    runs[source] += 1
                    deliberate[source] += (
                        difference(DELIBERATE, case, call, library, mode) is not None
                    )
                    to_fix[source] += difference(TO_FIX, case, call, library, mode) is not None
    lines = [
        "| source | calls | modes | runs | agree | deliberate differences | still to fix |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    order = ("bare", "shared", "owned")
    for source in calls:
        agree = runs[source] - deliberate[source] - to_fix[source]
        used = ", ".join(mode for mode in order if mode in modes[source])
        lines.append(
            f"| {source} | {calls[source]} | {used} | {runs[source]} | {agree} | "
            f"{deliberate[source]} | {to_fix[source]} |"
        )
    total = [sum(counter.values()) for counter in (calls, runs, deliberate, to_fix)]
    lines.append(
        f"| **all** | {total[0]} | | {total[1]} | {total[1] - total[2] - total[3]} | "
        f"{total[2]} | {total[3]} |"
    )
    return lines


def _listed(table: dict[str, Difference]) -> list[str]:
    by_reason: dict[str, list[str]] = {}
    for key, entry in table.items():
        by_reason.setdefault(entry.reason, []).append(key)
    lines: list[str] = []
    for reason, keys in by_reason.items():
        lines.append(f"- {reason[0].upper()}{reason[1:]}.")
        lines += [f"    - `{key}`" for key in keys]
    return lines


def render() -> str:
    lines = [_INTRO, "## Cases per source", "", *_table(), ""]
    lines += ["## Deliberate differences", ""]
    lines += [
        "`@checked` gives a different verdict on purpose here; the suite checks that it gives "
        "this one.",
        "",
        *_listed(dict(DELIBERATE)),
        "",
    ]
    lines += ["## Still to fix", ""]
    if TO_FIX:
        lines += [
            "Known disagreements, run as expected failures: each becomes a test failure once "
            "fixed, and leaves this list.",
            "",
            *_listed(dict(TO_FIX)),
        ]
    else:
        lines.append("None: every other run agrees with jaxtyping.")
    return "\n".join(lines) + "\n"


def main(arguments: list[str]) -> int:
    page = render()
    if arguments == ["--write"]:
        PAGE.write_text(page, encoding="utf-8")
        return 0
    if arguments:
        sys.stderr.write("usage: python -m tests.conformance.page [--write]\n")
        return 2
    sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
