"""The generated read-only stub covers every writing method of the installed torch and NumPy."""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from packaging.version import Version

import aliasguard
from aliasguard import _readonly_generate as generator
from aliasguard._wrappers import Owned, Shared
from versions import installed

COMMITTED = generator.STUB_PATH.read_text(encoding="utf-8")


#: The releases the committed stub was generated from, as its docstring names them.
STUB_RELEASES = re.search(r"torch (?P<torch>[\d.]+)\S* and\s+NumPy (?P<numpy>[\d.]+)", COMMITTED)
assert STUB_RELEASES is not None, "the stub no longer names the releases it was generated from"


def older_than_the_stub() -> str | None:
    """Which installed library predates the stub's: its writing methods may since be gone."""
    assert STUB_RELEASES is not None
    for name in ("torch", "numpy"):
        if installed(name) < Version(STUB_RELEASES[name]):
            return f"{name} {installed(name)} predates the stub's {STUB_RELEASES[name]}"
    return None


def test_the_stub_declares_every_writing_method_of_the_installed_libraries() -> None:
    missing = generator.missing_methods(COMMITTED)
    older = older_than_the_stub()
    if older is not None and any(missing.values()):
        # Methods a later release removed (named tensors' rename_ after 2.6): a known gap of the
        # static check on old releases, not a method that newer ones added.
        pytest.skip(f"{older}; the stub lacks its removed methods {missing}")
    assert missing == {"ReadOnlyTensor": [], "ReadOnlyArray": []}, (
        "the installed torch or NumPy has writing methods the read-only stub lacks: "
        "run python -m aliasguard._readonly_generate"
    )


def test_a_method_missing_from_the_stub_is_reported() -> None:
    without_add = re.sub(r"\n    def add_\(", "\n    def not_a_torch_method_(", COMMITTED)
    without_fill = re.sub(r"\n    def fill\(", "\n    def not_a_numpy_method(", without_add)
    before = generator.missing_methods(COMMITTED)
    after = generator.missing_methods(without_fill)
    added = {name: sorted(set(after[name]) - set(before[name])) for name in after}
    assert added == {"ReadOnlyTensor": ["add_"], "ReadOnlyArray": ["fill"]}


def test_the_stub_is_the_generators_output_for_the_versions_it_names() -> None:
    versions = generator.installed_versions()
    if f"torch {versions['torch']} and\nNumPy {versions['numpy']}:" not in COMMITTED:
        pytest.skip("the stub was generated from other torch/NumPy versions than these")
    assert generator.generate(COMMITTED) == COMMITTED


def test_torch_writers_are_found_and_readers_are_not() -> None:
    methods = set(generator.torch_writing_methods())
    writers = {"add_", "copy_", "zero_", "index_put_", "resize_", "set_", "share_memory_"}
    writers |= {"requires_grad_", "detach_", "__setitem__", "__iadd__", "__itruediv__"}
    assert writers <= methods
    assert not {"add", "clone", "sum", "view", "__add__", "__getitem__", "__init__"} & methods


def test_numpy_writers_are_found_and_readers_are_not() -> None:
    methods = set(generator.numpy_writing_methods())
    writers = {"fill", "put", "resize", "sort", "partition", "setflags", "setfield"}
    writers |= {"__setitem__", "__iadd__", "__imatmul__"}
    assert writers <= methods
    assert not {"copy", "sum", "dump", "tofile", "__array_finalize__", "__index__"} & methods


def test_check_mode_passes_for_the_committed_stub(capsys: pytest.CaptureFixture[str]) -> None:
    if older_than_the_stub() is not None and any(generator.missing_methods(COMMITTED).values()):
        pytest.skip(f"{older_than_the_stub()}: see the test above")
    assert generator.main(["--check"]) == 0
    assert capsys.readouterr().out == ""


