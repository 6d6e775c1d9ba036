"""What a user gets without the optional dependencies: clear errors, and every tensor dtype drawn.

Each case runs in a fresh interpreter where the optional module cannot be imported (``None`` in
``sys.modules`` makes its import raise ``ModuleNotFoundError``), so these run on every install,
with or without the extras.
"""

from __future__ import annotations

import subprocess
import textwrap

import pytest

from helpers import run_python

TIMEOUT_S = 120


def run_without(module: str, code: str) -> subprocess.CompletedProcess[str]:
    script = f"import sys\nsys.modules[{module!r}] = None\n" + textwrap.dedent(code)
    return run_python(script, timeout=TIMEOUT_S)


def test_strategies_without_hypothesis_name_the_extra() -> None:
    result = run_without(
        "hypothesis",
        """
        try:
            import aliasguard.strategies
        except ModuleNotFoundError as error:
            print(type(error).__name__, error.name, str(error).splitlines()[0])
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ModuleNotFoundError hypothesis aliasguard.strategies needs")
    assert "pip install 'aliasguard[fuzz]'" in result.stdout


def test_the_core_imports_without_either_extra() -> None:
    result = run_without(
        "hypothesis",
        """
        sys.modules["ml_dtypes"] = None
        import numpy as np
        import aliasguard as ag
        print(ag.own(np.arange(3.0)).value.tolist())
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[0.0, 1.0, 2.0]"


def test_fuzz_command_without_hypothesis_is_a_usage_error() -> None:
    result = run_without(
        "hypothesis",
        """
        from aliasguard._cli import main
        sys.exit(main(["fuzz", "json:dumps"]))
        """,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "pip install 'aliasguard[fuzz]'" in result.stderr


def test_every_tensor_dtype_is_drawn_without_ml_dtypes() -> None:
    pytest.importorskip("hypothesis")
    result = run_without(
        "ml_dtypes",
        """
        from hypothesis import HealthCheck, given, settings
        from jaxtyping import Float
        from torch import Tensor
        from aliasguard import Owned
        from aliasguard.strategies import ARRAY_DTYPES, TENSOR_DTYPES, from_annotation, tensors

        drawn = set()
        for name in TENSOR_DTYPES:
            # A loaded machine makes the first draws of a dtype slow: this asks what is drawn, not how fast.
            @settings(max_examples=5, database=None, deadline=None, suppress_health_check=list(HealthCheck))
            @given(tensors(dtypes=[name]))
            def draw(tensor):
                drawn.add(str(tensor.dtype).removeprefix("torch."))
            draw()

        @settings(max_examples=5, database=None, deadline=None, suppress_health_check=list(HealthCheck))
        @given(from_annotation(Owned[Float[Tensor, "b c"]]))
        def annotated(value):
            assert value.value.dtype.is_floating_point
        annotated()
        print(sorted(drawn) == sorted(TENSOR_DTYPES), "bfloat16" in ARRAY_DTYPES)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]
