"""The conformance cases: jaxtyping's own tests, translated to NumPy arrays and torch tensors.

Source: https://github.com/patrick-kidger/jaxtyping, release v0.3.11 (commit
f4083b20aed1e41355041331ebfa5dc109c1c851), the version aliasguard is tested against. Each case
names the test it comes from (``test_array.py::test_symbolic``); its calls keep that test's
arguments (shapes and dtypes; a ``jax.Array`` becomes the library under test's array) and its
verdicts, which `test_conformance.py` checks against jaxtyping live before comparing aliasguard.

Not translated, because they test no function signature or need JAX: PRNG keys, ``ArrayLike``
(JAX's), ``PyTree`` (needs ``jax.tree_util``), dataclass fields checked through ``__init__`` and
Equinox modules, error-message wording (test_messages.py), pickling, threading, the import hook,
the IPython extension, TensorFlow dtypes, and the checks of annotation construction (a malformed
annotation such as ``Float32[Array, "foo, bar"]`` fails before any function exists).

Cases whose source is ``"aliasguard issue"`` are disagreements found outside jaxtyping's suite.
"""

from __future__ import annotations

import collections.abc
import typing
from typing import Any, Literal, TypeVar

import beartype
import jaxtyping
import numpy as np

from .harness import (
    UNANNOTATED,
    Ann,
    Arg,
    Arr,
    Call,
    Case,
    Context,
    Custom,
    Lazy,
    Param,
    Text,
)

P = Param


def ok(*args: object, **kwargs: object) -> Call:
    return Call(args, "passes", kwargs)


def bad(*args: object, **kwargs: object) -> Call:
    return Call(args, "rejects", kwargs)


def A(*shape: int, dtype: str = "float32") -> Arr:  # noqa: N802  # reads like a constructor
    return Arr(shape, dtype)


ARRAY = "test_array.py"
DECORATOR = "test_decorator.py"
GENERATORS = "test_generators.py"
ISSUE = "aliasguard issue"


# ------------------------------------------------------------------------------------------------
# test_array.py


def _nested_inner_transposes(context: Context, arguments: dict[str, Any]) -> object:
    if arguments["transpose"]:
        return context.transposed(arguments["x"])
    return arguments["x"]


_NESTED_INNER = Case(
    ARRAY + "::test_nested_jaxtyped",
    "h",
    (P("x", Ann("Float32", "c b")), P("transpose", bool)),
    (),
    returns=Ann("Float32", "b c"),
    body=Custom(_nested_inner_transposes),
)


def _nested_outer_calls_inner(context: Context, arguments: dict[str, Any]) -> object:
    return context.build(_NESTED_INNER)(arguments["x"], arguments["transpose"])


def _calls_a_plain_beartype_function(context: Context, arguments: dict[str, Any]) -> object:
    def h(x: object) -> object:
        return x

    h.__annotations__ = {"x": context.annotation(Ann("Float32", "c b"), wrapped=False)}
    return beartype.beartype(h)(context.unwrap(arguments["x"]))


def _isinstance_in_the_body(context: Context, arguments: dict[str, Any]) -> object:
    y = context.transposed(arguments["x"])
    float32: Any = jaxtyping.Float32
    assert isinstance(y, float32[context.array_class, "c b"])
    # z is left unbound: b != c, so y cannot match "b z" once b is bound.
    assert not isinstance(y, float32[context.array_class, "b z"])
    out = context.array(Arr((500,)))
    assert isinstance(out, float32[context.array_class, "z"])
    return out


def _full(context: Context, arguments: dict[str, Any]) -> object:
    return context.array(Arr((arguments["dim"],)))


def _sized_in_body(context: Context, arguments: dict[str, Any]) -> object:
    # An f-string axis no annotation of the signature has: it reads the call's arguments.
    y = context.unwrap(arguments["y"])
    sized: Any = jaxtyping.Float[context.array_class, "{dim}"]  # a class at run time
    if not isinstance(y, sized):
        raise AssertionError("isinstance in the body: not of size dim")
    return None


