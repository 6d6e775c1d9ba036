"""Writes ``_readonly.pyi``: the read-only types checkers give a `Shared` value.

``Shared[Tensor].value`` is, to mypy and pyright, a ``ReadOnlyTensor`` and
``Shared[np.ndarray[S, D]].value`` a ``ReadOnlyArray[S, D]``: subclasses that pass wherever a tensor
or an array is accepted, but on which every method that writes the value is an error. Which methods
write is read from the installed libraries' own stubs, never listed by hand:

- torch: every method of ``torch._C.TensorBase`` (``torch/_C/__init__.pyi``) and ``torch.Tensor``
  (``torch/_tensor.py``) whose name ends in a single underscore (torch's in-place convention:
  ``add_``, ``copy_``, ``resize_``, ``set_``, ``share_memory_``, ``requires_grad_``), plus the
  augmented operators and the mutating protocols below;
- NumPy: every method of ``ndarray`` and its base ``_ArrayOrScalarCommon`` (``numpy/__init__.pyi``)
  whose every overload returns ``None`` (``fill``, ``put``, ``resize``, ``sort``, ``partition``,
  ``setflags``, ``setfield``, ``__setitem__``, ``__setstate__``), except `READING_NONE_METHODS`,
  plus the augmented operators.

An augmented operator is a ``__i<op>__`` the class defines next to its ``__<op>__``.

A view of a borrow is a borrow too, so the members that return the value's own memory return the
read-only type, with the library's own parameters (its overloads copied, their returns rewritten):

- torch: every ``Tensor`` member that ATen's schema (``torchgen/packaged/ATen/native/
  native_functions.yaml``, shipped in the torch wheel) declares as returning ``Tensor(a)`` or
  ``Tensor(a)[]`` from a ``Tensor(a) self``, i.e. an alias of ``self`` that is not a write
  (``view``, ``transpose``, ``select``, ``expand``, ``split``, ``detach``, ``real``, ``mT``...),
  plus `TORCH_VIEWS_BY_HAND`, which that schema cannot name;
- NumPy: `NUMPY_VIEWS`, by hand, because NumPy's stub does not say which methods return views
  (those returning ``Self``, such as ``transpose`` and ``T``, are read-only already).

The schema also marks as aliases the members that return ``self`` when no conversion is needed
(``reshape``, ``flatten``, ``ravel``, ``contiguous``, ``to``): they return the read-only type as
well, since a write into a result that may be the borrow is a bug whichever it turns out to be.

Run ``python -m aliasguard._readonly_generate`` to rewrite the stub after upgrading torch or NumPy
(the methods the stub already declares are kept, so it covers every release it was generated on);
``--check`` instead lists the writing methods of the installed versions that the stub lacks (the
test suite does the same). Nothing here is imported at run time by the library.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import copy
import functools
import importlib.metadata
import importlib.util
import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

STUB_PATH: Final = Path(__file__).with_name("_readonly.pyi")

#: NumPy methods that return ``None`` but only read the array: they write a file.
READING_NONE_METHODS: Final = frozenset({"dump", "tofile", "__array_finalize__"})

#: NumPy methods that return fresh memory but whose stub returns ``Self``, which would keep a
#: borrow's copy read-only: the read-only type gives them the plain array type back.
COPYING_METHODS: Final = ("__copy__", "__deepcopy__", "copy")

#: Protocols that change an object in place whatever the library: item assignment and deletion,
#: and restoring pickled state into a live object.
MUTATING_PROTOCOLS: Final = frozenset({"__setitem__", "__delitem__", "__setstate__"})

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

_AUGMENTED: Final = re.compile(r"__i(?P<operator>[a-z]+)__")

#: What each library's read-only type is called, and the copy method its messages recommend.
_LIBRARIES: Final = {
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


def _package_directory(name: str) -> Path:
    """Where an installed package lives, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        msg = f"{name} is not installed: the read-only stub is generated from its type stubs."
        raise ModuleNotFoundError(msg)
    return Path(next(iter(spec.submodule_search_locations)))


def _class_body(path: Path, class_name: str) -> list[ast.stmt]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return node.body
    msg = f"{path} defines no class {class_name}: the generator needs updating for this version."
    raise LookupError(msg)


def _functions(body: Iterable[ast.stmt]) -> Iterator[ast.FunctionDef]:
    """The methods of a class body, property setters and deleters left out."""
    for node in body:
        if isinstance(node, ast.FunctionDef) and not any(
            isinstance(decorator, ast.Attribute) and decorator.attr in ("setter", "deleter")
            for decorator in node.decorator_list
        ):
            yield node


def _method_names(body: Iterable[ast.stmt]) -> set[str]:
    """Every method a class body defines, those bound by assignment (``__ipow__ = ...``) too."""
    names = {method.name for method in _functions(body)}
    for node in body:
        if isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return names


