"""Every code example in the documentation runs, so no page can drift from the code.

Each page of ``docs/`` and the README is one test. Its examples run in the order they appear, in a
namespace of their own (a fresh module per page, shared by the page's blocks), with the page's own
temporary directory as the working directory and on ``sys.path``. The conventions, for authors:

- A ```` ```python ```` block is run as a script. Its tracebacks point at the page's lines.
- A ```` ```pycon ```` block is a doctest: each ``>>>`` line runs and its output is compared
  (``ELLIPSIS`` and ``NORMALIZE_WHITESPACE`` on).
- A block whose leading comments include ``# raises NAME`` (or ``# raises NAME: TEXT``) must
  raise ``NAME`` from its last statement, with ``TEXT`` in the message; every statement before the
  last must run cleanly. ``NAME`` is looked up in the page's namespace, in ``aliasguard`` and in
  the builtins, or imported when dotted (``hypothesis.errors.InvalidArgument``).
- Every block runs inside ``aliasguard.sanitize()``, as the rest of the suite does. A block with a
  leading comment ``# unsanitized`` (or ``# unsanitized: why``) runs outside it: for examples that
  show what happens when nothing guards a borrow.
- A block with a ``title="path"`` attribute is a file: it is written to ``path`` under the page's
  directory instead of being run (``title="my_pipeline/steps.py"``); later blocks import or run it.
- A ```` ```console ```` block whose first line is ``$ pytest ...`` or ``$ aliasguard ...`` is run
  in a subprocess in the page's directory (with that directory on ``PYTHONPATH``). The lines after
  the command are the expected output, compared like a doctest's (so ``...`` stands for the parts
  that change between runs). Other console blocks (``pip install``) are shown, not run.
- Blocks in any other language (``toml``, ``ini``, ``text``) are shown, not run, unless titled.

The tests at the end run the runner on small made-up pages to show that each convention can fail.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import dataclasses
import doctest
import importlib
import os
import re
import shlex
import subprocess
import sys
import types
from collections.abc import Generator
from pathlib import Path

import pytest

import aliasguard

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: Markdown files that pages include (pymdownx.snippets) rather than pages of their own.
SNIPPETS = frozenset({"benchmarks_table.md", "reliability_counts.md"})
PAGES = [
    *(page for page in sorted(DOCS.glob("*.md")) if page.name not in SNIPPETS),
    ROOT / "README.md",
]
#: Pages with nothing to run: the API reference renders docstrings, which test_docstrings.py runs;
#: the benchmark, reliability and configuration pages show measurements and how they are made; the
#: conformance page is generated from tests/conformance, which runs its cases.
PAGES_WITHOUT_EXAMPLES = frozenset(
    {"api.md", "benchmarks.md", "reliability.md", "configurations.md", "conformance.md"}
)
#: The optional modules each page's examples use: the page runs only where they are installed.
PAGE_EXTRAS: dict[str, tuple[str, ...]] = {
    "strategies.md": ("hypothesis",),
    "faq.md": ("ml_dtypes",),  # bfloat16 shared zero-copy
    "quickstart.md": ("ml_dtypes",),
}
DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
COMMAND_TIMEOUT_SECONDS = 300
RUNNABLE_COMMANDS = ("pytest", "aliasguard")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)$")
_TITLE = re.compile(r"""title\s*=\s*["']([^"']+)["']""")
_UNSANITIZED = re.compile(r"#\s*unsanitized\s*(?::.*)?")
_RAISES = re.compile(r"#\s*raises\s+(?P<name>[\w.]+)\s*(?::\s*(?P<text>.*\S))?\s*$")


@dataclasses.dataclass(frozen=True)
class Block:
    """One fenced code block: its language, attributes, text and first line in the page (1-based)."""

    language: str
    info: str
    text: str
    line: int

    @property
    def title(self) -> str | None:
        match = _TITLE.search(self.info)
        return match.group(1) if match else None

    @property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0].strip()

    @property
    def leading_comments(self) -> list[str]:
        """The comment lines before the first line of code: where directives go."""
        comments: list[str] = []
        for line in self.text.split("\n"):
            if not line.strip().startswith("#"):
                break
            comments.append(line.strip())
        return comments

    @property
    def raises(self) -> re.Match[str] | None:
        return next(filter(None, map(_RAISES.fullmatch, self.leading_comments)), None)

    @property
    def unsanitized(self) -> bool:
        return any(_UNSANITIZED.fullmatch(line) for line in self.leading_comments)


def extract_blocks(markdown: str) -> list[Block]:
    """The fenced code blocks of a Markdown page, indented ones (in admonitions, tabs) included."""
    blocks: list[Block] = []
    lines = markdown.split("\n")
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence = opening.group("indent"), opening.group("fence")
        info = opening.group("info").strip()
        body: list[str] = []
        index += 1
        while index < len(lines):
            closing = _FENCE.match(lines[index])
            if (
                closing is not None
                and closing.group("fence")[0] == fence[0]
                and len(closing.group("fence")) >= len(fence)
                and not closing.group("info").strip()
            ):
                break
            body.append(lines[index].removeprefix(indent))
            index += 1
        else:
            msg = f"unclosed {fence} fence opened on line {index - len(body)}"
            raise ValueError(msg)
        start = index - len(body) + 1  # 1-based line of the block's first line of code
        language = info.split()[0].lstrip(".{").rstrip("}") if info else ""
        blocks.append(Block(language, info, "\n".join(body) + "\n", start))
        index += 1
    return blocks


class ExampleError(AssertionError):
    """An example did not do what its page says."""


def _resolve_exception(name: str, namespace: dict[str, object]) -> type[BaseException]:
    candidate: object
    if "." in name:
        module_name, _, attribute = name.rpartition(".")
        candidate = getattr(importlib.import_module(module_name), attribute)
    elif name in namespace:
        candidate = namespace[name]
    elif hasattr(aliasguard, name):
        candidate = getattr(aliasguard, name)
    else:
        candidate = getattr(builtins, name, None)
    if not (isinstance(candidate, type) and issubclass(candidate, BaseException)):
        msg = f"'# raises {name}' names no exception class"
        raise ExampleError(msg)
    return candidate


def _compile(statements: list[ast.stmt], where: str) -> types.CodeType:
    return compile(ast.Module(body=statements, type_ignores=[]), where, "exec")


def _run_python(block: Block, namespace: dict[str, object], page: Path) -> None:
    # Blank lines in front, so that tracebacks name the page's own line numbers.
    source = "\n" * (block.line - 1) + block.text
    tree = ast.parse(source, filename=str(page))
    raises = block.raises
    if raises is None:
        exec(_compile(tree.body, str(page)), namespace)
        return
    if not tree.body:
        msg = f"{page.name}:{block.line}: a '# raises' block has no statement to raise"
        raise ExampleError(msg)
    expected = _resolve_exception(raises.group("name"), namespace)
    exec(_compile(tree.body[:-1], str(page)), namespace)
    last = tree.body[-1]
    try:
        exec(_compile([last], str(page)), namespace)
    except expected as error:
        text = raises.group("text")
        if text is not None and text not in str(error):
            msg = (
                f"{page.name}:{last.lineno}: raised {type(error).__name__} as the page says, but "
                f"its message lacks {text!r}:\n{error}"
            )
            raise ExampleError(msg) from error
        return
    msg = f"{page.name}:{last.lineno}: the page says this raises {expected.__name__}; it did not"
    raise ExampleError(msg)


def _run_pycon(block: Block, namespace: dict[str, object], page: Path) -> None:
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.text, namespace, page.name, str(page), block.line - 1)
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=DOCTEST_FLAGS)
    result = runner.run(test, out=report.append, clear_globs=False)
    if result.failed:
        raise ExampleError("".join(report))


def _run_console(block: Block, directory: Path, page: Path) -> None:
    command_line, _, expected = block.text.partition("\n")
    arguments = shlex.split(command_line.removeprefix("$").strip())
    program = arguments[0]
    # The interpreter running this suite, so the commands see the same installation.
    if program == "pytest":
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *arguments[1:]]
    else:
        command = [sys.executable, "-m", program, *arguments[1:]]
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(directory), os.environ.get("PYTHONPATH", "")]),
    }
    completed = subprocess.run(
        command,
        cwd=directory,
        env=environment,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    )
    actual = completed.stdout + completed.stderr
    checker = doctest.OutputChecker()
    if not checker.check_output(expected, actual, DOCTEST_FLAGS):
        msg = (
            f"{page.name}:{block.line - 1}: `{command_line}` printed something else "
            f"(exit status {completed.returncode}).\n--- page says:\n{expected}\n--- got:\n{actual}"
        )
        raise ExampleError(msg)


def _is_runnable_console(block: Block) -> bool:
    if block.language != "console" or not block.first_line.startswith("$ "):
        return False
    return block.first_line.removeprefix("$ ").split()[0] in RUNNABLE_COMMANDS


@contextlib.contextmanager
def _page_environment(directory: Path, module_name: str) -> Generator[types.ModuleType, None, None]:
    """A fresh module to run a page in, with ``directory`` as working directory and on sys.path."""
    module = types.ModuleType(module_name)
    module.__file__ = str(directory / f"{module_name}.py")
    modules_before = set(sys.modules)
    path_before = list(sys.path)
    cwd_before = Path.cwd()
    sys.modules[module_name] = module
    sys.path.insert(0, str(directory))
    os.chdir(directory)
    try:
        yield module
    finally:
        os.chdir(cwd_before)
        sys.path[:] = path_before
        # Modules the page imported from its own directory must not leak into other pages.
        for name in set(sys.modules) - modules_before:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if name == module_name or origin.startswith(str(directory)):
                del sys.modules[name]


def run_page(page: Path, directory: Path) -> int:
    """Run every example of ``page`` as its conventions say; returns how many blocks ran.

    Raises:
        ExampleError: an example did not do what the page says (other exceptions propagate).
    """
    blocks = extract_blocks(page.read_text(encoding="utf-8"))
    module_name = "docs_" + re.sub(r"\W", "_", page.stem)
    ran = 0
    with _page_environment(directory, module_name) as module:
        namespace = module.__dict__
        for block in blocks:
            if block.title is not None:
                target = directory / block.title
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.text, encoding="utf-8")
                continue
            if block.language in ("python", "py", "pycon"):
                guard = contextlib.nullcontext() if block.unsanitized else aliasguard.sanitize()
                with guard:
                    if block.language == "pycon":
                        _run_pycon(block, namespace, page)
                    else:
                        _run_python(block, namespace, page)
            elif _is_runnable_console(block):
                _run_console(block, directory, page)
            else:
                continue
            ran += 1
    return ran


# The runner enters sanitize() itself, block by block: the suite-wide one would cover every block.
@pytest.mark.aliasguard_unsanitized
@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_page_examples_run(page: Path, tmp_path: Path) -> None:
    for module in PAGE_EXTRAS.get(page.name, ()):
        pytest.importorskip(module, reason=f"{page.name} shows an extra that needs {module}")
    ran = run_page(page, tmp_path)
    if page.name not in PAGES_WITHOUT_EXAMPLES:
        assert ran > 0, f"{page.name} has no example that runs: a broken fence would look like this"


def test_every_page_is_in_the_site_navigation() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {page.name for page in DOCS.glob("*.md")} - SNIPPETS
    missing = sorted(name for name in pages if f" {name}" not in config)
    assert not missing, f"pages missing from mkdocs.yml's nav: {missing}"


# ----------------------------------------------------------------------------------------------
# The runner itself: each convention catches what it should.


def _write_page(directory: Path, text: str) -> Path:
    page = directory / "page.md"
    page.write_text(text, encoding="utf-8")
    return page


def test_extract_blocks_finds_indented_and_titled_fences() -> None:
    markdown = (
        "intro\n\n```python\nx = 1\n```\n\n!!! note\n\n    ```pycon\n    >>> x\n    1\n    ```\n\n"
        '```python title="pkg/mod.py"\ny = 2\n```\n\n````markdown\n```python\nnot a block\n```\n````\n'
    )
    blocks = extract_blocks(markdown)
    assert [(b.language, b.line, b.title) for b in blocks] == [
        ("python", 4, None),
        ("pycon", 10, None),
        ("python", 15, "pkg/mod.py"),
        ("markdown", 19, None),
    ]
    assert blocks[1].text == ">>> x\n1\n"


@pytest.mark.aliasguard_unsanitized
@pytest.mark.parametrize(
    ("page_text", "complaint"),
    [
        ("```python\nassert 1 == 2\n```\n", AssertionError),
        ("```python\n# raises ValueError\nx = 1\n```\n", ExampleError),
        ("```python\n# raises KeyError\nraise ValueError('no')\n```\n", ValueError),
        (
            "```python\n# raises ValueError: right words\nraise ValueError('wrong')\n```\n",
            ExampleError,
        ),
        ("```python\n# raises ValueError\nint('x')\nx = 1\n```\n", ValueError),
        ("```pycon\n>>> 1 + 1\n3\n```\n", ExampleError),
        (
            "```python\nimport numpy as np, aliasguard\nt = aliasguard.share(np.ones(2)).value\n"
            "t.add_(1)\n```\n",
            aliasguard.AliasingError,
        ),
        ("```console\n$ aliasguard --help\nnothing like this\n```\n", ExampleError),
    ],
    ids=[
        "python",
        "raises-nothing",
        "raises-other",
        "raises-other-text",
        "raises-early",
        "pycon",
        "sanitized",
        "console",
    ],
)
def test_runner_reports_broken_examples(
    page_text: str, complaint: type[BaseException], tmp_path: Path
) -> None:
    with pytest.raises(complaint):
        run_page(_write_page(tmp_path, page_text), tmp_path)


@pytest.mark.aliasguard_unsanitized
def test_runner_accepts_what_the_conventions_allow(tmp_path: Path) -> None:
    page = _write_page(
        tmp_path,
        '```python title="helper_mod.py"\nVALUE = 41\n```\n\n'
        "```python\nfrom helper_mod import VALUE\n```\n\n"
        "```pycon\n>>> VALUE + 1\n42\n```\n\n"
        "```python\n# raises AnnotationError: kind rule\nimport numpy as np, aliasguard\n"
        "@aliasguard.checked\ndef f(x: aliasguard.Owned[np.ndarray]) -> None: ...\n"
        "f(np.ones(2))\n```\n\n"
        "```python\n# unsanitized: on purpose\nt = aliasguard.share(np.ones(2)).value\nt.add_(1)\n```\n\n"
        "```console\n$ pip install aliasguard\n```\n\n"
        "```console\n$ aliasguard --help\nusage: aliasguard ...\n```\n",
    )
    assert run_page(page, tmp_path) == 5
    assert "helper_mod" not in sys.modules, "a page's own modules must not leak into other pages"