def _full_self_size(context: Context, arguments: dict[str, Any]) -> object:
    del arguments
    return context.array(Arr((5,)))


_BROADCAST_VARIADIC = (("a", (3,)), ("b", (4,)), ("c", (4, 4)), ("d", (5, 6)))
_BROADCAST_VARIADIC_SMALL = (
    ("j", (1,)),
    ("k", (1, 4)),
    ("l", (5, 1)),
    ("m", (1, 1)),
    ("n", (2, 1)),
    ("o", (1, 6)),
)
_SHAPES = dict(_BROADCAST_VARIADIC + _BROADCAST_VARIADIC_SMALL)
# The pairs test_broadcast_variadic_named calls g with, and whether each passes.
_BROADCAST_VARIADIC_PAIRS = (
    ("aa", True), ("bb", True), ("cc", True), ("dd", True), ("bc", True),
    ("ab", False), ("ac", False), ("db", False),
    ("aj", True), ("bj", True), ("cj", True), ("dj", True), ("bk", True), ("ck", True),
    ("dk", False), ("cl", False),
    ("dl", True), ("am", True), ("cm", True), ("dm", True), ("an", True), ("bn", True),
    ("cn", False), ("dn", False),
    ("od", True),
    ("oc", False), ("oa", False),
)  # fmt: skip


# The pairs of sizes test_broadcast_named calls g with, and whether each passes.
_SIZE_PAIRS = (
    ((3, 3), True), ((4, 4), True), ((1, 1), True), ((3, 1), True),
    ((4, 1), True), ((1, 3), True), ((1, 4), True), ((3, 4), False), ((4, 3), False),
)  # fmt: skip


def _pair(names: str, passes: bool) -> Call:
    first, second = (Arr(_SHAPES[name]) for name in names)
    return ok(first, second) if passes else bad(first, second)


