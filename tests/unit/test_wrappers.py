"""Runtime behaviour of `Shared` and `Owned`.

Covers immutability, construction, reprs, the runtime-checkable ``Shared[...]``/``Owned[...]``
subscripts (alone, under beartype and under jaxtyping), copying, pickling and moved handles.

beartype and jaxtyping resolve the postponed annotations of the decorated functions below when
they decorate them, so the checks see the same runtime ``Shared[...]`` classes as eager annotations.
"""

from __future__ import annotations

import copy
import pickle
import typing
import warnings
import weakref
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import pytest
import torch
from beartype import beartype
from beartype.roar import BeartypeCallHintParamViolation, BeartypeCallHintReturnViolation
from jaxtyping import (
    Float,
    TypeCheckError,
    jaxtyped,  # pyright: ignore[reportUnknownVariableType]  # its typechecker parameter is unannotated
)
from numpy.typing import NDArray

import aliasguard
from aliasguard import AliasingError, Owned, Shared, is_owned, is_shared, own, share, shares_memory
from aliasguard._wrappers import MOVED, set_value
from helpers import subscript

MATRIX = Float[torch.Tensor, "b c"]
ARRAY_MATRIX = Float[np.ndarray, "b c"]

FIXED_VALUE_MESSAGE = (
    r"a wrapper's value is fixed for its lifetime so its aliasing claim "
    r"stays true\. Wrap the new value in a new wrapper instead\."
)
MOVED_MESSAGE = (
    r"this Owned handle was moved into a function's Owned parameter and is no longer valid: the "
    r"callee now owns the memory\. Use the handle the function returned, or pass own\(x\.value\) "
    r"to keep a copy\."
)


def matches(value: object, hint: object) -> bool:
    """``isinstance(value, hint)`` for a runtime ``Shared[...]``/``Owned[...]``.

    Static checkers reject subscripted generics in isinstance, so the hint goes through ``object``.
    """
    return isinstance(value, cast("type", hint))


def move_out(handle: Shared[Any]) -> Any:
    """Take the value out of ``handle``, leaving it invalid, as @checked does for an Owned argument."""
    value = handle.value
    set_value(handle, MOVED)
    return value


def float_matrix() -> NDArray[np.float32]:
    return np.arange(6, dtype=np.float32).reshape(2, 3)


def same_values(left: object, right: object) -> bool:
    if isinstance(left, torch.Tensor) and isinstance(right, torch.Tensor):
        return bool(torch.equal(left, right))
    if isinstance(left, np.ndarray) and isinstance(right, np.ndarray):
        return bool(np.array_equal(cast("NDArray[Any]", left), cast("NDArray[Any]", right)))
    return False


def read_only(array: NDArray[Any]) -> NDArray[Any]:
    array.flags.writeable = False
    return array


# ----------------------------------------------------------------------------------------------
# A wrapper's value is fixed for its lifetime.


WRAPPERS: dict[str, Callable[[], Shared[Any]]] = {
    "share(array)": lambda: share(float_matrix()),
    "share(tensor)": lambda: share(torch.ones(2, 3)),
    "own(array)": lambda: own(float_matrix()),
    "own(tensor)": lambda: own(torch.ones(2, 3)),
    "Shared(tensor)": lambda: Shared(torch.ones(3)),
    "Owned(array)": lambda: Owned(np.zeros(3)),
}


@pytest.fixture(params=list(WRAPPERS), ids=list(WRAPPERS))
def wrapper(request: pytest.FixtureRequest) -> Shared[Any]:
    make: Callable[[], Shared[Any]] = WRAPPERS[cast("str", request.param)]
    return make()


@pytest.mark.parametrize("name", ["value", "source", "_value", "_source", "anything_new"])
def test_attributes_cannot_be_assigned(wrapper: Shared[Any], name: str) -> None:
    before = wrapper.value
    kind = type(wrapper).__name__
    with pytest.raises(
        AttributeError, match=rf"^{kind}\.{name} cannot be reassigned: {FIXED_VALUE_MESSAGE}$"
    ):
        setattr(wrapper, name, np.zeros(1))
    assert wrapper.value is before


