"""The examples in aliasguard's docstrings run and print what they show.

These are the examples the API reference page renders (mkdocstrings reads the same docstrings), so
a docstring example that stops working fails here. Every module of the package is searched, the
private ones included; each example runs as a doctest (``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``
on) in a fresh namespace, inside ``aliasguard.sanitize()`` like every other test of the suite.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import aliasguard

DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
#: What the package's extras bring; their modules' examples run only where they are installed.
OPTIONAL_MODULES = frozenset({"hypothesis", "ml_dtypes"})
#: Docstring examples of the public API that use an extra, by the doctest's name.
EXAMPLE_EXTRAS = {"aliasguard.fuzz": "hypothesis"}


def _docstring_examples() -> list[doctest.DocTest]:
    names = ["aliasguard"] + [
        f"aliasguard.{module.name}" for module in pkgutil.iter_modules(aliasguard.__path__)
    ]
    found: dict[tuple[str | None, int | None, str], doctest.DocTest] = {}
    finder = doctest.DocTestFinder(exclude_empty=True)
    for name in names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name in OPTIONAL_MODULES:
                continue  # an extra's module, on an install without that extra
            raise
        for test in finder.find(module):
            if not test.examples:
                continue
            # Public objects report module "aliasguard", so both modules may find one docstring.
            found.setdefault((test.filename, test.lineno, test.docstring or ""), test)
    return sorted(found.values(), key=lambda test: test.name)


EXAMPLES = _docstring_examples()


def run_doctest(test: doctest.DocTest) -> str:
    """Run one docstring's examples; returns doctest's report of the failures ("" when none)."""
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=DOCTEST_FLAGS)
    runner.run(test, out=report.append)
    return "".join(report)


def test_the_public_api_has_examples() -> None:
    documented = {test.name for test in EXAMPLES}
    for name in ("share", "own", "shares_memory", "Shared", "checked", "sanitize"):
        assert f"aliasguard.{name}" in documented, f"aliasguard.{name} lost its example"


@pytest.mark.parametrize("test", EXAMPLES, ids=lambda test: test.name)
def test_docstring_example(test: doctest.DocTest) -> None:
    if test.name in EXAMPLE_EXTRAS:
        pytest.importorskip(EXAMPLE_EXTRAS[test.name])
    failures = run_doctest(test)
    assert not failures, failures


def test_a_wrong_example_fails() -> None:
    parser = doctest.DocTestParser()
    wrong = parser.get_doctest(">>> 1 + 1\n3\n", {}, "wrong", None, 0)
    assert "Expected:\n    3\nGot:\n    2" in run_doctest(wrong)