ARRAY_CASES: tuple[Case, ...] = (
    Case(ARRAY + "::test_basic", "g", (P("x", Ann("Shaped", "...")),), (ok(A()),)),
    Case(
        ARRAY + "::test_return",
        "g",
        (P("x", Ann("Float", "b c")),),
        (ok(A(3, 4)),),
        returns=Ann("Float", "c b"),
        body=A(4, 3),
    ),
    Case(
        ARRAY + "::test_return",
        "h",
        (P("x", Ann("Float", "b c")),),
        (bad(A(3, 4)),),
        returns=Ann("Float", "b c"),
        body=A(4, 3),
    ),
    Case(
        ARRAY + "::test_two_args",
        "g",
        (P("x", Ann("Shaped", "b c")), P("y", Ann("Shaped", "c d"))),
        (ok(A(3, 4), A(4, 5)), bad(A(3, 4), A(5, 4))),
    ),
    Case(
        ARRAY + "::test_two_args",
        "h",
        (P("x", Ann("Shaped", "b c")), P("y", Ann("Shaped", "c d"))),
        (ok(A(3, 4), A(4, 5)), bad(A(3, 4), A(5, 4))),
        returns=Ann("Shaped", "b d"),
        body=A(3, 5),
    ),
    Case(
        ARRAY + "::test_any_dtype",
        "g",
        (P("x", Ann("Shaped", "a b")),),
        (
            ok(A(3, 4)),
            ok(A(1, 2, dtype="bool")),
            ok(A(2, 2, dtype="int8")),
            ok(A(2, 2, dtype="uint16")),
            ok(A(3, 4, dtype="complex64")),
            bad(A(1)),
        ),
        returns=Ann("Shaped", "a b"),
        body=Arg("x"),
    ),
    Case(
        ARRAY + "::test_any_dtype",
        "g_bfloat16",
        (P("x", Ann("Shaped", "a b")),),
        (ok(A(3, 4, dtype="bfloat16")),),
        returns=Ann("Shaped", "a b"),
        body=Arg("x"),
        libraries=("torch",),  # NumPy has no bfloat16
    ),
    Case(
        ARRAY + "::test_nested_jaxtyped",
        "g",
        (P("x", Ann("Float32", "b c")), P("transpose", bool)),
        (ok(A(2, 3), True), ok(A(3, 3), True), ok(A(3, 3), False), bad(A(2, 3), False)),
        returns=Ann("Float32", "c b"),
        body=Custom(_nested_outer_calls_inner),
    ),
    Case(
        ARRAY + "::test_nested_nojaxtyped",
        "g",
        (P("x", Ann("Float32", "b c")),),
        (bad(A(2, 3)),),
        body=Custom(_calls_a_plain_beartype_function),
    ),
    Case(
        ARRAY + "::test_isinstance",
        "g",
        (P("x", Ann("Float32", "b c")),),
        (ok(A(2, 3)),),
        returns=Ann("Float32", " z"),
        body=Custom(_isinstance_in_the_body),
    ),
    Case(
        ARRAY + "::test_fixed",
        "g",
        (P("x", Ann("Float32", "4 5 foo")), P("y", Ann("Float32", " foo"))),
        (ok(A(4, 5, 2), A(2)), bad(A(3, 5, 2), A(2))),
        returns=Ann("Float32", "4 5"),
        body=A(4, 5),
    ),
    Case(
        ARRAY + "::test_anonymous",
        "g",
        (P("x", Ann("Float32", "foo _")), P("y", Ann("Float32", " _"))),
        (ok(A(3, 4), A(5)),),
    ),
    Case(
        ARRAY + "::test_named_variadic",
        "g",
        (
            P("x", Ann("Float32", "*batch foo")),
            P("y", Ann("Float32", " *batch")),
            P("z", Ann("Float32", " foo")),
        ),
        (
            ok(A(5), A(), A(5)),
            ok(A(3, 5), A(3), A(5)),
            bad(A(5), A(3), A(5)),
            bad(A(3, 5), A(), A(5)),
        ),
    ),
    Case(
        ARRAY + "::test_named_variadic",
        "h",
        (P("x", Ann("Float32", " foo *batch")), P("y", Ann("Float32", " foo *batch bar"))),
        (ok(A(4), A(4, 3)), bad(A(4), A(3, 4)), bad(A(4, 3), A(3, 4))),
    ),
    Case(
        ARRAY + "::test_anonymous_variadic",
        "g",
        (P("x", Ann("Float32", "... foo")), P("y", Ann("Float32", " foo"))),
        (
            ok(A(5), A(5)),
            ok(A(3, 5), A(5)),
            ok(A(3, 4, 5), A(5)),
            bad(A(5), A(1)),
            bad(A(3, 5), A(1)),
            bad(A(3, 4, 5), A(1)),
        ),
    ),
    Case(
        ARRAY + "::test_broadcast_fixed",
        "g",
        (P("x", Ann("Float32", "#4")),),
        (ok(A(4)), ok(A(1)), bad(A(3))),
    ),
    Case(
        ARRAY + "::test_broadcast_named",
        "g",
        (P("x", Ann("Float32", " #foo")), P("y", Ann("Float32", " #foo"))),
        tuple(
            (ok if passes else bad)(A(first), A(second)) for (first, second), passes in _SIZE_PAIRS
        ),
    ),
    Case(
        ARRAY + "::test_broadcast_variadic_named",
        "g",
        (P("x", Ann("Float32", " *#foo")), P("y", Ann("Float32", " *#foo"))),
        tuple(_pair(names, passes) for names, passes in _BROADCAST_VARIADIC_PAIRS),
    ),
    Case(
        ARRAY + "::test_variadic_mixed_broadcast",
        "f",
        (P("x", Ann("Float", " *foo")), P("y", Ann("Float", " #*foo"))),
        (bad(A(3, 4), A(5)), ok(A(7, 3, 2), A(1, 2))),
    ),
    Case(
        ARRAY + "::test_variadic_mixed_broadcast2",
        "f",
        (P("x", Ann("Float", " *#foo")), P("y", Ann("Float", " *foo"))),
        (bad(A(3, 4), A(5)), ok(A(1, 2), A(7, 3, 2))),
    ),
    Case(
        ARRAY + "::test_variadic_mixed_broadcast3",
        "f",
        (
            P("x", Ann("Float", "*B L D")),
            P("y", Ann("Float", "*#B J d"), kind="keyword"),
            P("z", Ann("Bool", "*B L J"), kind="keyword"),
        ),
        (ok(A(2, 7, 3, 2, 2), y=A(2, 7, 1, 2, 2), z=A(2, 7, 3, 2, 2, dtype="bool")),),
        returns=Ann("Float", "*B L D"),
        body=Arg("x"),
    ),
    Case(
        ARRAY + "::test_symbolic",
        "make_slice",
        (P("x", Ann("Float32", " dim")),),
        (ok(A(5)), bad(A(3, 4))),
        returns=Ann("Float32", " dim-1"),
        body=A(4),
    ),
    Case(
        ARRAY + "::test_symbolic",
        "cat",
        (P("x", Ann("Float32", " dim")),),
        (ok(A(5)), bad(A(3, 4))),
        returns=Ann("Float32", " 2*dim"),
        body=A(10),
    ),
    Case(
        ARRAY + "::test_symbolic",
        "bad_make_slice",
        (P("x", Ann("Float32", " dim")),),
        (bad(A(5)),),
        returns=Ann("Float32", " dim-1"),
        body=Arg("x"),
    ),
    Case(
        ARRAY + "::test_symbolic",
        "bad_cat",
        (P("x", Ann("Float32", " dim")),),
        (bad(A(5)),),
        returns=Ann("Float32", " 2*dim"),
        body=A(15),
    ),
    Case(
        ARRAY + "::test_incomplete_symbolic",
        "foo",
        (P("x", Ann("Float32", " 2*dim")),),
        (bad(A(4)),),
    ),
    Case(
        ARRAY + "::test_deferred_symbolic_good",
        "foo",
        (P("dim", int), P("fill", Ann("Float", ""))),
        (ok(3, A()),),
        returns=Ann("Float", " {dim}"),
        body=Custom(_full),
    ),
    Case(
        ARRAY + "::test_deferred_symbolic_good",
        "bar",
        (P("fill", Ann("Float", "")),),
        (ok(A()),),
        returns=Ann("Float", " {self.size}"),
        body=Custom(_full_self_size),
        owner={"size": 5},
    ),
    Case(
        ARRAY + "::test_deferred_symbolic_bad",
        "foo",
        (P("dim", int), P("fill", Ann("Float", ""))),
        (bad(3, A()),),
        returns=Ann("Float", " {dim-1}"),
        body=Custom(_full),
    ),
    Case(
        ARRAY + "::test_deferred_symbolic_bad",
        "bar",
        (P("fill", Ann("Float", "")),),
        (bad(A()),),
        returns=Ann("Float", " {self.size}-1"),
        body=Custom(_full_self_size),
        owner={"size": 5},
    ),
    # isinstance() checks in the source; here the same annotations on a parameter.
    Case(
        ARRAY + "::test_ignored_names",
        "x",
        (P("x", Ann("Float", "foo=4")),),
        (ok(A(4)), bad(A(5)), bad(A(4, 5))),
    ),
    Case(
        ARRAY + "::test_ignored_names",
        "y",
        (P("x", Ann("Float", "bar qux foo=bar+qux")),),
        (ok(A(2, 3, 5)), bad(A(2, 3, 6))),
    ),
    Case(
        ARRAY + "::test_ignored_names",
        "z",
        (P("x", Ann("Float", "bar #foo=bar")),),
        (ok(A(3, 3)), ok(A(3, 1)), bad(A(3, 4))),
    ),
    Case(
        ARRAY + "::test_ignored_names",
        "w",
        (P("x", Ann("Float", "bar foo=#bar")),),
        (ok(A(3, 3)), ok(A(3, 1)), bad(A(3, 4))),
    ),
    Case(
        ARRAY + "::test_symbolic_functions",
        "x",
        (P("x", Ann("Float", "foo bar min(foo,bar)")),),
        (ok(A(2, 3, 2)), ok(A(3, 2, 2)), bad(A(3, 2, 4))),
    ),
    Case(
        ARRAY + "::test_extension",
        "f",
        (
            P("a", Ann("Float", "a")),
            # Float[Float[L, "a"], "b"] is Float[L, "b a"].
            P(
                "b",
                Lazy(lambda array: _extend(_extend(array, "a"), "b"), 'Float[Float[L, "a"], "b"]'),
            ),
        ),
        (ok(A(4), A(3, 4)), bad(A(3), A(3, 4)), bad(A(3, 4), A(3, 4))),
    ),
    Case(
        ARRAY + "::test_scalar_variadic_dim",
        "f",
        (P("x", Lazy(lambda _: _extend(float, "#*shape"), 'Float[float, "#*shape"]')),),
        (ok(1.0), bad("1.0")),
    ),
    Case(
        ARRAY + "::test_uniontype",
        "f",
        (P("x", Lazy(lambda array: _extend(array, "") | None, 'Float[L, ""] | None')),),
        (bad(A(2)), ok(A()), ok(None)),
    ),
)


