"""Suite-wide configuration: CUDA tests run where a GPU is present and are skipped cleanly elsewhere.

The suite also runs on the minimal install (no extras): the test modules that exercise the
``fuzz`` extra are then left out, and ``test_optional_dependencies.py`` checks what a user without
it gets instead.
"""

from __future__ import annotations

import importlib.util

import pytest
import torch

HAS_CUDA = torch.cuda.is_available()
HAS_HYPOTHESIS = importlib.util.find_spec("hypothesis") is not None

#: Test modules that draw with Hypothesis or test aliasguard.strategies and aliasguard.fuzz: every
#: property test, and the fuzzer's unit tests.
NEEDS_HYPOTHESIS = ["property/*.py", "unit/test_fuzz.py"]
collect_ignore_glob = [] if HAS_HYPOTHESIS else NEEDS_HYPOTHESIS

if HAS_HYPOTHESIS:
    from hypothesis import HealthCheck, settings

    # The suite runs on shared, loaded machines: how long a draw or a call takes says nothing about
    # aliasguard there, so timing is no failure (the tests' own settings still apply on top).
    settings.register_profile(
        "aliasguard-suite", deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    settings.load_profile("aliasguard-suite")


def pytest_report_header() -> str | None:
    if HAS_HYPOTHESIS:
        return None
    return f"hypothesis is not installed: left out {', '.join(NEEDS_HYPOTHESIS)}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if HAS_CUDA:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device; none is present")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


pytest_plugins = ["pytester"]
