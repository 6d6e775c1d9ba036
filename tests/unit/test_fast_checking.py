"""`@checked`'s generated call path: taken for the common signatures, and indistinguishable from the
general checker in every verdict, error message and side effect (the agreement properties are in
tests/property/test_fast_path_agreement.py).
"""

# pyright: reportPrivateUsage=false
# jaxtyping's shape strings read as names to ruff.
# ruff: noqa: F821

from __future__ import annotations

import gc
import typing
import warnings
import weakref
from typing import Any

import numpy as np
import pytest
import torch
from jaxtyping import Float, Shaped
from torch import Tensor

from aliasguard import (
    AliasingError,
    AnnotationError,
    Owned,
    Shared,
    checked,
    sanitize,
)
from aliasguard._checking._checker import Checker
from aliasguard._lent_views import kept_view
from fast_path import decorated_both_ways
from helpers import run_python

# The generated path is the one taken outside a sanitizer (inside one, every call is general).
pytestmark = pytest.mark.aliasguard_unsanitized


@pytest.fixture
def general_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the calls that reach the general checker (functions decorated after this fixture)."""
    seen: list[str] = []
    original = Checker.call

    def recording(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        seen.append(self.function.__name__)
        return original(self, args, kwargs)

    monkeypatch.setattr(Checker, "call", recording)
    return seen


# ----------------------------------------------------------------------------------------------
# The benchmark's three signatures take the generated path


def test_shared_tensors_take_the_generated_path(general_calls: list[str]) -> None:
    @checked
    def case_a(
        x: Shared[Float[Tensor, "b c"]], y: Shared[Float[Tensor, "b c"]]
    ) -> Shared[Float[Tensor, "b c"]]:
        return x

    x, y = Shared(torch.ones(3, 4)), Shared(torch.ones(3, 4))
    assert case_a(x, y) is x
    assert case_a(x, y=y) is x
    assert general_calls == []
    with pytest.raises(TypeError, match="shape rule"):
        case_a(x, Shared(torch.ones(3, 5)))
    assert general_calls == ["case_a"]  # the mismatch is left to the general path to report


def test_shared_arrays_take_the_generated_path(general_calls: list[str]) -> None:
    @checked
    def case_b(x: Shared[Float[np.ndarray, "n"]]) -> Float[np.ndarray, "n"]:
        assert x.value.base is not None
        return x.value

    array = np.ones(5, dtype=np.float32)
    result = case_b(Shared(array))
    assert not result.flags.writeable
    assert np.shares_memory(result, array)
    with pytest.raises(ValueError, match="WRITEABLE"):
        result.flags.writeable = True
    assert general_calls == []


def test_a_borrow_reaches_the_body_as_its_view_however_it_is_passed(
    general_calls: list[str],
) -> None:
    seen: list[Any] = []

    @checked
    def takes(k: int, x: Shared[Float[Any, " n"]] | None = None, *, scale: float = 1.0) -> int:
        seen.append(None if x is None else x.value)
        return k

    array, tensor = np.ones(3, dtype=np.float32), torch.ones(3)
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((1, Shared(array)), {}),  # every positional parameter, no keyword
        ((1,), {"x": Shared(array)}),
        ((), {"k": 1, "x": Shared(array)}),
        ((1, Shared(array)), {"scale": 2.0}),
    ]
    for args, kwargs in calls:
        assert takes(*args, **kwargs) == 1
        view = seen.pop()
        assert type(view) is np.ndarray
        assert view is not array
        assert not view.flags.writeable
        assert np.shares_memory(view, array)
    assert takes(1, Shared(tensor)) == 1
    assert seen.pop() is tensor  # a tensor borrow is passed as it came
    assert takes(1, None) == 1
    assert takes(1) == 1
    assert seen == [None, None]
    assert general_calls == []


def test_tensors_and_plain_values_take_the_generated_path(general_calls: list[str]) -> None:
    @checked
    def case_c(  # noqa: PLR0917
        x: Float[Tensor, "b c"],
        y: Float[Tensor, "b c"],
        z: Float[Tensor, "c"],
        w: Float[Tensor, "b"],
        k: int,
        f: float,
    ) -> Float[Tensor, "b c"]:
        return x

    x = torch.ones(3, 4)
    assert case_c(x, x, torch.ones(4), torch.ones(3), True, 0.5) is x  # a bool is an int
    assert general_calls == []
    with pytest.raises(TypeError, match="'f'"):
        case_c(x, x, torch.ones(4), torch.ones(3), 1, 1)  # beartype: an int is not a float
    assert general_calls == ["case_c"]


def test_signatures_outside_the_generated_path_keep_the_general_one(
    general_calls: list[str],
) -> None:
    @checked
    def moves(x: Owned[Float[Tensor, "n"]]) -> None:
        pass

    @checked(exhaustive=True)
    def snapshots(x: Shared[Float[Tensor, "n"]]) -> None:
        pass

    @checked
    def union(k: int | str) -> None:
        pass

    moves(Owned(torch.ones(2)))
    snapshots(Shared(torch.ones(2)))
    union("k")
    assert general_calls == ["moves", "snapshots", "union"]


def test_an_owned_return_takes_the_generated_path_and_its_freshness_rule(
    general_calls: list[str],
) -> None:
    def doubles(x: Float[Tensor, "n"]) -> Owned[Float[Tensor, "n"]]:
        return Owned(x * 2)

    def hands_back(x: Float[Tensor, "n"]) -> Owned[Float[Tensor, "n"]]:
        return Owned(x)

    buffer = torch.zeros(2)

    def hands_out_a_buffer(x: Float[Tensor, "n"]) -> Owned[Float[Tensor, "n"]]:
        return Owned(buffer)  # a new wrapper around the same memory on every call

    checked_doubles = checked(doubles)
    assert torch.equal(checked_doubles(torch.ones(2)).value, torch.full((2,), 2.0))
    assert general_calls == []
    for function, calls in ((hands_back, 1), (hands_out_a_buffer, 2)):
        general, fast = decorated_both_ways(function)
        errors: list[str] = []
        for decorated in (general, fast):
            kept = [decorated(torch.ones(2)) for _ in range(calls - 1)]  # alive: returned earlier
            with pytest.raises(AliasingError) as raised:
                decorated(torch.ones(2) if function is hands_out_a_buffer else buffer)
            errors.append(str(raised.value))
            del kept
        assert errors[0] == errors[1]
        assert "freshness rule" in errors[0]


class Later:
    """A class whose method names it before it exists: compiled at the method's first call."""

    @checked
    def scaled(self, other: Later, x: Float[Tensor, "n"]) -> Float[Tensor, "n"]:
        return x

    @checked
    @staticmethod
    def made(x: Float[Tensor, "n"]) -> Later:
        return Later()