@pytest.mark.parametrize("name", ["value", "source", "_value"])
def test_attributes_cannot_be_deleted(wrapper: Shared[Any], name: str) -> None:
    before = wrapper.value
    kind = type(wrapper).__name__
    with pytest.raises(
        AttributeError, match=rf"^{kind}\.{name} cannot be deleted: {FIXED_VALUE_MESSAGE}$"
    ):
        delattr(wrapper, name)
    assert wrapper.value is before


def test_init_cannot_rebind_a_live_wrapper(wrapper: Shared[Any]) -> None:
    # __init__ writes through the slot descriptors, past __setattr__: calling it again on a live
    # wrapper must not become a back door around the fixed value.
    before = wrapper.value
    with pytest.raises(AttributeError, match="cannot be reassigned"):
        type(wrapper).__init__(wrapper, np.zeros(2))
    assert wrapper.value is before


def test_wrappers_have_slots_and_no_instance_dict(wrapper: Shared[Any]) -> None:
    assert not hasattr(wrapper, "__dict__")
    with pytest.raises(TypeError):
        vars(wrapper)
    assert Shared.__slots__ == ("__weakref__", "_lent", "_source", "_value")
    assert Owned.__slots__ == ()
    assert weakref.ref(wrapper)() is wrapper


def test_owned_is_a_shared_never_the_reverse() -> None:
    assert issubclass(Owned, Shared)
    assert not issubclass(Shared, Owned)
    assert isinstance(own(float_matrix()), Shared)
    assert not isinstance(share(float_matrix()), Owned)


def test_owned_cannot_be_subclassed_at_run_time() -> None:
    with pytest.raises(TypeError, match=r"^Owned is final: its guarantee"):
        type("MoreOwned", (Owned,), {})


def test_shared_can_be_subclassed() -> None:
    subclass = type("Borrowed", (Shared,), {"__slots__": ()})
    assert issubclass(subclass, Shared)


# ----------------------------------------------------------------------------------------------
# Construction.


# Bases someone still holds: a view of them aliases memory another name can write.
KEPT_ARRAY = np.zeros(6)
KEPT_MATRIX = np.zeros((2, 3))
KEPT_TENSOR = torch.zeros(4)

VIEWS: dict[str, Callable[[], object]] = {
    "array slice": lambda: KEPT_ARRAY[1:],
    "array transpose": lambda: KEPT_MATRIX.T,
    "array reshape": lambda: KEPT_ARRAY.reshape(2, 3),
    "array of bytes": lambda: np.frombuffer(b"12345678", dtype=np.uint8),
    "tensor slice": lambda: torch.zeros(4)[1:],
    "tensor view": lambda: torch.zeros(4).view(2, 2),
    "tensor.numpy()": KEPT_TENSOR.numpy,
}


@pytest.mark.parametrize("make_view", list(VIEWS.values()), ids=list(VIEWS))
def test_owned_refuses_views(make_view: Callable[[], object]) -> None:
    view = cast("torch.Tensor", make_view())
    with pytest.raises(AliasingError, match=r"^Owned\(\) got a view of another object's memory"):
        Owned(view)
    with pytest.raises(
        AliasingError, match=r"Wrap a same-library copy, Owned\((t\.clone|a\.copy)\(\)\)"
    ):
        Owned[torch.Tensor | np.ndarray](view)


def test_owned_accepts_a_view_of_a_temporary_only_it_holds() -> None:
    # np.arange(6).reshape(2, 3) is a view, but of an array nothing else references.
    owned = Owned(np.arange(6).reshape(2, 3))
    assert owned.value.shape == (2, 3)
    assert Owned(np.zeros((2, 3)).T[::2]).value.shape == (2, 2)


@pytest.mark.parametrize("value", [np.zeros(3), torch.zeros(3), np.zeros(()), torch.zeros(0)])
def test_owned_wraps_fresh_values(value: torch.Tensor) -> None:
    owned = Owned(value)
    assert type(owned) is Owned
    assert owned.value is value
    assert owned.source is None


def test_shared_keeps_its_source() -> None:
    array = float_matrix()
    tensor = torch.ones(3)
    assert Shared(tensor, source=array).source is array
    assert Shared(tensor, array).source is array
    assert Shared(tensor).source is None
    assert Shared(tensor).value is tensor
    assert share(array).source is array
    assert own(array).source is None