def _augmented_operators(names: set[str]) -> set[str]:
    found: set[str] = set()
    for name in names:
        match = _AUGMENTED.fullmatch(name)
        if match and f"__{match['operator']}__" in names:
            found.add(name)
    return found


def torch_writing_methods(torch_directory: Path | None = None) -> list[str]:
    """The installed torch's tensor methods that write the tensor, sorted."""
    root = torch_directory or _package_directory("torch")
    names = _method_names(_class_body(root / "_C" / "__init__.pyi", "TensorBase"))
    names |= _method_names(_class_body(root / "_tensor.py", "Tensor"))
    in_place = {name for name in names if name.endswith("_") and not name.endswith("__")}
    return sorted(in_place | _augmented_operators(names) | (names & MUTATING_PROTOCOLS))


def numpy_writing_methods(numpy_directory: Path | None = None) -> list[str]:
    """The installed NumPy's ndarray methods that write the array, sorted."""
    stub = (numpy_directory or _package_directory("numpy")) / "__init__.pyi"
    bodies = [_class_body(stub, "_ArrayOrScalarCommon"), _class_body(stub, "ndarray")]
    methods = [method for body in bodies for method in _functions(body)]
    returns: dict[str, set[str]] = {}
    for method in methods:
        returned = ast.unparse(method.returns) if method.returns else "None"
        returns.setdefault(method.name, set()).add(returned)
    returning_none = {name for name, types in returns.items() if types == {"None"}}
    names = _method_names(bodies[0]) | _method_names(bodies[1])
    return sorted(
        (returning_none - READING_NONE_METHODS)
        | _augmented_operators(names)
        | (names & MUTATING_PROTOCOLS)
    )


#: Where a torch wheel keeps ATen's operator schema, relative to the torch package.
_TORCH_SCHEMA: Final = Path("..", "torchgen", "packaged", "ATen", "native", "native_functions.yaml")

#: A schema line whose one result aliases ``self`` without writing it: ``Tensor(a)`` or a list of
#: them (``split``) from ``Tensor(a) self`` (``Tensor(a -> *)`` for a list); ``Tensor(a!)`` writes.
VIEW_SCHEMA: Final = re.compile(
    r"^- func: (?P<name>\w+)(?:\.\w+)?\(Tensor\(a(?: -> \*)?\) self\b.*\) -> Tensor\(a\)(?:\[\])?$",
    re.MULTILINE,
)


def _torch_bodies(root: Path) -> list[list[ast.stmt]]:
    """The class bodies that declare a tensor's members, the stub's first."""
    return [
        _class_body(root / "_C" / "__init__.pyi", "TensorBase"),
        _class_body(root / "_tensor.py", "Tensor"),
    ]


def _member_names(body: Iterable[ast.stmt]) -> set[str]:
    """Methods and annotated attributes (``T: Tensor``) of a class body."""
    names = _method_names(body)
    names.update(
        node.target.id
        for node in body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    )
    return names


def torch_view_members(torch_directory: Path | None = None) -> list[str]:
    """The installed torch's tensor members that return the tensor's own memory, sorted."""
    root = torch_directory or _package_directory("torch")
    schema = (root / _TORCH_SCHEMA).read_text(encoding="utf-8")
    aliases = {match["name"] for match in VIEW_SCHEMA.finditer(schema)}
    members = set[str]().union(*(_member_names(body) for body in _torch_bodies(root)))
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
        text = f"@property\ndef {_declared_name(node)}(self) -> {ast.unparse(node.annotation)}: ..."
        parsed = ast.parse(text).body[0]
        assert isinstance(parsed, ast.FunctionDef)
        node = parsed
    returns = ast.parse(ast.unparse(node.returns) if node.returns else "Any", mode="eval").body
    member = copy.copy(node)
    member.body = [ast.Expr(ast.Constant(...))]
    member.returns = _ReadOnlyReturns(library).visit(returns)
    return ast.fix_missing_locations(member)


def _declarations(body: Iterable[ast.stmt]) -> Iterator[ast.FunctionDef | ast.AnnAssign]:
    """A class body's methods (setters left out) and annotated attributes."""
    body = list(body)
    yield from _functions(body)
    for node in body:
        if isinstance(node, ast.AnnAssign):
            yield node


def _declared_name(node: ast.FunctionDef | ast.AnnAssign) -> str:
    return node.name if isinstance(node, ast.FunctionDef) else ast.unparse(node.target)


def _refused_setter(library: str, name: str) -> ast.FunctionDef:
    """A setter no value matches, for a property the library lets one assign (``a.real = 0``
    writes the array): a read-only property cannot override a writable one."""
    sentinel = _LIBRARIES[library][3]
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
            declared = [node for node in _declarations(body) if _declared_name(node) == name]
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


