"""One annotation reader: nothing outside it inspects annotations.

The reader is `_annotations` and the modules below it: `_annotation_compat` (how spellings differ
across Python and NumPy releases), `_jaxtyping_compat` (jaxtyping's parse) and `_containers`
(container hints). Every other module asks them, so a spelling one part of the package understands,
all of it does. Each module's source is read with `ast`; the test fails on a call or import of
``typing``'s and ``inspect``'s introspection functions, on an access of the attributes that hold an
annotation's structure, and on an import of the reader's lower-level functions from the modules
that define them (the rest of the package reads through `_annotations` and `ArraySpec`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "aliasguard"

READER: frozenset[str] = frozenset(
    {
        "_annotations",
        "_annotation_compat",
        "_jaxtyping_compat",
        "_containers",
    }
)

#: ``typing``'s and ``inspect``'s introspection functions, called or imported by any name.
INTROSPECTION: frozenset[str] = frozenset(
    {
        "get_origin",
        "get_args",
        "get_type_hints",
        "get_annotations",
    }
)

#: The attributes that hold an annotation's structure (jaxtyping's ``array_type``/``dim_str``).
ATTRIBUTES: frozenset[str] = frozenset(
    {
        "__origin__",
        "__args__",
        "__metadata__",
        "__annotations__",
        "array_type",
        "dim_str",
    }
)

#: The reader's lower-level functions: the rest of the package reads through `_annotations`.
LOWER_FUNCTIONS: frozenset[str] = frozenset(
    {
        "union_members",
        "without_none",
        "spec_of",
        "is_jaxtyping_annotation",
        "ndarray_scalar_type",
        "resolve_alias",
        "runtime_class",
    }
)
LOWER_MODULES: frozenset[str] = READER - {"_annotations"}

#: (module, name) -> why that module may use that name.
ALLOWED: dict[tuple[str, str], str] = {
    ("_report", "get_args"): "lists the values of its own Literal type Outcome, no user annotation",
}


def module_name(path: Path) -> str:
    """The module's dotted name below the package (``_checking._messages``)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def readings(tree: ast.AST) -> list[tuple[int, str]]:
    """Each place the source inspects an annotation itself: (line, the name it uses)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in INTROSPECTION | ATTRIBUTES:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Name) and node.id in INTROSPECTION:
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.ImportFrom):
            lower = (node.module or "").rsplit(".", 1)[-1] in LOWER_MODULES
            found.extend(
                (node.lineno, alias.name)
                for alias in node.names
                if alias.name in INTROSPECTION or (lower and alias.name in LOWER_FUNCTIONS)
            )
        elif isinstance(node, ast.Constant) and node.value in ATTRIBUTES:
            found.append((node.lineno, str(node.value)))  # getattr(hint, "__args__"), a table
    return found


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
OUTSIDE = sorted(name for name in MODULES if name.split(".")[0] not in READER)


def test_the_reader_modules_exist() -> None:
    assert set(MODULES) >= READER, f"missing reader modules: {sorted(READER - set(MODULES))}"
    assert {module for module, _ in ALLOWED} <= set(MODULES)


@pytest.mark.parametrize("name", OUTSIDE)
def test_only_the_reader_inspects_annotations(name: str) -> None:
    path = MODULES[name]
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line} uses {used}"
        for line, used in readings(ast.parse(path.read_text(), str(path)))
        if (name, used) not in ALLOWED
    ]
    assert not found, (
        "only the annotation reader (_annotations and the modules below it) inspects annotations; "
        "ask _annotations instead:\n" + "\n".join(found)
    )