def _iterator_of(item: object) -> object:
    iterator: Any = collections.abc.Iterator
    built: object = iterator[item]
    return built


def _extend(array: object, shape: str) -> Any:
    float_: Any = jaxtyping.Float
    return float_[array, shape]


# ------------------------------------------------------------------------------------------------
# test_decorator.py


class GlobalFoo:
    """A module-level class that string annotations name (``_GlobalFoo`` in the source)."""


_GLOBAL = {"GlobalFoo": GlobalFoo}

DECORATOR_CASES: tuple[Case, ...] = (
    Case(
        DECORATOR + "::test_varargs",
        "f",
        (P("args", kind="var_positional"),),
        (ok(1, 2),),
        returns=None,
    ),
    Case(
        DECORATOR + "::test_varkwargs",
        "f",
        (P("kwargs", kind="var_keyword"),),
        (ok(a=1, b=2),),
        returns=None,
    ),
    Case(
        DECORATOR + "::test_defaults", "f", (P("x", int), P("y", default=1)), (ok(1),), returns=None
    ),
    Case(
        DECORATOR + "::test_default_bindings",
        "f",
        (P("x", int), P("y", int, default=1)),
        (ok(1), ok(1, 1), ok(1, 0), ok(1, 5)),
        returns=Ann("Float", "x {y}"),
        body=Custom(
            lambda context, arguments: context.array(Arr((arguments["x"], arguments["y"])))
        ),
    ),
    Case(
        DECORATOR + "::test_global_stringified_annotation",
        "f",
        (P("x", Text("GlobalFoo")),),
        (ok(GlobalFoo()),),
        returns=Text("GlobalFoo"),
        body=Arg("x"),
        namespace=_GLOBAL,
    ),
    Case(
        DECORATOR + "::test_global_stringified_annotation",
        "g",
        (P("x", int),),
        (bad(1),),
        returns=Text("GlobalFoo"),
        body=Arg("x"),
        namespace=_GLOBAL,
    ),
    Case(
        DECORATOR + "::test_global_stringified_annotation",
        "h",
        (P("x", Text("GlobalFoo")),),
        (bad(1),),
        returns=int,
        body=Arg("x"),
        namespace=_GLOBAL,
    ),
    Case(
        DECORATOR + "::test_local_stringified_annotation",
        "f",
        (P("x", Text("LocalFoo")),),
        # jaxtyping's test only checks that a local class does not make the call fail.
        (ok(1),),
        returns=Text("LocalFoo"),
        body=Arg("x"),
        local_classes=("LocalFoo",),
    ),
    Case(
        DECORATOR + "::test_no_type_check",
        "f",
        (P("x", Ann("Float", "foo bar")),),
        (ok("not an array"),),
        decorators=("@", "typing.no_type_check"),
    ),
    Case(
        DECORATOR + "::test_no_type_check",
        "g",
        (P("x", Ann("Float", "foo bar")),),
        (ok("not an array"),),
        decorators=("typing.no_type_check", "@"),
    ),
    Case(
        DECORATOR + "::test_stringified_multiple_varaidic",
        "foo",
        (),
        (ok(),),
        returns=Text('Float[{L}, "*foo *bar"]', array=True),
        body=A(3),
    ),
    Case(
        DECORATOR + "::test_stringified_forward_annotation",
        "returns_self",
        (),
        (ok(),),
        returns=Text("Owner"),
        body=Custom(lambda context, arguments: arguments["self"]),
        owner={},
        modes=("bare",),  # no array anywhere
    ),
    Case(
        DECORATOR + "::test_stringified_forward_annotation",
        "returns_tuple",
        (),
        (ok(),),
        returns=Text('tuple["Owner", int]'),
        body=Custom(lambda context, arguments: (arguments["self"], 1)),
        owner={},
        modes=("bare",),
    ),
    # The class M and N members, with jaxtyping's typechecker=None replaced by the checker; the
    # source tests that each decorator order still binds and returns.
    Case(
        DECORATOR + "::test_classmethod",
        "g1",
        (),
        (ok(),),
        returns=int,
        body=Custom(lambda context, arguments: 3),
        decorators=("@", "classmethod"),
        owner={},
        modes=("bare",),
    ),
    Case(
        DECORATOR + "::test_classmethod",
        "g2",
        (),
        (ok(),),
        returns=int,
        body=Custom(lambda context, arguments: 4),
        decorators=("classmethod", "@"),
        owner={},
        modes=("bare",),
    ),
    Case(
        DECORATOR + "::test_staticmethod",
        "h1",
        (),
        (ok(),),
        returns=int,
        body=Custom(lambda context, arguments: 3),
        decorators=("@", "staticmethod"),
        owner={},
        modes=("bare",),
    ),
    Case(
        DECORATOR + "::test_property",
        "j1",
        (),
        (ok(),),
        returns=int,
        body=Custom(lambda context, arguments: 3),
        decorators=("@", "property"),
        owner={},
        modes=("bare",),
    ),
    Case(
        DECORATOR + "::test_property",
        "j2",
        (),
        (ok(),),
        returns=int,
        body=Custom(lambda context, arguments: 4),
        decorators=("property", "@"),
        owner={},
        modes=("bare",),
    ),
)