@pytest.mark.parametrize("kind", [Shared, Owned])
@pytest.mark.parametrize("value", [5, [1.0, 2.0], None, memoryview(b"ab")])
def test_only_arrays_and_tensors_are_wrapped(kind: type[Shared[Any]], value: object) -> None:
    name = type(value).__name__
    with pytest.raises(
        TypeError,
        match=rf"^{kind.__name__}\(\) wraps an np\.ndarray or a torch\.Tensor, got {name}: ",
    ):
        kind(cast("Any", value))


def test_owned_takes_no_source() -> None:
    with pytest.raises(TypeError):
        Owned(np.zeros(3), source=None)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


# ----------------------------------------------------------------------------------------------
# Reprs name the kind, the library, dtype, shape and device.


REPRS: dict[str, tuple[Callable[[], Shared[Any]], str]] = {
    "share(array)": (
        lambda: share(np.zeros((2, 3), dtype=np.float32)),
        "Shared[torch.Tensor](dtype=torch.float32, shape=(2, 3), device=cpu)",
    ),
    "own(array)": (
        lambda: own(np.zeros((2, 3), dtype=np.int64)),
        "Owned[torch.Tensor](dtype=torch.int64, shape=(2, 3), device=cpu)",
    ),
    "share(tensor) is read-only": (
        lambda: share(torch.zeros(2, 3)),
        "Shared[numpy.ndarray](dtype=float32, shape=(2, 3), device=cpu, read-only)",
    ),
    "own(tensor)": (
        lambda: own(torch.zeros(2, dtype=torch.int16)),
        "Owned[numpy.ndarray](dtype=int16, shape=(2,), device=cpu)",
    ),
    "Shared(read-only array)": (
        lambda: Shared(read_only(np.zeros(3))),
        "Shared[numpy.ndarray](dtype=float64, shape=(3,), device=cpu, read-only)",
    ),
    "Owned(array)": (
        lambda: Owned(np.zeros((0, 4), dtype=np.bool_)),
        "Owned[numpy.ndarray](dtype=bool, shape=(0, 4), device=cpu)",
    ),
    "0-d tensor": (
        lambda: Shared(torch.tensor(True)),
        "Shared[torch.Tensor](dtype=torch.bool, shape=(), device=cpu)",
    ),
    "meta tensor": (
        lambda: Owned(torch.empty(2, 5, device="meta", dtype=torch.bfloat16)),
        "Owned[torch.Tensor](dtype=torch.bfloat16, shape=(2, 5), device=meta)",
    ),
}


@pytest.mark.parametrize(("make", "expected"), list(REPRS.values()), ids=list(REPRS))
def test_repr(make: Callable[[], Shared[Any]], expected: str) -> None:
    assert repr(make()) == expected


@pytest.mark.cuda
def test_repr_names_the_cuda_device() -> None:
    owned = own(np.zeros(2, dtype=np.float32), device="cuda:0")
    assert repr(owned) == "Owned[torch.Tensor](dtype=torch.float32, shape=(2,), device=cuda:0)"


# ----------------------------------------------------------------------------------------------
# is_owned / is_shared.


PREDICATE_CASES: dict[str, tuple[Callable[[], object], bool, bool]] = {
    # name: (make, is_owned, is_shared)
    "own()": (lambda: own(float_matrix()), True, True),
    "Owned()": (lambda: Owned(torch.zeros(2)), True, True),
    "share()": (lambda: share(float_matrix()), False, True),
    "Shared()": (lambda: Shared(np.zeros(2)), False, True),
    "ndarray": (float_matrix, False, False),
    "tensor": (lambda: torch.zeros(2), False, False),
    "None": (lambda: None, False, False),
    "the class Owned": (lambda: Owned, False, False),
}


@pytest.mark.parametrize(
    ("make", "owned", "shared"), list(PREDICATE_CASES.values()), ids=list(PREDICATE_CASES)
)
def test_predicates(make: Callable[[], object], owned: bool, shared: bool) -> None:
    value = make()
    assert is_owned(value) is owned
    assert is_shared(value) is shared


# ----------------------------------------------------------------------------------------------
# Runtime-checkable subscripts.


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_owned_float_matrix_accepts_2d_float_tensors(dtype: type[np.floating[Any]]) -> None:
    assert matches(own(np.zeros((2, 3), dtype=dtype)), Owned[MATRIX])
    assert matches(Owned(torch.zeros(4, 1, dtype=torch.bfloat16)), Owned[MATRIX])


