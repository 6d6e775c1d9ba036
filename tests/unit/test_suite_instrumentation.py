"""The pytest plugin, seen from inside this suite and from fresh pytest runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import aliasguard
import pipelines
from aliasguard import AliasingError, AnnotationError


def test_this_suite_instruments_the_pipelines_package() -> None:
    # pyproject.toml names "pipelines" in aliasguard_packages: the plugin wrapped it at start-up.
    for function in (
        pipelines.load,
        pipelines.to_tensor,
        pipelines.normalize,
        pipelines.brightness,
    ):
        assert getattr(function, "__aliasguard_checked__", False), function
    assert getattr(pipelines.Normalizer.__call__, "__aliasguard_checked__", False)


def test_instrumented_pipeline_runs_and_rejects_a_wrong_shape() -> None:
    image = pipelines.to_tensor(pipelines.load(4, 5))
    normalized = pipelines.normalize(image, 0.5, 0.25)
    assert tuple(pipelines.brightness(normalized).shape) == (3,)
    with pytest.raises(AliasingError, match="moved"):
        _ = image.value  # normalize() took ownership
    flat = aliasguard.share(np.zeros((3, 4), dtype=np.float32))
    with pytest.raises(
        AnnotationError, match=r"brightness\(\): parameter 'image' breaks the shape"
    ):
        pipelines.brightness(flat)


def test_this_suite_runs_each_test_inside_sanitize() -> None:
    array = np.arange(4, dtype=np.float32)
    tensor = aliasguard.share(array).value
    with pytest.raises(AliasingError, match="borrowed by share"):
        tensor.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    assert array.tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.aliasguard_unsanitized
def test_the_unsanitized_marker_opts_a_test_out() -> None:
    array = np.arange(4, dtype=np.float32)
    aliasguard.share(array).value.add_(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    assert array.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_the_plugin_imports_nothing_heavy_until_enabled() -> None:
    code = "import sys, _aliasguard_pytest_plugin; print(sorted({'torch', 'numpy', 'aliasguard._checking'} & set(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"


BUGGY_PACKAGE = textwrap.dedent(
    """
    from jaxtyping import Float
    from torch import Tensor
    from aliasguard import Shared

    def total(x: Shared[Float[Tensor, "n"]]) -> float:
        return float(x.value.sum())
    """
)
TESTS = textwrap.dedent(
    """
    import numpy as np
    import pytest
    import aliasguard
    import buggy

    def test_checked():
        with pytest.raises(aliasguard.AnnotationError):
            buggy.total(aliasguard.share(np.zeros((2, 2), dtype=np.float32)))

    def test_sanitized():
        t = aliasguard.share(np.zeros(3, dtype=np.float32)).value
        t.add_(1)  # must fail under --aliasguard-sanitize
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("via", ["options", "ini"])
def test_plugin_options_in_a_fresh_run(pytester: pytest.Pytester, via: str) -> None:
    pytester.makepyfile(buggy=BUGGY_PACKAGE, test_buggy=TESTS)
    if via == "ini":
        pytester.makeini("[pytest]\naliasguard_packages = buggy\naliasguard_sanitize = true\n")
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    else:
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--aliasguard-packages=buggy", "--aliasguard-sanitize"
        )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*aliasguard: checked packages: buggy; sanitize: on*"])
    result.stdout.fnmatch_lines(["*AliasingError: aten::add_*borrowed by share()*"])


@pytest.mark.slow
def test_plugin_is_inert_without_options(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(buggy=BUGGY_PACKAGE, test_buggy=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    # Neither instrumented nor sanitized: the shape bug and the write both go unnoticed.
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_checked*Failed: DID NOT RAISE*"])


CONFTEST = "import buggy  # imported before the plugin's hook, as conftest files often do\n"
FIXTURE_TESTS = textwrap.dedent(
    """
    import numpy as np
    import pytest
    import aliasguard
    import buggy

    @pytest.fixture
    def borrowed():
        array = np.zeros(3, dtype=np.float32)
        yield array, aliasguard.share(array).value

    def test_a_borrow_made_by_a_fixture(borrowed):
        _, tensor = borrowed
        tensor.add_(1)  # must fail: the fixture's borrow is registered too

    def test_checked_through_a_module_the_conftest_imported():
        with pytest.raises(aliasguard.AnnotationError):
            buggy.total(aliasguard.share(np.zeros((2, 2), dtype=np.float32)))
    """
)


@pytest.mark.slow
def test_plugin_covers_fixtures_conftest_imports_and_comma_separated_ini(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(buggy=BUGGY_PACKAGE, test_fixtures=FIXTURE_TESTS, conftest=CONFTEST)
    pytester.makepyfile(other="")
    pytester.makeini("[pytest]\naliasguard_packages = buggy,other\naliasguard_sanitize = true\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*aliasguard: checked packages: buggy, other; sanitize: on*"])
    result.stdout.fnmatch_lines(
        ["*test_a_borrow_made_by_a_fixture*", "*AliasingError: aten::add_*"]
    )