# ------------------------------------------------------------------------------------------------
# test_generators.py

GENERATOR_CASES: tuple[Case, ...] = (
    Case(
        GENERATORS + "::test_generators_simple",
        "gen",
        (P("x", Ann("Float", "*")),),
        (ok(A(2)), ok(A(3, 4))),
        returns=Lazy(lambda array: _iterator_of(_extend(array, "*")), 'Iterator[Float[L, "*"]]'),
        body=Arg("x"),
        generator=True,
        modes=("bare",),
    ),
    Case(
        GENERATORS + "::test_generators_dont_modify_same_annotations",
        "g",
        (P("x", Ann("Float", "1")),),
        (bad(A(2)),),
        returns=Lazy(lambda array: _iterator_of(_extend(array, "1")), 'Iterator[Float[L, "1"]]'),
        body=Arg("x"),
        generator=True,
        modes=("bare",),
    ),
    Case(
        GENERATORS + "::test_generators_dont_modify_same_annotations",
        "m",
        (P("x", Ann("Float", "1")),),
        (bad(A(2)),),
        returns=Ann("Float", "1"),
        body=Arg("x"),
    ),
)

# ------------------------------------------------------------------------------------------------
# Disagreements found outside jaxtyping's suite


def _any_array(_: type) -> object:
    return _extend(Any, "foo bar")


