"""Reading the installed torch's and NumPy's stubs and sources, without importing either.

The generator reads class bodies as syntax trees: ``torch._C.TensorBase`` (``torch/_C/
__init__.pyi``), ``torch.Tensor`` (``torch/_tensor.py``), and NumPy's ``ndarray`` and its base
``_ArrayOrScalarCommon`` (``numpy/__init__.pyi``).
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

#: What each library's read-only type is called, and the copy method its messages recommend.
LIBRARIES: Final = {
    "torch": (
        "ReadOnlyTensor",
        "tensor",
        "clone",
        "ReadOnlyTensorBorrow_use_own_or_clone_or_an_Owned_parameter",
    ),
    "numpy": (
        "ReadOnlyArray",
        "array",
        "copy",
        "ReadOnlyArrayBorrow_use_own_or_copy_or_an_Owned_parameter",
    ),
}


def package_directory(name: str) -> Path:
    """Where an installed package lives, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"{name} is not installed: the read-only stub is generated from its type stubs."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def class_body(path: Path, class_name: str) -> list[ast.stmt]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return node.body
    raise LookupError(
        f"{path} defines no class {class_name}: the generator needs updating for this version."
    )


def functions(body: Iterable[ast.stmt]) -> Iterator[ast.FunctionDef]:
    """The methods of a class body, property setters and deleters left out."""
    for node in body:
        if isinstance(node, ast.FunctionDef) and not any(
            isinstance(decorator, ast.Attribute) and decorator.attr in ("setter", "deleter")
            for decorator in node.decorator_list
        ):
            yield node


def method_names(body: Iterable[ast.stmt]) -> set[str]:
    """Every method a class body defines, those bound by assignment (``__ipow__ = ...``) too."""
    names = {method.name for method in functions(body)}
    for node in body:
        if isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return names


def torch_bodies(root: Path) -> list[list[ast.stmt]]:
    """The class bodies that declare a tensor's members, the stub's first."""
    return [
        class_body(root / "_C" / "__init__.pyi", "TensorBase"),
        class_body(root / "_tensor.py", "Tensor"),
    ]


def member_names(body: Iterable[ast.stmt]) -> set[str]:
    """Methods and annotated attributes (``T: Tensor``) of a class body."""
    names = method_names(body)
    names.update(
        node.target.id
        for node in body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    )
    return names


def declarations(body: Iterable[ast.stmt]) -> Iterator[ast.FunctionDef | ast.AnnAssign]:
    """A class body's methods (setters left out) and annotated attributes."""
    body = list(body)
    yield from functions(body)
    for node in body:
        if isinstance(node, ast.AnnAssign):
            yield node


def declared_name(node: ast.FunctionDef | ast.AnnAssign) -> str:
    return node.name if isinstance(node, ast.FunctionDef) else ast.unparse(node.target)