NOT_OWNED_FLOAT_MATRIX: dict[str, Callable[[], object]] = {
    "1-d": lambda: own(np.zeros(3, dtype=np.float32)),
    "3-d": lambda: own(np.zeros((1, 2, 3), dtype=np.float32)),
    "int64": lambda: own(np.zeros((2, 3), dtype=np.int64)),
    "bool": lambda: own(np.zeros((2, 3), dtype=np.bool_)),
    "Shared, not Owned": lambda: share(float_matrix()),
    "ndarray payload": lambda: own(torch.zeros(2, 3)),
    "bare tensor": lambda: torch.zeros(2, 3),
}


@pytest.mark.parametrize(
    "make", list(NOT_OWNED_FLOAT_MATRIX.values()), ids=list(NOT_OWNED_FLOAT_MATRIX)
)
def test_owned_float_matrix_rejects(make: Callable[[], object]) -> None:
    assert not matches(make(), Owned[MATRIX])


def test_shared_float_matrix_accepts_owned_values_too() -> None:
    assert matches(share(float_matrix()), Shared[MATRIX])
    assert matches(own(float_matrix()), Shared[MATRIX])
    assert matches(share(torch.zeros(2, 3)), Shared[ARRAY_MATRIX])
    assert not matches(share(torch.zeros(2, 3)), Shared[MATRIX])
    assert not matches(share(np.zeros(3, dtype=np.float32)), Shared[MATRIX])


def test_library_class_payloads() -> None:
    array_valued = share(torch.zeros(2))
    tensor_valued = share(float_matrix())
    assert matches(array_valued, Shared[np.ndarray])
    assert not matches(tensor_valued, Shared[np.ndarray])
    assert matches(tensor_valued, Shared[torch.Tensor])
    assert not matches(np.zeros(2), Shared[np.ndarray])
    assert matches(own(torch.zeros(2)), Owned[np.ndarray])
    assert not matches(array_valued, Owned[np.ndarray])


def test_ndarray_aliases_check_only_their_origin_class() -> None:
    # NDArray[np.float64] is ndarray[tuple[Any, ...], dtype[float64]], which isinstance cannot
    # take: the check is on np.ndarray, and the dtype argument is not checked.
    assert matches(share(torch.zeros(2, dtype=torch.float64)), Shared[NDArray[np.float64]])
    assert matches(share(torch.zeros(2, dtype=torch.int32)), Shared[NDArray[np.float64]])
    assert not matches(share(float_matrix()), Shared[NDArray[np.float64]])


@pytest.mark.parametrize(
    "payload",
    [
        np.ndarray | torch.Tensor,
        typing.Union[np.ndarray, torch.Tensor],  # noqa: UP007  # the pre-PEP 604 spelling, on purpose
        ARRAY_MATRIX | MATRIX,
    ],
    ids=["pep604", "typing.Union", "jaxtyping"],
)
def test_union_payloads(payload: object) -> None:
    hint = subscript(Shared, payload)
    assert matches(share(float_matrix()), hint)
    assert matches(share(torch.zeros(2, 3)), hint)
    assert matches(own(torch.zeros(2, 3)), hint)
    assert not matches(float_matrix(), hint)


def test_jaxtyping_union_checks_each_member() -> None:
    hint = Shared[ARRAY_MATRIX | MATRIX]
    assert not matches(share(np.zeros(3, dtype=np.float32)), hint)
    assert not matches(share(torch.zeros(3)), hint)


def test_any_payload_matches_every_wrapper() -> None:
    # Shared[Any] is the natural "any wrapper" annotation, and the library's own signatures use it
    # (is_shared returns TypeIs[Shared[Any]]), so evaluating it at run time must work.
    hint = subscript(Shared, Any)
    assert matches(share(float_matrix()), hint)
    assert matches(own(torch.zeros(2)), hint)
    assert not matches(float_matrix(), hint)
    assert typing.get_type_hints(aliasguard.is_shared)["value"] is object


@pytest.mark.parametrize("kind", [Shared, Owned])
@pytest.mark.parametrize(
    "payload", [int, str, None, list[int], torch.Tensor | None, np.ndarray | int]
)
def test_bad_payloads_are_type_errors(kind: type, payload: object) -> None:
    with pytest.raises(
        TypeError, match=r" cannot be wrapped: Shared\[\.\.\.\] and Owned\[\.\.\.\] "
    ):
        subscript(kind, payload)


