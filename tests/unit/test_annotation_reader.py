"""The annotation reader and the errors `@checked` gives on inputs jaxtyping's suite does not cover.

The jaxtyping spellings themselves (``Float[Any, ...]``, f-string axes, ``#n+1``, unions across
arguments, bindings inside the body) are tested against jaxtyping in ``tests/conformance``.
"""

from __future__ import annotations

import gc
import threading
import typing
import warnings
import weakref
from typing import Any

import numpy as np
import pytest
import torch
from jaxtyping import Float
from torch import Tensor

import aliasguard
from aliasguard import AliasingError, AnnotationError, Owned, Shared, checked
from aliasguard._annotations import (
    ARRAY,
    CONTAINER,
    OTHER,
    OWNED,
    SHARED,
    involves_contract,
    names_an_array,
    read,
)


def _strategies() -> Any:
    """``aliasguard.strategies``, or a skip where Hypothesis (the fuzz extra) is not installed."""
    return pytest.importorskip("aliasguard.strategies", reason="needs the fuzz extra")


@pytest.mark.parametrize(
    ("hint", "kind", "optional", "contract"),
    [
        (Shared[Float[Tensor, "n"]], SHARED, False, True),
        (Owned[Float[Tensor, "n"]] | None, OWNED, True, True),
        (Shared[Float[Tensor, "n"]] | Shared[Float[np.ndarray, "n"]], SHARED, False, True),
        (Float[Tensor, "n"] | Float[np.ndarray, "n"], ARRAY, False, True),
        (Float[np.ndarray | Tensor, "n"], ARRAY, False, True),
        (np.ndarray, ARRAY, False, False),  # an array class alone names no contract to enforce
        (tuple[Shared[Float[Tensor, " n"]], int], CONTAINER, False, True),
        (Shared[Float[Tensor, "n"]] | Owned[Float[Tensor, "n"]], OTHER, False, True),
        (int | None, OTHER, True, False),
    ],
)
def test_each_spelling_reads_as_one_kind(
    hint: object, kind: int, optional: bool, contract: bool
) -> None:
    reading = read(hint)
    assert (reading.kind, reading.optional) == (kind, optional)
    assert involves_contract(hint) == contract


def test_a_union_of_wrappers_reads_as_one_wrapper_of_the_union() -> None:
    reading = read(Shared[Float[Tensor, "n"]] | Shared[Float[np.ndarray, "m"]])
    assert reading.spec is not None
    assert reading.spec.members is not None
    assert [member.description for member in reading.spec.members] == [
        "Float[Tensor, 'n']",
        "Float[ndarray, 'm']",
    ]


def test_names_an_array_sees_union_members() -> None:
    assert names_an_array(Shared[Float[Tensor, "n"]] | None)
    assert names_an_array(int | Float[Tensor, "n"])
    assert not names_an_array(int | str)


def test_strategies_draw_the_builtins_symbolic_axes_call() -> None:
    strategies = _strategies()
    from hypothesis import given, settings

    # min(n,2) calls a builtin: only n is an axis to draw.
    @settings(max_examples=20, database=None)
    @given(strategies.from_annotation(Float[Tensor, "n min(n,2)"]))
    def drawn(value: Tensor) -> None:
        n, m = value.shape
        assert m == min(n, 2)

    drawn()


def test_strategies_refuse_an_f_string_axis_clearly() -> None:
    strategies = _strategies()
    from hypothesis import given, settings
    from hypothesis.errors import InvalidArgument

    @settings(max_examples=1, database=None)
    @given(strategies.from_annotation(Float[Tensor, "{dim}"]))
    def drawn(value: Tensor) -> None: ...

    with pytest.raises(InvalidArgument, match=r"names the call's arguments \(an f-string axis\)"):
        drawn()


def test_public_classes_keep_their_type_hints() -> None:
    # __init__ names every public object's module "aliasguard", where Any is not defined.
    for name in aliasguard.__all__:
        public = getattr(aliasguard, name)
        if isinstance(public, type):
            typing.get_type_hints(public)  # raises NameError when a hint cannot be evaluated
    assert "Any" not in vars(aliasguard)


