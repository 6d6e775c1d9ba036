"""The package's floors hold: no module imports from a floor above its own, and no imports go round in a circle.

The floors (CONTRIBUTING.md says why): the core (wrappers, memory, dtypes, converters, the
annotation reader, the compatibility modules) knows nothing of the contracts (checking, the
sanitizer, borrows, the raw routes, the import hook), and the contracts know nothing of the faces
(strategies, fuzz, report, the command line, the pytest plugin). Each module's imports are read
with `ast`, function-level and ``TYPE_CHECKING`` ones included: a lazy import that only hides a
circle is still a circle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "aliasguard"
PLUGIN = "_aliasguard_pytest_plugin"

CORE, CONTRACTS, FACES = 0, 1, 2
FLOOR_NAMES = {CORE: "core", CONTRACTS: "contracts", FACES: "faces"}

# Each module's floor, by its first name below the package (a folder counts as one module).
FLOORS: dict[str, int] = {
    "_errors": CORE,
    "_python_compat": CORE,
    "_torch_compat": CORE,
    "_annotation_compat": CORE,
    "_jaxtyping_compat": CORE,
    "_optional": CORE,
    "_dtypes": CORE,
    "_temp_folders": CORE,
    "_host_memory": CORE,
    "_wrappers": CORE,
    "_memory": CORE,
    "_conversion_messages": CORE,
    "_convert": CORE,
    "_containers": CORE,
    "_annotations": CORE,
    "_articles": CORE,
    "_describing": CORE,
    "_frames": CORE,
    "_numpy_locks": CONTRACTS,
    "_lent_views": CONTRACTS,
    "_sanitizer": CONTRACTS,
    "_checking": CONTRACTS,
    "_import_hook": CONTRACTS,
    "strategies": FACES,
    "_fuzz": FACES,
    "_report": FACES,
    "_report_cases": FACES,
    "_run": FACES,
    "_cli": FACES,
    "__main__": FACES,
    "_readonly_generate": FACES,
    "__init__": FACES,
}


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    imported: str  # dotted module name inside the package
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    paths = [*sorted((SOURCE / PACKAGE).rglob("*.py")), SOURCE / f"{PLUGIN}.py"]
    return {module_name(path): path for path in paths}


def resolve(importer: str, path: Path, node: ast.ImportFrom) -> list[str]:
    """The package modules one ``from ... import ...`` names (a name may be a submodule)."""
    if node.level == 0:
        base = node.module or ""
    else:
        package = importer.split(".") if path.name == "__init__.py" else importer.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, *([node.module] if node.module else [])])
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def named_modules(candidates: list[str], known: set[str]) -> list[str]:
    """``from a import b`` names module ``a.b`` where that is a module, else module ``a``."""
    base, *members = candidates
    submodules = [member for member in members if member in known]
    return submodules if len(submodules) == len(members) else [base, *submodules]


def imports_of(name: str, path: Path, known: set[str]) -> list[Import]:
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            candidates = named_modules(resolve(name, path, node), known)
        else:
            continue
        found.extend(
            Import(name, candidate, node.lineno)
            for candidate in candidates
            if candidate in known and candidate != name
        )
    return found


def floor_of(module: str) -> int:
    if module == PLUGIN:
        return FACES
    parts = module.split(".")
    return FLOORS[parts[1] if len(parts) > 1 else "__init__"]


MODULES = package_modules()
IMPORTS = [
    found for name, path in MODULES.items() for found in imports_of(name, path, set(MODULES))
]


def test_every_module_has_a_floor() -> None:
    unplaced = [name for name in MODULES if name != PLUGIN and name.count(".") >= 1]
    missing = sorted({name.split(".")[1] for name in unplaced} - set(FLOORS))
    assert not missing, f"modules with no floor in FLOORS: {missing}; add each to FLOORS"
    placed = {name.split(".")[1] for name in unplaced} | {"__init__"}
    assert set(FLOORS) <= placed, f"FLOORS names modules that do not exist: {set(FLOORS) - placed}"


def test_no_module_imports_from_a_floor_above() -> None:
    upward = [
        f"{found.importer}:{found.line} ({FLOOR_NAMES[floor_of(found.importer)]}) imports "
        f"{found.imported} ({FLOOR_NAMES[floor_of(found.imported)]})"
        for found in IMPORTS
        if floor_of(found.imported) > floor_of(found.importer)
    ]
    assert not upward, "\n".join(upward)


def test_the_plugin_does_not_import_the_package_at_module_level() -> None:
    # pytest loads the plugin in every run of every project that installs aliasguard.
    tree = ast.parse((SOURCE / f"{PLUGIN}.py").read_text())
    top = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    named = [alias.name for node in top if isinstance(node, ast.Import) for alias in node.names]
    named += [node.module or "" for node in top if isinstance(node, ast.ImportFrom)]
    assert not [name for name in named if name.split(".")[0] in (PACKAGE, "torch", "numpy")]


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for successor in sorted(graph.get(node, ())):
            if state.get(successor) == 1:
                return [*path[path.index(successor) :], successor]
            if successor not in state and (circle := visit(successor)):
                return circle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (circle := visit(node)):
            return circle
    return None


def test_no_import_circles() -> None:
    graph: dict[str, set[str]] = {}
    for found in IMPORTS:
        graph.setdefault(found.importer, set()).add(found.imported)
    circle = find_circle(graph)
    assert circle is None, "import circle: " + " -> ".join(circle or [])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_and_functions_stay_small(name: str) -> None:
    path = MODULES[name]
    text = path.read_text()
    lines = text.count("\n")
    assert lines <= 600, f"{path.name} has {lines} lines; split it by concern"
    long = [
        f"{node.name} ({(node.end_lineno or node.lineno) - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (node.end_lineno or node.lineno) - node.lineno + 1 > 80
    ]
    assert not long, f"{path.name}: functions over 80 lines: {long}"