def test_more_than_one_payload_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"^Shared\[\.\.\.\] takes one annotation, got 2: "):
        subscript(Shared, (int, str))
    with pytest.raises(TypeError, match=r"^Owned\[\.\.\.\] takes one annotation, got 2: "):
        subscript(Owned, (np.ndarray, torch.Tensor))


def test_subscripts_are_cached() -> None:
    # Through `subscript`, because checkers see Shared[A] and Shared[B] as different types and
    # call an identity test between them always false.
    assert subscript(Owned, MATRIX) is subscript(Owned, MATRIX)
    assert subscript(Shared, np.ndarray) is subscript(Shared, np.ndarray)
    assert subscript(Shared, MATRIX) is not subscript(Owned, MATRIX)
    assert subscript(Shared, MATRIX) is not subscript(Shared, ARRAY_MATRIX)


def test_equal_jaxtyping_annotations_share_one_cached_class() -> None:
    # jaxtyping builds a new class on every Float[...] subscription. Keyed by that class, the cache
    # would grow by one entry per evaluation: a leak in any loop that checks isinstance.
    first = Owned[Float[torch.Tensor, "b c"]]
    second = Owned[Float[torch.Tensor, "b c"]]
    assert first is second


def test_subscripted_class_repr_and_names() -> None:
    assert repr(Owned[MATRIX]) == "aliasguard.Owned[Float[Tensor, 'b c']]"
    assert repr(Shared[MATRIX]) == "aliasguard.Shared[Float[Tensor, 'b c']]"
    assert repr(Shared[np.ndarray]) == "aliasguard.Shared[ndarray]"
    assert repr(Owned[torch.Tensor]) == "aliasguard.Owned[Tensor]"
    assert repr(Shared[NDArray[np.float64]]) == "aliasguard.Shared[ndarray]"
    assert repr(Shared[np.ndarray | torch.Tensor]) == "aliasguard.Shared[ndarray | Tensor]"
    checkable = cast("type", Owned[MATRIX])
    assert checkable.__name__ == "Owned[Float[Tensor, 'b c']]"
    assert checkable.__module__ == "aliasguard"


def test_typing_union_repr_names_its_members() -> None:
    # A fresh jaxtyping member keeps this union out of the cache: equal unions share an entry, so
    # an earlier `np.ndarray | torch.Tensor` would otherwise decide the repr.
    fresh = Float[torch.Tensor, "n"]
    union = typing.Union[np.ndarray, fresh]  # noqa: UP007
    text = repr(subscript(Shared, union))
    assert "ndarray" in text
    assert "Float[Tensor, 'n']" in text


def test_calling_a_subscript_checks_the_value() -> None:
    tensor = torch.zeros(2, 3)
    owned = Owned[MATRIX](tensor)
    assert type(owned) is Owned
    assert owned.value is tensor
    source = float_matrix()
    shared = Shared[MATRIX](tensor, source=source)
    assert type(shared) is Shared
    assert shared.source is source
    with pytest.raises(
        TypeError,
        match=(
            r"^aliasguard\.Owned\[Float\[Tensor, 'b c'\]\] got a value that does not match its "
            r"annotation \(Owned\[torch\.Tensor\]\(dtype=torch\.float32, shape=\(3,\), "
            r"device=cpu\)\)\. Pass a value of the annotated type, dtype, shape\.$"
        ),
    ):
        Owned[MATRIX](torch.zeros(3))
    with pytest.raises(TypeError, match="does not match its annotation"):
        Owned[MATRIX](torch.zeros(2, 3, dtype=torch.int32))


# ----------------------------------------------------------------------------------------------
# beartype and jaxtyping.


def test_beartype_checks_parameter_payloads() -> None:
    @beartype
    def double(x: Shared[Float[torch.Tensor, "b c"]]) -> Owned[Float[torch.Tensor, "b c"]]:
        return Owned(x.value * 2)

    expected = torch.arange(6, dtype=torch.float32).reshape(2, 3) * 2
    assert same_values(double(share(float_matrix())).value, expected)
    assert is_owned(double(own(float_matrix())))
    for bad in (
        share(np.zeros(3, dtype=np.float32)),
        share(np.zeros((2, 3), dtype=np.int64)),
        share(torch.zeros(2, 3)),
        torch.zeros(2, 3),
    ):
        with pytest.raises(BeartypeCallHintParamViolation):
            double(cast("Any", bad))


