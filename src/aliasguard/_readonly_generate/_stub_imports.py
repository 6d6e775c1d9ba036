"""The import lines the copied view members need: each name their signatures use, traced to the
module that defines it.

Checkers in strict mode take no implicit re-export, so a name is imported from where it is
defined, not from the module the library's stub imported it through.
"""

from __future__ import annotations

import ast
import builtins
import functools
from pathlib import Path
from typing import Final

from ._stub_sources import LIBRARIES, package_directory


@functools.cache
def module_names(path: Path, module: str) -> dict[str, tuple[str, str | None]]:
    """What each top-level name of a module is: ``(module, name)``, or ``(module, None)`` for a
    module itself, following imports to the module they come from."""
    package = module if path.stem == "__init__" else module.rpartition(".")[0]
    names: dict[str, tuple[str, str | None]] = {}
    statements = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while statements:
        node = statements.pop(0)
        if isinstance(node, ast.If | ast.Try):
            statements[:0] = node.body
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            source = ".".join(part for part in (base, node.module or "") if part)
            for alias in node.names:
                names.setdefault(alias.asname or alias.name, (source, alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names.setdefault(alias.asname or alias.name, (alias.name, None))
        elif isinstance(node, ast.ClassDef | ast.FunctionDef):
            names.setdefault(node.name, (module, node.name))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    names.setdefault(target.id, (module, target.id))
    return names


def _source_file(module: str) -> Path | None:
    """The stub or source of a torch or NumPy module, found without importing it."""
    top, _, rest = module.partition(".")
    if top not in LIBRARIES:
        return None
    base = package_directory(top).joinpath(*rest.split(".") if rest else ())
    candidates: tuple[Path, ...] = (base / "__init__.pyi", base / "__init__.py")
    if rest:
        candidates += (base.with_suffix(".pyi"), base.with_suffix(".py"))
    return next((path for path in candidates if path.is_file()), None)


def _origin(module: str, name: str) -> tuple[str, str | None]:
    """Where a name a module imports is defined: checkers in strict mode take no implicit
    re-export (``torch.types`` imports ``bool as _bool`` from builtins, and does not export it)."""
    path = _source_file(module)
    found = module_names(path, module).get(name) if path else None
    if found is None or found == (module, name) or found[1] is None:
        return module, name
    return _origin(found[0], found[1])


#: Names the stub defines or imports itself; a view member's use of them means the same thing.
_STUB_NAMES: Final = frozenset(
    {
        *(names[3] for names in LIBRARIES.values()),
        "Any",
        "Never",
        "np",
        "torch",
        "ReadOnlyTensor",
        "ReadOnlyArray",
        "_ShapeT_co",
        "_DTypeT_co",
    }
)


def import_lines(
    members: dict[str, list[ast.FunctionDef]], scopes: dict[str, dict[str, tuple[str, str | None]]]
) -> list[str]:
    """The import lines the copied members' annotations and decorators need."""
    needed: dict[str, tuple[str, str | None]] = {}
    for library, functions in members.items():
        for function in functions:
            parts = [function.args, *function.decorator_list]
            if function.returns is not None:
                parts.append(function.returns)
            for part in parts:
                for node in ast.walk(part):
                    # A setter's decorator (``@real.setter``) names the member itself.
                    if not isinstance(node, ast.Name) or node.id in {*_STUB_NAMES, function.name}:
                        continue
                    origin = scopes[library].get(node.id)
                    if origin is None and hasattr(builtins, node.id):
                        continue
                    if origin is not None and origin[1] is not None:
                        origin = _origin(origin[0], origin[1])
                    if origin is None:
                        raise LookupError(
                            f"{library}'s stub uses {node.id!r}, which the generator cannot place"
                        )
                    if needed.setdefault(node.id, origin) != origin:
                        raise LookupError(
                            f"{node.id!r} means two things in torch's and NumPy's stubs"
                        )
    lines: list[str] = []
    for name, (module, original) in sorted(needed.items(), key=lambda item: (item[1][0], item[0])):
        if original is None:
            lines.append(f"import {module}" if module == name else f"import {module} as {name}")
        else:
            alias = "" if original == name else f" as {name}"
            lines.append(f"from {module} import {original}{alias}")
    return lines