def test_at_run_time_the_value_is_the_real_tensor_or_array() -> None:
    assert isinstance(Shared.__dict__["value"], property)
    assert "value" not in Owned.__dict__
    assert type(aliasguard.share(np.zeros(3, dtype=np.float32)).value) is torch.Tensor
    assert type(aliasguard.share(torch.zeros(3)).value) is np.ndarray
    # The read-only types exist for checkers only: there is no module to import.
    assert importlib.util.find_spec("aliasguard._readonly") is None
    assert "aliasguard._readonly" not in sys.modules


def test_torch_views_are_read_from_atens_schema_and_copies_are_not() -> None:
    views = set(generator.torch_view_members())
    from_schema = {"view", "view_as", "transpose", "permute", "narrow", "select", "expand"}
    from_schema |= {"squeeze", "unsqueeze", "unflatten", "diagonal", "unfold", "as_strided"}
    from_schema |= {"detach", "real", "imag", "mT", "mH", "split", "chunk", "unbind", "reshape"}
    assert from_schema <= views
    assert set(generator.TORCH_VIEWS_BY_HAND) <= views
    copies = {"clone", "add", "sum", "index_select", "masked_select", "__add__", "detach_"}
    assert not copies & views


def test_the_view_schema_pattern_tells_aliases_from_writes_and_copies() -> None:
    schema = "\n".join(
        (
            "- func: transpose.int(Tensor(a) self, int dim0, int dim1) -> Tensor(a)",
            "- func: split.Tensor(Tensor(a -> *) self, SymInt split_size, int dim=0) -> Tensor(a)[]",
            "- func: transpose_(Tensor(a!) self, int dim0, int dim1) -> Tensor(a!)",
            "- func: clone(Tensor self, *, MemoryFormat? memory_format=None) -> Tensor",
            "- func: _make_dual(Tensor(a) primal, Tensor tangent, int level) -> Tensor(a)",
        )
    )
    found = [match["name"] for match in generator.VIEW_SCHEMA.finditer(schema)]
    assert found == ["transpose", "split"]


def test_views_keep_the_librarys_parameters() -> None:
    versions = generator.installed_versions()
    if f"torch {versions['torch']} and\nNumPy {versions['numpy']}:" not in COMMITTED:
        # The generator reads the stubs of the releases it is run on (torch 2.6's spell an
        # ellipsis it does not place); the committed stub names the ones it was made from.
        pytest.skip("the stub was generated from other torch/NumPy versions than these")
    views, _ = generator.view_members()
    stub = Path(torch.__file__).with_name("_C") / "__init__.pyi"
    (tensor_base,) = [
        node
        for node in ast.parse(stub.read_text(encoding="utf-8")).body
        if isinstance(node, ast.ClassDef) and node.name == "TensorBase"
    ]
    declared = [node for node in tensor_base.body if isinstance(node, ast.FunctionDef)]
    for name in ("view", "narrow", "split", "__getitem__"):
        copied = [ast.unparse(view.args) for view in views["torch"] if view.name == name]
        original = [ast.unparse(method.args) for method in declared if method.name == name]
        assert copied == original != []
    for view in views["torch"]:
        returned = ast.unparse(view.returns) if view.returns else ""
        assert "ReadOnly" in returned, f"{view.name} returns {returned}"
    # No view gives a plain ndarray back; an integer index gives a scalar (Any), `Self` is the
    # read-only type already, and assigning `real` or `imag` is refused.
    returns = {ast.unparse(view.returns) for view in views["numpy"] if view.returns}
    assert any("ReadOnlyArray" in returned for returned in returns)
    assert not [returned for returned in returns if "ndarray" in returned]
    assert [
        view.name
        for view in views["numpy"]
        if "real.setter" in map(ast.unparse, view.decorator_list)
    ] == ["real"]


def test_the_writing_methods_a_stub_declares_are_not_its_views() -> None:
    stubbed = generator.stubbed_methods(COMMITTED)
    assert "view" not in stubbed["ReadOnlyTensor"]
    assert "__getitem__" not in stubbed["ReadOnlyArray"]
    assert {"add_", "fill", "__setitem__"} <= stubbed["ReadOnlyTensor"] | stubbed["ReadOnlyArray"]
