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

from ._command import (
    STUB_PATH as STUB_PATH,
    generate as generate,
    installed_versions as installed_versions,
    main as main,
    missing_methods as missing_methods,
    stubbed_methods as stubbed_methods,
)
from ._view_members import (
    TORCH_VIEWS_BY_HAND as TORCH_VIEWS_BY_HAND,
    VIEW_SCHEMA as VIEW_SCHEMA,
    torch_view_members as torch_view_members,
    view_members as view_members,
)
from ._writing_methods import (
    numpy_writing_methods as numpy_writing_methods,
    torch_writing_methods as torch_writing_methods,
)