def test_public_functions_keep_their_type_hints() -> None:
    strategies = pytest.importorskip("aliasguard.strategies")  # the fuzz extra
    # fuzz's strategies parameter names Hypothesis's SearchStrategy, which `import aliasguard`
    # does not import (Hypothesis is optional); every other public function's hints evaluate.
    unevaluated = {"fuzz"}
    for module in (aliasguard, strategies):
        for name in module.__all__:
            public = getattr(module, name)
            if callable(public) and not isinstance(public, type) and name not in unevaluated:
                typing.get_type_hints(public)  # raises when a hint cannot be evaluated


def test_a_strided_nested_tensor_is_a_shape_error_not_an_internal_one() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: nested tensors are a prototype
        nested_api: Any = torch.nested  # its signature is untyped
        nested = nested_api.nested_tensor([torch.ones(2, 3), torch.ones(4, 3)])

    @checked
    def f(x: Float[Tensor, "b c"]) -> None: ...

    with pytest.raises(AnnotationError, match=r"breaks the shape rule.*nested, 2 tensors"):
        f(nested)


def test_an_object_that_fakes_the_wrapper_class_is_a_kind_error() -> None:
    # isinstance() believes __class__; an object can claim any class with a property.
    impostor: Any = type("Impostor", (), {"__class__": property(lambda _: Shared)})()
    claims_to_be_shared = isinstance(impostor, Shared)  # not narrowed: it is not one
    assert claims_to_be_shared

    @checked
    def f(x: Shared[Float[Tensor, " n"]]) -> None: ...

    with pytest.raises(AnnotationError, match=r"breaks the kind rule.*got a bare Impostor"):
        f(typing.cast("Any", impostor))


@pytest.mark.aliasguard_unsanitized  # @checked's own borrow rule is under test
def test_a_write_from_another_thread_is_reported_as_a_change_while_lent() -> None:
    source = torch.zeros(3)
    started, written = threading.Event(), threading.Event()

    @checked
    def reader(x: Shared[Float[Tensor, " n"]]) -> None:
        started.set()
        assert written.wait(timeout=10)

    def writer() -> None:
        assert started.wait(timeout=10)
        source.add_(1)
        written.set()

    thread = threading.Thread(target=writer)
    thread.start()
    with pytest.raises(AliasingError) as info:
        reader(aliasguard.Shared(source))
    thread.join(timeout=10)
    message = str(info.value)
    assert "changed while lent" in message
    assert "another thread" in message
    assert "wrote into" not in message  # the reader did not write


def test_an_unparsable_string_annotation_is_refused_at_decoration() -> None:
    def f(x: Any) -> None: ...

    f.__annotations__ = {"x": "Float[Tensor, 'b c'"}
    with pytest.raises(
        TypeError, match=r"^@checked cannot read the annotations .*SyntaxError.* not a Python expr"
    ):
        checked(f)


def test_a_quoted_annotation_jaxtyping_cannot_build_is_refused_by_aliasguard() -> None:
    def f(x: Any) -> None: ...

    f.__annotations__ = {"x": "Float[Tensor, '*a *b']"}
    with pytest.raises(
        TypeError, match=r"^@checked cannot evaluate the annotations .*ValueError.* Fix the annot"
    ):
        checked(f)


def test_only_the_local_names_the_annotations_use_are_kept() -> None:
    class Big:
        pass

    def make() -> tuple[Any, weakref.ref[Big]]:
        big = Big()

        class Local:
            pass

        def f(x: Local) -> int:  # a string annotation: this module defers them
            return 1

        return checked(f), weakref.ref(big)

    decorated, big_alive = make()
    gc.collect()
    assert big_alive() is None  # the scope's other locals are not kept alive
    with pytest.raises(AnnotationError, match="breaks the type rule"):
        decorated(1)


@pytest.mark.parametrize("kind", [staticmethod, classmethod])
def test_no_type_check_on_top_of_a_checked_static_or_class_method_turns_it_off(
    kind: type,
) -> None:
    def method(*args: Any) -> int:
        return len(args)

    method.__annotations__ = {"args": Float[Tensor, " n"]}
    holder: Any = type("Holder", (), {"method": typing.no_type_check(checked(kind(method)))})
    assert holder.method("not a tensor") >= 1  # unchecked: no AnnotationError