@functools.cache
def _module_names(path: Path, module: str) -> dict[str, tuple[str, str | None]]:
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
    if top not in _LIBRARIES:
        return None
    base = _package_directory(top).joinpath(*rest.split(".") if rest else ())
    candidates: tuple[Path, ...] = (base / "__init__.pyi", base / "__init__.py")
    if rest:
        candidates += (base.with_suffix(".pyi"), base.with_suffix(".py"))
    return next((path for path in candidates if path.is_file()), None)


def _origin(module: str, name: str) -> tuple[str, str | None]:
    """Where a name a module imports is defined: checkers in strict mode take no implicit
    re-export (``torch.types`` imports ``bool as _bool`` from builtins, and does not export it)."""
    path = _source_file(module)
    found = _module_names(path, module).get(name) if path else None
    if found is None or found == (module, name) or found[1] is None:
        return module, name
    return _origin(found[0], found[1])


#: Names the stub defines or imports itself; a view member's use of them means the same thing.
_STUB_NAMES: Final = frozenset(
    {
        *(names[3] for names in _LIBRARIES.values()),
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


def _imports(
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
                        msg = f"{library}'s stub uses {node.id!r}, which the generator cannot place"
                        raise LookupError(msg)
                    if needed.setdefault(node.id, origin) != origin:
                        msg = f"{node.id!r} means two things in torch's and NumPy's stubs"
                        raise LookupError(msg)
    lines: list[str] = []
    for name, (module, original) in sorted(needed.items(), key=lambda item: (item[1][0], item[0])):
        if original is None:
            lines.append(f"import {module}" if module == name else f"import {module} as {name}")
        else:
            alias = "" if original == name else f" as {name}"
            lines.append(f"from {module} import {original}{alias}")
    return lines


def _member_lines(functions: list[ast.FunctionDef]) -> list[str]:
    lines: list[str] = []
    for function in functions:
        lines += [f"    @{ast.unparse(decorator)}" for decorator in function.decorator_list]
        returns = ast.unparse(function.returns) if function.returns else "Any"
        lines.append(f"    def {function.name}({ast.unparse(function.args)}) -> {returns}: ...")
    return lines


_OPERATOR_SYMBOLS: Final = {
    "add": "+", "and": "&", "div": "/", "floordiv": "//", "lshift": "<<", "matmul": "@",
    "mod": "%", "mul": "*", "or": "|", "pow": "**", "rshift": ">>", "sub": "-",
    "truediv": "/", "xor": "^",
}  # fmt: skip


def _write_named(method: str) -> str:
    """How a user spells the write: ``x[...] = ...`` and ``x += ...`` rather than their dunders."""
    if method == "__setitem__":
        return "x[...] = ..."
    match = _AUGMENTED.fullmatch(method)
    if match:
        return f"x {_OPERATOR_SYMBOLS.get(match['operator'], match['operator'])}= ..."
    return f"{method}()"


def _message(library: str, method: str) -> str:
    """The deprecation text: what happened, why, and the fix, as every aliasguard error does."""
    _, noun, copy_method, _ = _LIBRARIES[library]
    return (
        f"{_write_named(method)} writes a Shared value, a read-only borrow of another {noun}'s "
        f"memory: the write would change the lender's data. Write into a copy (aliasguard.own(x) "
        f"or x.{copy_method}()), or take an Owned parameter."
    )


def _method_stub(library: str, method: str) -> list[str]:
    """One writing method: a call to it is an error, whatever its arguments.

    The lines are laid out as ``ruff format`` lays them out, so the committed stub is both
    formatted and byte for byte what this generator writes.
    """
    _, noun, copy_method, sentinel = _LIBRARIES[library]
    lines = ["    @deprecated(", "        " + json.dumps(_message(library, method)), "    )"]
    if method == "__setitem__":
        # Item assignment passes no keywords: the value itself must fail to match.
        lines += [
            "    def __setitem__(",
            f"        self, key: object, value: {sentinel}, /",
            "    ) -> None: ...",
        ]
    elif _AUGMENTED.fullmatch(method):
        # A failing __i<op>__ makes pyright fall back to __<op>__ silently; a result that is no
        # tensor or array cannot be assigned back, and names what to do.
        lines += [
            f"    def {method}(",
            "        self, other: object, /",
            f"    ) -> {sentinel}: ...",
        ]
    else:
        # What the library's method returns, so that one mistake makes one error, not a cascade.
        returned = "torch.Tensor" if library == "torch" else "None"
        lines += [
            f"    def {method}(",
            "        self,",
            "        *args: object,",
            f"        this_{noun}_is_a_read_only_borrow__use_own_or_{copy_method}_or_an_Owned_parameter: Never,",
            "        **kwargs: object,",
            f"    ) -> {returned}: ...",
        ]
    return lines


_HEADER: Final = '''\
# Every method here overrides its library's on purpose, with a signature no call matches, and
# the names that carry the advice into checkers' messages are not in the usual case.
# Views copy their library's signatures, with its private type aliases, as its stub lays them out.
# ruff: noqa: N801, N802, N803, I001
# mypy: disable-error-code="override, overload-overlap"
# pyright: reportIncompatibleMethodOverride=false, reportIncompatibleVariableOverride=false
# pyright: reportPrivateUsage=false, reportOverlappingOverload=false

"""Read-only views of a borrowed tensor or array, seen by type checkers only.

Generated by ``python -m aliasguard._readonly_generate`` from the type stubs of torch {torch} and
NumPy {numpy}: do not edit by hand. Nothing here exists at run time, where ``Shared.value`` is the
real tensor or array.
"""

from typing import Any, TypeVar, final

import numpy as np
import torch
from typing_extensions import Never, deprecated
{imports}
_ShapeT_co = TypeVar("_ShapeT_co", bound=tuple[Any, ...], covariant=True)
_DTypeT_co = TypeVar("_DTypeT_co", bound=np.dtype[Any], covariant=True)

@final
class ReadOnlyTensorBorrow_use_own_or_clone_or_an_Owned_parameter:
    """What a write into a borrowed tensor gives: nothing a tensor is accepted for."""

@final
class ReadOnlyArrayBorrow_use_own_or_copy_or_an_Owned_parameter:
    """What a write into a borrowed array gives: nothing an array is accepted for."""

class ReadOnlyTensor(torch.Tensor):
    """A borrowed tensor: a ``torch.Tensor`` whose {torch_count} writing methods are errors and
    whose {torch_views} view members return borrows."""

'''

_ARRAY_CLASS: Final = '''
class ReadOnlyArray(np.ndarray[_ShapeT_co, _DTypeT_co]):
    """A borrowed array: an ``np.ndarray`` whose {numpy_count} writing methods are errors and
    whose {numpy_views} view members return borrows."""

'''


def _views_block(functions: list[ast.FunctionDef]) -> str:
    """The copied view members, which the formatter leaves as the generator writes them."""
    lines = ["    # Views of a borrow are borrows.", "    # fmt: off", *_member_lines(functions)]
    return "\n".join([*lines, "    # fmt: on"])


def render(
    torch_methods: list[str],
    numpy_methods: list[str],
    versions: dict[str, str],
    views: dict[str, list[ast.FunctionDef]],
    imports: list[str],
) -> str:
    """The stub's text for these writing methods and view members."""
    text = _HEADER.format(
        torch_count=len(torch_methods),
        torch_views=len({view.name for view in views["torch"]}),
        imports="".join(f"{line}\n" for line in imports),
        **versions,
    )
    text += "\n".join(line for method in torch_methods for line in _method_stub("torch", method))
    text += "\n" + _views_block(views["torch"]) + "\n"
    text += _ARRAY_CLASS.format(
        numpy_count=len(numpy_methods), numpy_views=len({view.name for view in views["numpy"]})
    )
    text += "\n".join(line for method in numpy_methods for line in _method_stub("numpy", method))
    text += "\n" + _views_block(views["numpy"])
    for method in COPYING_METHODS:
        text += (
            f"\n    def {method}(self, *args: Any, **kwargs: Any) "
            "-> np.ndarray[_ShapeT_co, _DTypeT_co]: ..."
        )
    return text + "\n"


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


def view_members() -> tuple[dict[str, list[ast.FunctionDef]], list[str]]:
    """The installed libraries' view members, read-only, and the imports their signatures need."""
    torch_root = _package_directory("torch")
    numpy_root = _package_directory("numpy")
    numpy_stub = numpy_root / "__init__.pyi"
    numpy_bodies = [
        _class_body(numpy_stub, "ndarray"),
        _class_body(numpy_stub, "_ArrayOrScalarCommon"),
    ]
    views = {
        "torch": _view_members("torch", torch_view_members(torch_root), _torch_bodies(torch_root)),
        "numpy": _view_members("numpy", NUMPY_VIEWS, numpy_bodies),
    }
    scopes = {
        "torch": _module_names(torch_root / "_C" / "__init__.pyi", "torch._C"),
        "numpy": _module_names(numpy_stub, "numpy"),
    }
    return views, _imports(views, scopes)


def stubbed_methods(stub_text: str) -> dict[str, set[str]]:
    """The writing methods each class of a generated stub declares (those it marks deprecated,
    not its views): ``{"ReadOnlyTensor": {...}, ...}``."""
    tree = ast.parse(stub_text)
    return {
        node.name: {
            method.name
            for method in _functions(node.body)
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


if __name__ == "__main__":
    sys.exit(main())