def test_a_signature_compiled_at_the_first_call_takes_the_generated_path_after_it(
    general_calls: list[str],
) -> None:
    @checked
    def takes(item: Later, x: Float[Tensor, "n"]) -> Float[Tensor, "n"]:
        return x

    item = Later()
    for _ in range(3):
        item.scaled(item, torch.ones(2))
        takes(item, torch.ones(2))
    assert isinstance(Later.made(torch.ones(2)), Later)
    with pytest.raises(TypeError, match="'other'"):
        item.scaled(typing.cast("Later", 3), torch.ones(2))  # the mistake under test
    # The first call of each method compiles its signature; the mismatch is reported by the general
    # path; every other call takes the generated one.
    assert general_calls == ["scaled", "made", "scaled"]


def test_a_sanitizer_sends_every_call_to_the_general_path(general_calls: list[str]) -> None:
    @checked
    def borrows(x: Shared[Float[Tensor, "n"]]) -> None:
        pass

    with sanitize():
        borrows(Shared(torch.ones(2)))
    assert general_calls == ["borrows"]
    borrows(Shared(torch.ones(2)))
    assert general_calls == ["borrows"]


def test_a_torch_write_into_a_borrow_is_reported_after_the_call() -> None:
    def writes(x: Shared[Float[Tensor, "n"]]) -> None:
        written: Any = x.value  # the write under test: the read-only stubs forbid it
        written.add_(1)

    general, fast = decorated_both_ways(writes)
    errors: list[str] = []
    for decorated in (general, fast):
        with pytest.raises(AliasingError) as raised:
            decorated(Shared(torch.ones(2)))
        errors.append(str(raised.value))
    assert errors[0] == errors[1]
    assert "borrow rule" in errors[0]


def test_a_numpy_write_into_a_borrow_is_refused_and_reported() -> None:
    def writes(x: Shared[Float[np.ndarray, "n"]]) -> None:
        written: Any = x.value  # the write under test: the read-only stubs forbid it
        written[0] = 2

    general, fast = decorated_both_ways(writes)
    errors: list[str] = []
    array = np.ones(3)
    wrapper = Shared(array)
    for decorated in (general, fast, fast):  # the second fast call lends the cached view
        with pytest.raises(AliasingError) as raised:
            decorated(wrapper)
        errors.append(str(raised.value))
        assert isinstance(raised.value.__cause__, ValueError)
    assert errors[0] == errors[1] == errors[2]
    assert array.tolist() == [1.0, 1.0, 1.0]


