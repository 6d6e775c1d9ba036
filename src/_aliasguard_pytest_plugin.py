"""The pytest plugin: instrument packages with `@checked` and run tests under `sanitize()`.

Registered through the ``pytest11`` entry point, so it loads in every pytest run where aliasguard is
installed. It therefore imports nothing heavy (not torch, not aliasguard itself) until an option
turns it on, and lives outside the ``aliasguard`` package, whose ``__init__`` imports torch (the
layout Hypothesis uses for its own plugin).

Options (command line, or the ini keys of the same name with underscores):

- ``--aliasguard-packages=pkg1,pkg2`` / ``aliasguard_packages``: apply `aliasguard.checked` to
  every function of those packages whose annotations use ``Shared``/``Owned``/jaxtyping;
- ``--aliasguard-sanitize`` / ``aliasguard_sanitize = true``: run each test, its fixtures'
  setup and teardown included, inside `aliasguard.sanitize()`. Mark a test
  ``@pytest.mark.aliasguard_unsanitized`` to run it outside.
- ``--aliasguard-raw-routes`` / ``aliasguard_raw_routes = true``: the same, with
  ``sanitize(raw_routes=True)``: code that never calls ``share()`` is checked too, as under
  ``aliasguard run``; implies ``--aliasguard-sanitize``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

_HOOK_KEY = pytest.StashKey[Any]()
_SANITIZE_KEY = pytest.StashKey[bool]()
_RAW_ROUTES_KEY = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aliasguard", "aliasguard: NumPy <-> torch aliasing contracts")
    group.addoption(
        "--aliasguard-packages",
        default=None,
        help="comma-separated packages whose annotated functions get @aliasguard.checked",
    )
    group.addoption(
        "--aliasguard-sanitize",
        action="store_true",
        default=None,
        help="run each test inside aliasguard.sanitize()",
    )
    parser.addini(
        "aliasguard_packages",
        type="args",
        default=[],
        help="packages whose annotated functions get @aliasguard.checked",
    )
    group.addoption(
        "--aliasguard-raw-routes",
        action="store_true",
        default=None,
        help="run each test inside aliasguard.sanitize(raw_routes=True): torch.from_numpy, "
        ".numpy() and the other raw routes are checked too",
    )
    parser.addini(
        "aliasguard_sanitize", type="bool", default=False, help="run each test inside sanitize()"
    )
    parser.addini(
        "aliasguard_raw_routes",
        type="bool",
        default=False,
        help="run each test inside sanitize(raw_routes=True)",
    )


def _packages(config: pytest.Config) -> list[str]:
    option: str | None = config.getoption("aliasguard_packages")
    if option:
        return [name.strip() for name in option.split(",") if name.strip()]
    ini: list[str] = config.getini("aliasguard_packages")
    # Whitespace separates ini values; commas too, as on the command line ("pkga,pkgb").
    return [name.strip() for value in ini for name in value.split(",") if name.strip()]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "aliasguard_unsanitized: run this test outside aliasguard.sanitize()"
    )
    option: bool | None = config.getoption("aliasguard_sanitize")
    raw_option: bool | None = config.getoption("aliasguard_raw_routes")
    raw_routes = bool(raw_option) or bool(config.getini("aliasguard_raw_routes"))
    config.stash[_RAW_ROUTES_KEY] = raw_routes
    config.stash[_SANITIZE_KEY] = (
        raw_routes or bool(option) or bool(config.getini("aliasguard_sanitize"))
    )
    packages = _packages(config)
    if packages:
        import aliasguard  # only now: an enabled option is what pays for the import

        config.stash[_HOOK_KEY] = aliasguard.install_import_hook(packages)


def pytest_unconfigure(config: pytest.Config) -> None:
    hook = config.stash.get(_HOOK_KEY, None)
    if hook is not None:
        hook.uninstall()


def pytest_report_header(config: pytest.Config) -> str | None:
    parts: list[str] = []
    hook = config.stash.get(_HOOK_KEY, None)
    if hook is not None:
        parts.append(f"checked packages: {', '.join(_packages(config))}")
        if hook.skipped:
            # Functions the hook saw but could not check: say so rather than pass them silently.
            names = ", ".join(name for name, _ in hook.skipped[:3])
            more = f" and {len(hook.skipped) - 3} more" if len(hook.skipped) > 3 else ""
            parts.append(
                f"not checked: {names}{more} (hook.skipped says why: annotations unresolvable at "
                "run time, or a function @checked refuses)"
            )
    if config.stash.get(_RAW_ROUTES_KEY, False):
        parts.append("sanitize: on, raw routes seen")
    elif config.stash.get(_SANITIZE_KEY, False):
        parts.append("sanitize: on")
    return f"aliasguard: {'; '.join(parts)}" if parts else None


def _sanitized(item: pytest.Item) -> Generator[None, None, None]:
    if not item.config.stash.get(_SANITIZE_KEY, False) or item.get_closest_marker(
        "aliasguard_unsanitized"
    ):
        yield
        return
    # Lazy: the plugin loads in every pytest run; torch is imported only once an option asks.
    import aliasguard
    from aliasguard._sanitizer import explain_refused_write

    with aliasguard.sanitize(raw_routes=item.config.stash.get(_RAW_ROUTES_KEY, False)):
        outcome: Any = yield
        # A hook wrapper gets the test's exception as its outcome, not raised at the yield: the
        # note that names the borrow behind a refused NumPy write is added here.
        explain_refused_write(outcome.exception)


# Setup and teardown too: fixtures make borrows and write data, and a borrow made outside any
# sanitizer is never registered.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    yield from _sanitized(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    yield from _sanitized(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    yield from _sanitized(item)
