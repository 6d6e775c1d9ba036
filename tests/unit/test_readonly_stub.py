"""The generated read-only stub covers every writing method of the installed torch and NumPy."""

from __future__ import annotations

import importlib.util
import re
import sys

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