def _type_variable_array(_: type) -> object:
    return _extend(TypeVar("T"), "foo bar")


def _struct_dtype(_: type) -> object:
    dtype = jaxtyping.make_numpy_struct_dtype(STRUCT, "Pair")
    annotation: Any = dtype
    return annotation[np.ndarray, "_"]


#: The structured dtype of test_array.py::test_numpy_struct_dtype.
STRUCT = np.dtype([("first", np.uint8), ("second", bool)])


class StructArr(Arr):
    """A one-element array of `STRUCT`."""

    def build(self, library: Literal["numpy", "torch"]) -> Any:
        del library
        return np.zeros(self.shape, dtype=STRUCT)

    def __str__(self) -> str:
        return f"({self.shape[0]},) struct"


def _bare_union(_: type) -> object:
    return _extend(np.ndarray | typing.cast("type", _torch_tensor()), "n")


def _torch_tensor() -> object:
    import torch

    return torch.Tensor


def _isinstance_binds(context: Context, arguments: dict[str, Any]) -> object:
    del arguments
    # b and c are bound to 3 and 4 by the call: a (4, 4) array does not match "b c" here.
    annotation = context.annotation(Ann("Float", "b c"), wrapped=False)
    return isinstance(context.array(Arr((4, 4))), typing.cast("type", annotation))


