"""install_import_hook: annotated functions of watched packages become checked on import."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import aliasguard
from aliasguard import AliasingError, AnnotationError

PACKAGE = textwrap.dedent(
    """
    from __future__ import annotations

    from jaxtyping import Float
    from torch import Tensor

    from aliasguard import Owned, Shared


    def clip(x: Shared[Float[Tensor, "n"]]) -> None:
        x.value.clamp_(0, 1)  # the adversarial-robustness-toolbox #2262 bug: writes a borrow


    def total(x: Shared[Float[Tensor, "n"]]) -> float:
        return float(x.value.sum())


    def untouched(x: int) -> int:
        return x + 1


    class Model:
        def predict(self, x: Shared[Float[Tensor, "n"]]) -> Owned[Float[Tensor, "n"]]:
            return Owned(x.value.float())  # float() on float32 returns x itself

        @staticmethod
        def scale(x: Shared[Float[Tensor, "n"]]) -> Owned[Float[Tensor, "n"]]:
            return Owned(x.value * 2)
    """
)


@pytest.fixture
def package(tmp_path: Path) -> Iterator[str]:
    name = f"hooked_{tmp_path.name.replace('-', '_')}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / name / "stages.py").write_text(PACKAGE)
    sys.path.insert(0, str(tmp_path))
    try:
        yield name
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]


@pytest.mark.aliasguard_unsanitized  # @checked must report the write, not the sanitizer
def test_hook_checks_annotated_functions_and_methods(package: str) -> None:
    with aliasguard.install_import_hook(package) as hook:
        stages = __import__(f"{package}.stages", fromlist=["stages"])
    assert hook.instrumented == [
        f"{package}.stages.clip",
        f"{package}.stages.total",
        f"{package}.stages.Model.predict",
        f"{package}.stages.Model.scale",
    ]
    written = np.array([-1.0, 0.5, 2.0], dtype=np.float32)
    with pytest.raises(
        AliasingError,
        match=r"clip\(\): its Shared parameter 'x' \(borrow rule\) changed while lent",
    ):
        stages.clip(aliasguard.share(written))
    source = np.array([-1.0, 0.5, 2.0], dtype=np.float32)
    assert stages.total(aliasguard.share(source)) == pytest.approx(1.5)
    assert written.tolist() == [0.0, 0.5, 1.0]  # the version check reports after the write
    with pytest.raises(AliasingError, match="freshness"):
        stages.Model().predict(aliasguard.share(source))
    assert stages.Model.scale(aliasguard.share(source)).value.tolist() == [-2.0, 1.0, 4.0]
    with pytest.raises(AnnotationError, match="shape rule"):
        stages.total(aliasguard.share(np.zeros((2, 2), dtype=np.float32)))
    assert not hasattr(stages.untouched, "__aliasguard_checked__")


def test_hook_instruments_modules_imported_before_it(package: str) -> None:
    stages = __import__(f"{package}.stages", fromlist=["stages"])
    assert not hasattr(stages.clip, "__aliasguard_checked__")
    hook = aliasguard.install_import_hook([package])
    hook.uninstall()
    assert getattr(stages.clip, "__aliasguard_checked__", False)


def test_uninstalled_hook_leaves_later_imports_alone(package: str) -> None:
    hook = aliasguard.install_import_hook(f" {package} , ")
    hook.uninstall()
    stages = __import__(f"{package}.stages", fromlist=["stages"])
    assert not hasattr(stages.clip, "__aliasguard_checked__")
    assert hook.packages == (package,)


def test_hook_rejects_an_empty_package_list() -> None:
    with pytest.raises(ValueError, match="no package names"):
        aliasguard.install_import_hook(" , ")


MORE_SHAPES = textwrap.dedent(
    """
    from __future__ import annotations

    from typing import TYPE_CHECKING

    from jaxtyping import Float
    from torch import Tensor

    from aliasguard import Owned, Shared

    if TYPE_CHECKING:
        from collections.abc import Sequence


    class logged(property):
        reads = 0

        def __get__(self, instance, owner=None):
            logged.reads += 1
            return super().__get__(instance, owner)


    class Outer:
        @logged
        def logged_latest(self) -> Owned[Float[Tensor, "n"]]:
            return Owned(LATEST.clone())

        @logged_latest.setter
        def logged_latest(self, value: Shared[Float[Tensor, "n"]]) -> None:
            del value

        class Inner:
            def clip(self, x: Shared[Float[Tensor, "n"]]) -> None:
                x.value.clamp_(0, 1)

        @property
        def latest(self) -> Owned[Float[Tensor, "n"]]:
            return Owned(LATEST)  # one buffer handed out by every read


    def only_for_checkers(x: Shared[Float[Tensor, "n"]], names: Sequence[str]) -> None:
        del x, names


    def batches(x: Shared[Float[Tensor, "n"]]):
        yield x  # a generator: @checked refuses it, and the module must still import
    """
)


@pytest.mark.aliasguard_unsanitized  # @checked must report the write, not the sanitizer
def test_nested_classes_and_properties_are_checked_and_unreadable_hints_listed(
    package: str, tmp_path: Path
) -> None:
    import torch

    (tmp_path / package / "shapes.py").write_text(MORE_SHAPES)
    with aliasguard.install_import_hook(package) as hook:
        shapes = __import__(f"{package}.shapes", fromlist=["shapes"])
    setattr(shapes, "LATEST", torch.zeros(3))  # noqa: B010  # a module made at run time
    assert hook.instrumented == [
        f"{package}.shapes.Outer.logged_latest",  # getter and setter: listed once
        f"{package}.shapes.Outer.Inner.clip",
        f"{package}.shapes.Outer.latest",
    ]
    outer: type = shapes.Outer
    assert type(vars(outer)["logged_latest"]) is shapes.logged  # its own class kept
    assert shapes.Outer().logged_latest.value.shape == (3,)
    assert shapes.logged.reads == 1
    with pytest.raises(AnnotationError, match="kind rule"):
        shapes.Outer().logged_latest = torch.zeros(3)
    assert [name for name, _ in hook.skipped] == [
        f"{package}.shapes.only_for_checkers",
        f"{package}.shapes.batches",
    ]
    assert "NameError" in hook.skipped[0][1]
    assert "coroutine or generator" in hook.skipped[1][1]
    with pytest.raises(
        AliasingError,
        match=r"clip\(\): its Shared parameter 'x' \(borrow rule\) changed while lent",
    ):
        shapes.Outer.Inner().clip(aliasguard.share(np.full(3, 2.0, dtype=np.float32)))
    first = shapes.Outer().latest
    with pytest.raises(AliasingError, match="returned earlier, which is still alive"):
        _ = shapes.Outer().latest
    del first


@pytest.mark.aliasguard_unsanitized  # @checked must report the write, not the sanitizer
def test_a_package_imported_before_the_hook_has_its_reexports_checked(
    package: str, tmp_path: Path
) -> None:
    (tmp_path / package / "__init__.py").write_text("from .stages import clip\n")
    imported = __import__(package)  # as a conftest.py would, before the plugin's hook
    with aliasguard.install_import_hook(package):
        pass
    with pytest.raises(
        AliasingError,
        match=r"clip\(\): its Shared parameter 'x' \(borrow rule\) changed while lent",
    ):
        imported.clip(aliasguard.share(np.full(3, 2.0, dtype=np.float32)))
