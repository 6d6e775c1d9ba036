"""Writes ``_readonly.pyi``: the read-only types checkers give a `Shared` value.

The stub as a whole: generated for the installed torch and NumPy (keeping the methods the
previous stub declares), compared with them (``--check``), and the command that does either.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
from pathlib import Path
from typing import Final

from ._rendering import COPYING_METHODS, render
from ._stub_sources import functions
from ._view_members import view_members
from ._writing_methods import numpy_writing_methods, torch_writing_methods

# The stub sits beside this package, in aliasguard's own directory.
STUB_PATH: Final = Path(__file__).parent.with_name("_readonly.pyi")


def installed_versions() -> dict[str, str]:
    return {name: importlib.metadata.version(name) for name in ("torch", "numpy")}


def generate(previous: str | None = None) -> str:
    """The stub for the installed torch and NumPy, keeping the methods ``previous`` declares.

    Regenerating on a newer release adds its new writing methods and keeps those it removed, so
    one stub covers every supported release it was generated on (named tensors' ``rename_``
    is gone after torch 2.6, ``_philox_randint_`` arrived in 2.15).
    """
    torch_methods = set(torch_writing_methods())
    numpy_methods = set(numpy_writing_methods())
    if previous is not None:
        kept = stubbed_methods(previous)
        torch_methods |= kept.get("ReadOnlyTensor", set())
        numpy_methods |= kept.get("ReadOnlyArray", set()) - set(COPYING_METHODS)
    views, imports = view_members()
    return render(
        sorted(torch_methods), sorted(numpy_methods), installed_versions(), views, imports
    )


def stubbed_methods(stub_text: str) -> dict[str, set[str]]:
    """The writing methods each class of a generated stub declares (those it marks deprecated,
    not its views): ``{"ReadOnlyTensor": {...}, ...}``."""
    tree = ast.parse(stub_text)
    return {
        node.name: {
            method.name
            for method in functions(node.body)
            if any("deprecated" in ast.unparse(decorator) for decorator in method.decorator_list)
        }
        for node in tree.body
        if isinstance(node, ast.ClassDef)
    }


def missing_methods(stub_text: str) -> dict[str, list[str]]:
    """Writing methods of the installed torch and NumPy that ``stub_text`` does not declare."""
    stubbed = stubbed_methods(stub_text)
    installed = {
        "ReadOnlyTensor": torch_writing_methods(),
        "ReadOnlyArray": numpy_writing_methods(),
    }
    return {
        class_name: [name for name in names if name not in stubbed.get(class_name, set())]
        for class_name, names in installed.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check",
        action="store_true",
        help="list the installed versions' writing methods the stub lacks, instead of writing it",
    )
    arguments = parser.parse_args(argv)
    if arguments.check:
        missing = missing_methods(STUB_PATH.read_text(encoding="utf-8"))
        for class_name, names in missing.items():
            for name in names:
                print(f"{class_name} lacks {name}: run python -m aliasguard._readonly_generate")
        return 1 if any(missing.values()) else 0
    previous = STUB_PATH.read_text(encoding="utf-8") if STUB_PATH.exists() else None
    STUB_PATH.write_text(generate(previous), encoding="utf-8")
    print(f"wrote {STUB_PATH}")
    return 0