@pytest.mark.parametrize(
    "result",
    [
        pytest.param(lambda: Owned(torch.zeros(3)), id="wrong shape"),
        pytest.param(lambda: Shared(torch.zeros(2, 3)), id="Shared, not Owned"),
        pytest.param(lambda: own(torch.zeros(2, 3)), id="ndarray payload"),
        pytest.param(lambda: torch.zeros(2, 3), id="bare tensor"),
    ],
)
def test_beartype_checks_return_payloads(result: Callable[[], object]) -> None:
    @beartype
    def make() -> Owned[Float[torch.Tensor, "b c"]]:
        return cast("Owned[torch.Tensor]", result())

    with pytest.raises(BeartypeCallHintReturnViolation):
        make()


def test_jaxtyped_binds_axes_across_wrapped_arguments() -> None:
    @jaxtyped(typechecker=beartype)
    def pair(
        x: Shared[Float[torch.Tensor, "b c"]],
        y: Owned[Float[torch.Tensor, "b c"]],
        z: Float[torch.Tensor, " b"],
    ) -> None:
        pass

    pair(share(float_matrix()), own(float_matrix()), torch.zeros(2))
    with pytest.raises(TypeCheckError, match="parameter 'y'"):
        pair(share(float_matrix()), own(np.zeros((4, 3), dtype=np.float32)), torch.zeros(2))
    with pytest.raises(TypeCheckError, match="parameter 'y'"):
        pair(share(float_matrix()), own(np.zeros((2, 5), dtype=np.float32)), torch.zeros(2))
    with pytest.raises(TypeCheckError, match="parameter 'z'"):
        pair(share(float_matrix()), own(float_matrix()), torch.zeros(3))


def test_without_jaxtyped_each_argument_binds_its_own_axes() -> None:
    @beartype
    def pair(
        x: Shared[Float[torch.Tensor, "b c"]],
        y: Owned[Float[torch.Tensor, "b c"]],
    ) -> None:
        pass

    pair(share(float_matrix()), own(np.zeros((4, 3), dtype=np.float32)))


# ----------------------------------------------------------------------------------------------
# Copies and pickles.


def test_shallow_copy_is_the_handle_itself(wrapper: Shared[Any]) -> None:
    assert copy.copy(wrapper) is wrapper


def test_deepcopy_is_fresh_memory_of_the_same_kind(wrapper: Shared[Any]) -> None:
    duplicate = copy.deepcopy(wrapper)
    assert duplicate is not wrapper
    assert type(duplicate) is type(wrapper)
    assert type(duplicate.value) is type(wrapper.value)
    assert same_values(duplicate.value, wrapper.value)
    assert not shares_memory(duplicate, wrapper)
    assert duplicate.source is None


def test_deepcopy_keeps_sharing_within_the_copied_structure() -> None:
    owned = own(float_matrix())
    first, second = copy.deepcopy([owned, owned])
    assert first is second


def test_pickle_round_trip_is_fresh_memory_of_the_same_kind(wrapper: Shared[Any]) -> None:
    restored = pickle.loads(pickle.dumps(wrapper))
    assert type(restored) is type(wrapper)
    assert type(restored.value) is type(wrapper.value)
    assert same_values(restored.value, wrapper.value)
    assert not shares_memory(restored, wrapper)
    assert restored.source is None


def test_out_of_band_pickle_is_fresh_memory_too(wrapper: Shared[Any]) -> None:
    # Protocol 5 hands arrays over out of band: unpickled, they would view the original's memory.
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(wrapper, protocol=5, buffer_callback=buffers.append)
    restored: Shared[Any] = pickle.loads(data, buffers=buffers)
    assert type(restored) is type(wrapper)
    assert same_values(restored.value, wrapper.value)
    if is_owned(wrapper):
        assert not shares_memory(restored.value, wrapper.value)


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
def test_an_unpickled_owned_array_owns_its_memory(protocol: int) -> None:
    original = own(torch.arange(6.0).reshape(2, 3))
    restored = pickle.loads(pickle.dumps(original, protocol=protocol))
    assert restored.value.flags.owndata
    assert restored.value.flags.writeable
    assert np.array_equal(restored.value, original.value)