# ----------------------------------------------------------------------------------------------
# The read-only views kept per wrapper


def _lends(x: Shared[Shaped[np.ndarray, "..."]]) -> Shared[Shaped[np.ndarray, "..."]]:
    return x


def test_a_lent_view_follows_the_array_reshaped_in_place() -> None:
    lends = checked(_lends)
    array = np.arange(6.0)
    wrapper = Shared(array)
    assert lends(wrapper).value.shape == (6,)
    with warnings.catch_warnings():  # NumPy 2.5 deprecates it; the case must still hold
        warnings.simplefilter("ignore", DeprecationWarning)
        setattr(array, "shape", (2, 3))  # noqa: B010  # deprecated as an attribute, still allowed
    assert lends(wrapper).value.shape == (2, 3)
    with warnings.catch_warnings():  # NumPy 2.4 deprecates both assignments; older ones allow them
        warnings.simplefilter("ignore", DeprecationWarning)
        setattr(array, "strides", (8, 16))  # noqa: B010
        assert lends(wrapper).value.strides == (8, 16)
        setattr(array, "dtype", np.dtype(np.int64))  # noqa: B010  # typed read-only
        assert lends(wrapper).value.dtype == np.int64


def test_a_lent_view_reshaped_by_a_callee_is_not_lent_again() -> None:
    lends = checked(_lends)
    array = np.arange(6.0)
    wrapper = Shared(array)
    lent = lends(wrapper).value
    with warnings.catch_warnings():  # NumPy 2.5 deprecates it; the case must still hold
        warnings.simplefilter("ignore", DeprecationWarning)
        setattr(lent, "shape", (3, 2))  # noqa: B010  # deprecated as an attribute, still allowed
    assert lends(wrapper).value.shape == (6,)


def test_the_kept_view_dies_with_its_wrapper_and_keeps_no_array_alive() -> None:
    lends = checked(_lends)
    array = np.arange(6.0)
    wrapper = Shared(array)
    lends(wrapper)
    assert kept_view(wrapper) is not None
    # While the view is kept, NumPy refuses to move the array's memory under it.
    with pytest.raises(ValueError, match="resize"):
        array.resize(12, refcheck=False)
    array_alive = weakref.ref(array)
    del wrapper, array
    gc.collect()
    assert array_alive() is None


def test_an_owned_lent_as_a_borrow_is_not_kept() -> None:
    lends = checked(_lends)
    owned = Owned(np.arange(3.0))
    assert not lends(owned).value.flags.writeable
    assert kept_view(owned) is None


def _flips_and_writes(x: Shared[Float[np.ndarray, " n"]]) -> None:
    view: Any = x.value
    view.flags.writeable = True  # refused for a view over a read-only buffer export
    view[0] = 7.0


@pytest.mark.parametrize("path", ["general", "fast"])
def test_a_read_only_array_is_lent_as_a_view_that_stays_read_only(path: str) -> None:
    # An array that owns its memory can be made writable again: read-only is no protection.
    general, fast = decorated_both_ways(_flips_and_writes)
    array = np.zeros(3)
    array.flags.writeable = False
    with pytest.raises(ValueError, match="WRITEABLE"):
        (general if path == "general" else fast)(Shared(array))
    assert array.tolist() == [0.0, 0.0, 0.0]
    assert not array.flags.writeable


@pytest.mark.parametrize("path", ["general", "fast"])
def test_an_ndarray_subclass_keeps_its_class_and_meaning(path: str) -> None:
    def total(x: Shared[Float[np.ndarray, " n"]]) -> float:
        return float(x.value.sum())

    general, fast = decorated_both_ways(total)
    numpy_ma: Any = np.ma  # its constructors are partly untyped
    masked = numpy_ma.array([1.0, 2.0, 100.0], mask=[False, False, True])
    assert (general if path == "general" else fast)(Shared(masked)) == 3.0


def _takes_nested(x: Float[Tensor, "b c"]) -> None: ...


def _takes_any_rank(x: Shaped[Tensor, "..."]) -> None: ...


def _returns_nested(x: Tensor) -> Float[Tensor, "b c"]:
    return x


def _borrows_nested(x: Shared[Float[Tensor, "b c"]]) -> None: ...


