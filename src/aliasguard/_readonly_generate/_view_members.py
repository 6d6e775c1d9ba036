"""The members that return the value's own memory, copied with their library's parameters and a
read-only result: a view of a borrow is a borrow too.

- torch: every ``Tensor`` member that ATen's schema (``native_functions.yaml``, shipped in the
  torch wheel) declares as returning an alias of ``self`` that is not a write, plus
  `TORCH_VIEWS_BY_HAND`, which that schema cannot name;
- NumPy: `NUMPY_VIEWS`, by hand, because NumPy's stub does not say which methods return views.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from ._stub_imports import import_lines, module_names
from ._stub_sources import (
    LIBRARIES,
    class_body,
    declarations,
    declared_name,
    member_names,
    package_directory,
    torch_bodies,
)

#: Tensor members that return ``self``'s memory but that ATen's schema cannot name, and why.
TORCH_VIEWS_BY_HAND: Final = {
    # Indexing is Python's protocol, not an ATen function. Basic indexing gives a view; advanced
    # indexing a copy, which read-only keeps safe.
    "__getitem__": None,
    # Stub attributes whose ATen functions have other names (numpy_T, matrix_H), and ``data``,
    # a detached alias that no schema describes.
    "T": None,
    "H": None,
    "data": None,
    # ``_tensor.py`` iterates with an unannotated ``__iter__``, yielding ``self[0]``, ``self[1]``...
    "__iter__": "def __iter__(self) -> Iterator[ReadOnlyTensor]: ...",
    # Shares the tensor's memory, but as an array: it gives a ReadOnlyArray.
    "numpy": None,
}

#: ndarray members that return a view of the array (or, for ``ravel`` and ``reshape``, possibly
#: the array itself). NumPy's stub returns ``ndarray`` from them without saying it is a view, so
#: the list is NumPy's documentation, by hand; members returning ``Self`` need no entry.
NUMPY_VIEWS: Final = (
    "__getitem__",
    "diagonal",
    "imag",
    "ravel",
    "real",
    "reshape",
    "squeeze",
    "view",
)

#: Where a torch wheel keeps ATen's operator schema, relative to the torch package.
_TORCH_SCHEMA: Final = Path("..", "torchgen", "packaged", "ATen", "native", "native_functions.yaml")

#: A schema line whose one result aliases ``self`` without writing it: ``Tensor(a)`` or a list of
#: them (``split``) from ``Tensor(a) self`` (``Tensor(a -> *)`` for a list); ``Tensor(a!)`` writes.
VIEW_SCHEMA: Final = re.compile(
    r"^- func: (?P<name>\w+)(?:\.\w+)?\(Tensor\(a(?: -> \*)?\) self\b.*\) -> Tensor\(a\)(?:\[\])?$",
    re.MULTILINE,
)


def torch_view_members(torch_directory: Path | None = None) -> list[str]:
    """The installed torch's tensor members that return the tensor's own memory, sorted."""
    root = torch_directory or package_directory("torch")
    schema = (root / _TORCH_SCHEMA).read_text(encoding="utf-8")
    aliases = {match["name"] for match in VIEW_SCHEMA.finditer(schema)}
    members = set[str]().union(*(member_names(body) for body in torch_bodies(root)))
    return sorted((aliases & members) | TORCH_VIEWS_BY_HAND.keys())


class _ReadOnlyReturns(ast.NodeTransformer):
    """Rewrites a return annotation so that the tensors or arrays it names are read-only."""

    def __init__(self, library: str) -> None:
        self.library = library

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if self.library == "torch" and node.id == "Tensor":
            return ast.Name("ReadOnlyTensor")
        if self.library == "numpy" and node.id == "ndarray":
            return ast.Name("ReadOnlyArray")
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        spelled = ast.unparse(node)
        if spelled == "torch.Tensor":
            return ast.Name("ReadOnlyTensor")
        if spelled in ("numpy.ndarray", "np.ndarray"):
            return ast.parse("ReadOnlyArray[Any, np.dtype[Any]]", mode="eval").body
        self.generic_visit(node)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        # ``ndarray[S]`` leaves the dtype to its default, which ReadOnlyArray's parameter lacks.
        if (
            self.library == "numpy"
            and ast.unparse(node.value) == "ndarray"
            and not isinstance(node.slice, ast.Tuple)
        ):
            dtype = ast.parse("np.dtype[Any]", mode="eval").body
            node.slice = ast.Tuple([node.slice, dtype])
        self.generic_visit(node)
        return node


def _read_only_member(library: str, node: ast.FunctionDef | ast.AnnAssign) -> ast.FunctionDef:
    """A view member with its library's parameters and a read-only result, without a body."""
    if isinstance(node, ast.AnnAssign):
        # An attribute (``T: Tensor``) becomes a property: a borrow's view cannot be reassigned.
        text = f"@property\ndef {declared_name(node)}(self) -> {ast.unparse(node.annotation)}: ..."
        parsed = ast.parse(text).body[0]
        assert isinstance(parsed, ast.FunctionDef)
        node = parsed
    returns = ast.parse(ast.unparse(node.returns) if node.returns else "Any", mode="eval").body
    member = copy.copy(node)
    member.body = [ast.Expr(ast.Constant(...))]
    member.returns = _ReadOnlyReturns(library).visit(returns)
    return ast.fix_missing_locations(member)


def _refused_setter(library: str, name: str) -> ast.FunctionDef:
    """A setter no value matches, for a property the library lets one assign (``a.real = 0``
    writes the array): a read-only property cannot override a writable one."""
    sentinel = LIBRARIES[library][3]
    text = f"@{name}.setter\ndef {name}(self, value: {sentinel}, /) -> None: ..."
    parsed = ast.parse(text).body[0]
    assert isinstance(parsed, ast.FunctionDef)
    return parsed


def _view_members(
    library: str, names: Iterable[str], bodies: list[list[ast.stmt]]
) -> list[ast.FunctionDef]:
    """Each member of ``names`` as the first of ``bodies`` that declares it has it."""
    members: list[ast.FunctionDef] = []
    for name in names:
        hand_written = TORCH_VIEWS_BY_HAND.get(name) if library == "torch" else None
        if hand_written:
            parsed = ast.parse(hand_written).body[0]
            assert isinstance(parsed, ast.FunctionDef)
            members.append(_read_only_member(library, parsed))
            continue
        for body in bodies:
            declared = [node for node in declarations(body) if declared_name(node) == name]
            if declared:
                members.extend(_read_only_member(library, node) for node in declared)
                if any(
                    isinstance(node, ast.FunctionDef)
                    and node.name == name
                    and any(ast.unparse(d) == f"{name}.setter" for d in node.decorator_list)
                    for node in body
                ):
                    members.append(_refused_setter(library, name))
                break
    return members


def view_members() -> tuple[dict[str, list[ast.FunctionDef]], list[str]]:
    """The installed libraries' view members, read-only, and the imports their signatures need."""
    torch_root = package_directory("torch")
    numpy_root = package_directory("numpy")
    numpy_stub = numpy_root / "__init__.pyi"
    numpy_bodies = [
        class_body(numpy_stub, "ndarray"),
        class_body(numpy_stub, "_ArrayOrScalarCommon"),
    ]
    views = {
        "torch": _view_members("torch", torch_view_members(torch_root), torch_bodies(torch_root)),
        "numpy": _view_members("numpy", NUMPY_VIEWS, numpy_bodies),
    }
    scopes = {
        "torch": module_names(torch_root / "_C" / "__init__.pyi", "torch._C"),
        "numpy": module_names(numpy_stub, "numpy"),
    }
    return views, import_lines(views, scopes)