def test_owned_refuses_a_tensor_whose_storage_another_tensor_holds() -> None:
    source = torch.zeros(3, requires_grad=True)
    with pytest.raises(AliasingError, match=r"^Owned\(\) got a tensor whose storage another"):
        Owned(source.detach())
    with pytest.raises(AliasingError, match=r"a view of it, a \.detach\(\) or \.data alias"):
        Owned(source.data)
    fresh = torch.zeros(4)
    head = fresh[:2]  # a live view holds the storage too
    with pytest.raises(AliasingError, match="storage another tensor also holds"):
        Owned(fresh)
    del head
    # An op's output that autograd keeps for backward is still the caller's alone.
    assert type(Owned(source.exp())) is Owned
    detached = source.detach()
    del source
    assert type(Owned(detached)) is Owned  # the other holder is gone


# ----------------------------------------------------------------------------------------------
# Moved handles.


def test_move_out_hands_over_the_value_and_invalidates_the_handle() -> None:
    handle = own(float_matrix())
    value = handle.value
    assert move_out(handle) is value
    with pytest.raises(AliasingError, match=rf"^{MOVED_MESSAGE}$"):
        _ = handle.value
    assert repr(handle) == "Owned[moved]"
    assert is_owned(handle)
    assert not matches(handle, Owned[torch.Tensor])
    assert not matches(handle, Shared[MATRIX])


def test_a_moved_handle_cannot_move_copy_or_pickle_again() -> None:
    handle = own(float_matrix())
    move_out(handle)
    with pytest.raises(AliasingError, match="no longer valid"):
        move_out(handle)
    with pytest.raises(AliasingError, match="no longer valid"):
        copy.deepcopy(handle)
    with pytest.raises(AliasingError, match="no longer valid"):
        pickle.dumps(handle)
    assert copy.copy(handle) is handle


def test_moved_shared_handle() -> None:
    handle = share(float_matrix())
    move_out(handle)
    assert repr(handle) == "Shared[moved]"
    with pytest.raises(AliasingError, match=r"^this Shared handle was moved"):
        _ = handle.value


def test_owned_accepts_the_array_of_a_temporary_tensor() -> None:
    model = torch.nn.Linear(3, 2)
    owned = Owned(model(torch.ones(4, 3)).detach().numpy())
    assert owned.value.shape == (4, 2)
    with torch.no_grad():
        assert Owned(model(torch.ones(4, 3)).numpy()[1:]).value.shape == (3, 2)


def test_owned_refuses_the_array_of_a_tensor_someone_holds() -> None:
    held = torch.ones(3)
    with pytest.raises(AliasingError, match="its base is a Tensor"):
        Owned(held.numpy())
    # The temporary from detach() is referenced by the array alone, but its storage is `held`'s.
    with pytest.raises(AliasingError, match="its base is a Tensor"):
        Owned(held.detach().numpy())


@pytest.mark.parametrize(
    ("make_view", "same_library_copy", "other_library"),
    [
        (lambda: torch.ones(4)[1:], "Owned(t.clone())", "NumPy"),
        (lambda: KEPT_ARRAY[np.newaxis], "Owned(a.copy())", "torch"),
    ],
)
def test_owned_view_refusal_names_the_same_library_copy(
    make_view: Any, same_library_copy: str, other_library: str
) -> None:
    keep = make_view()
    with pytest.raises(AliasingError) as caught:
        Owned(keep)
    first_line = str(caught.value).splitlines()[0]
    assert same_library_copy in first_line
    assert f"cross to {other_library} with aliasguard.own(value)" in first_line


def test_a_subscripted_wrapper_answers_isinstance_for_what_has_no_shape_or_fakes_its_class() -> (
    None
):
    b_n: Any = subscript(Shared, Float[torch.Tensor, "b n"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: nested tensors are a prototype
        nested_api: Any = torch.nested  # its signature is untyped
        nested = nested_api.nested_tensor([torch.zeros(2), torch.zeros(3)])
    assert not isinstance(Shared(nested), b_n)  # torch would raise an internal error for its shape
    assert isinstance(Shared(torch.zeros(2, 3)), b_n)
    impostor: Any = type("Impostor", (), {"__class__": property(lambda _: Shared)})()
    assert not isinstance(impostor, b_n)
    assert not is_shared(impostor)
    assert not is_owned(impostor)
