"""Which methods write the value, read from the installed libraries' own stubs.

- torch: every method of ``torch._C.TensorBase`` and ``torch.Tensor`` whose name ends in a single
  underscore (torch's in-place convention), plus the augmented operators and the mutating
  protocols;
- NumPy: every method of ``ndarray`` and ``_ArrayOrScalarCommon`` whose every overload returns
  ``None``, except `READING_NONE_METHODS`, plus the augmented operators and the mutating protocols.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Final

from ._stub_sources import class_body, functions, method_names, package_directory

#: NumPy methods that return ``None`` but only read the array: they write a file.
READING_NONE_METHODS: Final = frozenset({"dump", "tofile", "__array_finalize__"})

#: Protocols that change an object in place whatever the library: item assignment and deletion,
#: and restoring pickled state into a live object.
MUTATING_PROTOCOLS: Final = frozenset({"__setitem__", "__delitem__", "__setstate__"})

#: An augmented operator (``__iadd__``): it writes when the class also defines its ``__add__``.
AUGMENTED: Final = re.compile(r"__i(?P<operator>[a-z]+)__")


def _augmented_operators(names: set[str]) -> set[str]:
    found: set[str] = set()
    for name in names:
        match = AUGMENTED.fullmatch(name)
        if match and f"__{match['operator']}__" in names:
            found.add(name)
    return found


def torch_writing_methods(torch_directory: Path | None = None) -> list[str]:
    """The installed torch's tensor methods that write the tensor, sorted."""
    root = torch_directory or package_directory("torch")
    names = method_names(class_body(root / "_C" / "__init__.pyi", "TensorBase"))
    names |= method_names(class_body(root / "_tensor.py", "Tensor"))
    in_place = {name for name in names if name.endswith("_") and not name.endswith("__")}
    return sorted(in_place | _augmented_operators(names) | (names & MUTATING_PROTOCOLS))


def numpy_writing_methods(numpy_directory: Path | None = None) -> list[str]:
    """The installed NumPy's ndarray methods that write the array, sorted."""
    stub = (numpy_directory or package_directory("numpy")) / "__init__.pyi"
    bodies = [class_body(stub, "_ArrayOrScalarCommon"), class_body(stub, "ndarray")]
    methods = [method for body in bodies for method in functions(body)]
    returns: dict[str, set[str]] = {}
    for method in methods:
        returned = ast.unparse(method.returns) if method.returns else "None"
        returns.setdefault(method.name, set()).add(returned)
    returning_none = {name for name, types in returns.items() if types == {"None"}}
    names = method_names(bodies[0]) | method_names(bodies[1])
    return sorted(
        (returning_none - READING_NONE_METHODS)
        | _augmented_operators(names)
        | (names & MUTATING_PROTOCOLS)
    )