ISSUE_CASES: tuple[Case, ...] = (
    Case(
        ARRAY + "::test_any",
        "f_any",
        (P("x", Lazy(_any_array, 'Float[Any, "foo bar"]')),),
        (ok(A(3, 4)), bad(A(3, 2, 2)), bad(A(3, 4, dtype="int32")), bad(1)),
        modes=("bare",),  # Shared[...] and Owned[...] take np.ndarray or torch.Tensor payloads
    ),
    Case(
        ARRAY + "::test_any",
        "f_typevar",
        (P("x", Lazy(_type_variable_array, 'Float[TypeVar("T"), "foo bar"]')),),
        (ok(A(3, 4)), bad(A(3, 2, 2)), bad(A(3, 4, dtype="int32")), bad(1)),
        modes=("bare",),
    ),
    Case(
        ARRAY + "::test_numpy_struct_dtype",
        "f",
        (P("x", Lazy(_struct_dtype, 'make_numpy_struct_dtype(...)[np.ndarray, "_"]')),),
        (ok(StructArr((1,))), bad(A(1, dtype="uint8"))),
        libraries=("numpy",),
    ),
    Case(
        ISSUE,
        "broadcast_symbolic",
        (P("x", Ann("Float", "n #n+1")),),
        (ok(A(3, 1)), ok(A(3, 4)), bad(A(3, 3))),
    ),
    Case(
        ISSUE,
        "bare_union",
        (
            P("x", Lazy(_bare_union, 'Float[np.ndarray | Tensor, "n"]')),
            P("y", Lazy(_bare_union, 'Float[np.ndarray | Tensor, "n"]')),
        ),
        (
            bad(A(3), A(4)),
            ok(A(3), A(3)),
            bad(Arr((3,), library="numpy"), Arr((4,), library="torch")),
        ),
    ),
    Case(
        ISSUE,
        "isinstance_in_body",
        (P("x", Ann("Float", "b c")),),
        (ok(A(3, 4)),),
        returns=Literal[False],
        body=Custom(_isinstance_binds),
    ),
    Case(
        ISSUE,
        "unparsable_string",
        (P("x", Text("not valid python (")),),
        (ok(1),),
    ),
    Case(
        ISSUE,
        "fstring_argument",
        (P("dim", int),),
        (ok(3),),
        returns=Ann("Float", "{dim}"),
        body=Custom(_full),
    ),
    Case(
        ISSUE,
        "fstring_argument_wrong",
        (P("dim", int),),
        (bad(4),),
        returns=Ann("Float", "{dim}"),
        body=Custom(lambda context, arguments: context.array(Arr((3,)))),
    ),
    Case(
        ISSUE,
        "fstring_between_axes",
        (P("x", Ann("Float", "x {y}")), P("y", int)),
        (ok(A(2, 3), 3), bad(A(2, 3), 4)),
    ),
    Case(
        ISSUE,
        "fstring_in_body",
        (P("dim", int), P("y", Ann("Float", "n"))),
        (ok(3, A(3)), ok(2, y=A(2))),
        body=Custom(_sized_in_body),
    ),
)

ALL_CASES: tuple[Case, ...] = ARRAY_CASES + DECORATOR_CASES + GENERATOR_CASES + ISSUE_CASES

__all__ = ["ALL_CASES", "UNANNOTATED"]
