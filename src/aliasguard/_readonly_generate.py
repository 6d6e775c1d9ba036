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

Run ``python -m aliasguard._readonly_generate`` to rewrite the stub after upgrading torch or NumPy
(the methods the stub already declares are kept, so it covers every release it was generated on);
``--check`` instead lists the writing methods of the installed versions that the stub lacks (the
test suite does the same). Nothing here is imported at run time by the library.
"""

from __future__ import annotations

import argparse
import ast
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
# ruff: noqa: N801, N803
# mypy: disable-error-code="override"
# pyright: reportIncompatibleMethodOverride=false

"""Read-only views of a borrowed tensor or array, seen by type checkers only.

Generated by ``python -m aliasguard._readonly_generate`` from the type stubs of torch {torch} and
NumPy {numpy}: do not edit by hand. Nothing here exists at run time, where ``Shared.value`` is the
real tensor or array.
"""

from typing import Any, TypeVar, final

import numpy as np
import torch
from typing_extensions import Never, deprecated

_ShapeT_co = TypeVar("_ShapeT_co", bound=tuple[Any, ...], covariant=True)
_DTypeT_co = TypeVar("_DTypeT_co", bound=np.dtype[Any], covariant=True)

@final
class ReadOnlyTensorBorrow_use_own_or_clone_or_an_Owned_parameter:
    """What a write into a borrowed tensor gives: nothing a tensor is accepted for."""

@final
class ReadOnlyArrayBorrow_use_own_or_copy_or_an_Owned_parameter:
    """What a write into a borrowed array gives: nothing an array is accepted for."""

class ReadOnlyTensor(torch.Tensor):
    """A borrowed tensor: a ``torch.Tensor`` whose {torch_count} writing methods are errors."""

'''

_ARRAY_CLASS: Final = '''
class ReadOnlyArray(np.ndarray[_ShapeT_co, _DTypeT_co]):
    """A borrowed array: an ``np.ndarray`` whose {numpy_count} writing methods are errors."""

'''


def render(torch_methods: list[str], numpy_methods: list[str], versions: dict[str, str]) -> str:
    """The stub's text for these writing methods."""
    text = _HEADER.format(torch_count=len(torch_methods), **versions)
    text += "\n".join(line for method in torch_methods for line in _method_stub("torch", method))
    text += "\n" + _ARRAY_CLASS.format(numpy_count=len(numpy_methods))
    text += "\n".join(line for method in numpy_methods for line in _method_stub("numpy", method))
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
    return render(sorted(torch_methods), sorted(numpy_methods), installed_versions())


def stubbed_methods(stub_text: str) -> dict[str, set[str]]:
    """The methods each class of a generated stub declares: ``{"ReadOnlyTensor": {...}, ...}``."""
    tree = ast.parse(stub_text)
    return {
        node.name: {method.name for method in _functions(node.body)}
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