@pytest.mark.parametrize(
    ("function", "wrap", "where"),
    [
        (_takes_nested, False, "parameter 'x'"),
        (_takes_any_rank, False, "parameter 'x'"),
        (_returns_nested, False, "the return value"),
        (_borrows_nested, True, "parameter 'x'"),
    ],
)
def test_a_strided_nested_tensor_is_a_shape_error_on_both_paths(
    function: Any, wrap: bool, where: str
) -> None:
    # torch answers .shape on one with an internal error; the generated path reads .shape.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: nested tensors are a prototype
        nested_api: Any = torch.nested  # its signature is untyped
        nested = nested_api.nested_tensor([torch.ones(2, 3), torch.ones(4, 3)])
    argument = Shared(nested) if wrap else nested
    for decorated in decorated_both_ways(function):
        with pytest.raises(
            AnnotationError, match=rf"{where} breaks the shape rule.*fix: pad it"
        ) as caught:
            decorated(argument)
        assert caught.value.__context__ is None  # torch's internal error is not shown with it


def _takes_a_vector(x: Float[np.ndarray, " n"], y: Float[Tensor, " n"]) -> None: ...


@pytest.mark.parametrize("claimed", [np.ndarray, torch.Tensor])
def test_an_object_that_claims_an_array_class_breaks_the_library_rule(claimed: type) -> None:
    impostor: Any = type("Impostor", (), {"__class__": property(lambda _: claimed)})()
    for decorated in decorated_both_ways(_takes_a_vector):
        with pytest.raises(AnnotationError, match=r"library rule: got an? Impostor"):
            decorated(impostor, torch.ones(2))
        with pytest.raises(AnnotationError, match=r"library rule: got an? Impostor"):
            decorated(np.ones(2), impostor)


def test_an_axis_the_body_binds_by_isinstance_is_checked_on_the_return() -> None:
    def binds(x: Float[Tensor, " b"], y: Any) -> Float[Tensor, " k"]:
        k_vector: Any = Float[Tensor, " k"]  # a class at run time; checkers see Annotated
        assert isinstance(y, k_vector)  # binds k
        return torch.ones(4)

    general, fast = decorated_both_ways(binds)
    for decorated in (general, fast):
        with pytest.raises(AnnotationError, match="axis k is 4 here but 5 elsewhere"):
            decorated(torch.ones(2), torch.ones(5))


def _has_dim_elements(y: Any) -> bool:
    # Called from a checked body: "{dim}" reads the running call's arguments, as under jaxtyped.
    dim_vector: Any = Float[Tensor, "{dim}"]  # a class at run time
    return isinstance(y, dim_vector)


def _sized(dim: int, y: Tensor) -> bool:
    return _has_dim_elements(y)


def _sized_by_keyword(*, dim: int, y: Tensor) -> bool:
    return _has_dim_elements(y)


def test_an_fstring_axis_in_the_body_sees_the_call_arguments(general_calls: list[str]) -> None:
    for decorated in decorated_both_ways(_sized):
        assert decorated(3, torch.ones(3))
        assert not decorated(3, torch.ones(4))
    for decorated in decorated_both_ways(_sized_by_keyword):
        assert decorated(dim=2, y=torch.ones(2))
        assert not decorated(dim=2, y=torch.ones(3))
    # The arguments are bound only when such an axis reads them: the generated path stays (only
    # the general-only decorations' calls reach the general checker).
    assert general_calls == ["_sized", "_sized", "_sized_by_keyword", "_sized_by_keyword"]


def test_the_body_shares_the_memo_when_jaxtyping_is_imported_after_decorating() -> None:
    # `import aliasguard` leaves jaxtyping unimported; a body may be the first to use it.
    result = run_python(
        """
        import torch
        from aliasguard import Shared, checked

        @checked
        def sized(x: Shared[torch.Tensor], dim: int) -> bool:
            return isinstance(torch.zeros(3), Float[torch.Tensor, "{dim}"])

        @checked
        def binds(x: Shared[torch.Tensor]) -> tuple[bool, bool]:
            n: object = Float[torch.Tensor, "n"]
            return isinstance(torch.zeros(3), n), isinstance(torch.zeros(4), n)

        from jaxtyping import Float

        print(sized(Shared(torch.zeros(2)), 3), binds(Shared(torch.zeros(2))))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "(True,", "False)"]


def test_the_memo_stack_is_balanced_after_a_body_that_leaves_an_entry() -> None:
    from jaxtyping import _storage  # the stack itself

    def leaves_one(x: Float[Tensor, " n"]) -> int:
        _storage.push_shape_memo({})
        return 1

    general, fast = decorated_both_ways(leaves_one)
    for decorated in (general, fast):
        decorated(torch.ones(2))
        assert getattr(_storage._shape_storage, "memo_stack", []) == []


def test_a_false_no_type_check_mark_leaves_the_checks_on() -> None:
    def one(x: Float[Tensor, " n"]) -> int:
        return 1

    general, fast = decorated_both_ways(one)
    for decorated in (general, fast):
        decorated.__no_type_check__ = False
        with pytest.raises(AnnotationError):
            decorated("not a tensor")
