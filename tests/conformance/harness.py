"""Builds a conformance case's function under a decorator, calls it, and reports the verdict.

A case states a signature (parameter and return annotations), what the body does and the calls to
make. The harness writes the function's source (so that string annotations, decorator stacks,
methods and function-local classes behave as they do in a real module), executes it once per
decorator, library and mode, and classifies each call as one of four verdicts:

- ``passes``: the call returned;
- ``rejects``: the checker raised its own error (jaxtyping's or beartype's violation, or
  aliasguard's `AnnotationError` / `AliasingError`);
- ``refuses``: the decorator (or building the annotation) raised before any call;
- ``crashes``: anything else, such as ``TypeError: typing.Any cannot be used with isinstance()``.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

import beartype
import beartype.roar
import jaxtyping
import numpy as np
import torch

import aliasguard

Library = Literal["numpy", "torch"]
Mode = Literal["bare", "shared", "owned"]
Verdict = Literal["passes", "rejects", "refuses", "crashes"]
Checker = Literal["jaxtyping", "aliasguard"]

LIBRARIES: Final[tuple[Library, ...]] = ("numpy", "torch")
MODES: Final[tuple[Mode, ...]] = ("bare", "shared", "owned")
ARRAY_CLASSES: Final[Mapping[Library, type]] = {"numpy": np.ndarray, "torch": torch.Tensor}
#: How a string annotation names the array class (``{L}`` in `Text`).
ARRAY_CLASS_SOURCE: Final[Mapping[Library, str]] = {"numpy": "np.ndarray", "torch": "torch.Tensor"}

_ORACLE_ERRORS: Final = (
    beartype.roar.BeartypeCallHintViolation,
    jaxtyping.TypeCheckError,
    jaxtyping.AnnotationError,
)
_ALIASGUARD_ERRORS: Final = (
    aliasguard.AnnotationError,
    aliasguard.AliasingError,
    # A plain @beartype function the body calls rejects its argument with beartype's own error,
    # under either decorator (test_nested_nojaxtyped): aliasguard leaves the body's errors alone.
    beartype.roar.BeartypeCallHintViolation,
)


class _Unannotated:
    def __repr__(self) -> str:
        return "UNANNOTATED"


#: A parameter or return without an annotation.
UNANNOTATED: Final = _Unannotated()


@dataclasses.dataclass(frozen=True)
class Arr:
    """An array: a call's argument, or what the body returns.

    Attributes:
        shape: its shape.
        dtype: a NumPy/torch dtype name (``"float32"``, ``"bool"``, ``"bfloat16"``...).
        library: the library it belongs to; ``None`` for the library under test.
    """

    shape: tuple[int, ...]
    dtype: str = "float32"
    library: Library | None = None

    def build(self, library: Library) -> Any:
        chosen = self.library or library
        if chosen == "numpy":
            return np.zeros(self.shape, dtype=np.dtype(self.dtype))
        return torch.zeros(self.shape, dtype=getattr(torch, self.dtype))

    def __str__(self) -> str:
        shape = "(" + ",".join(map(str, self.shape)) + ")"
        dtype = "" if self.dtype == "float32" else f" {self.dtype}"
        library = "" if self.library is None else f" {self.library}"
        return f"{shape}{dtype}{library}"


@dataclasses.dataclass(frozen=True)
class Ann:
    """A jaxtyping annotation on the library under test: ``Ann("Float32", "b c")``."""

    dtype: str
    shape: str

    def build(self, library: Library) -> object:
        dtype: Any = getattr(jaxtyping, self.dtype)
        built: object = dtype[ARRAY_CLASSES[library], self.shape]
        return built


@dataclasses.dataclass(frozen=True)
class Text:
    """A string annotation, written as source; ``{L}`` stands for the library's array class.

    Attributes:
        source: the annotation's text.
        array: whether it names an array annotation, to be wrapped in `Shared`/`Owned` by the
            modes that wrap.
    """

    source: str
    array: bool = False


@dataclasses.dataclass(frozen=True)
class Lazy:
    """An annotation built from the library's array class by a function."""

    build: Callable[[type], object]
    label: str


@dataclasses.dataclass(frozen=True)
class Param:
    name: str
    annotation: object = UNANNOTATED
    kind: Literal["positional", "keyword", "var_positional", "var_keyword"] = "positional"
    #: The default value (`UNANNOTATED` for none).
    default: object = UNANNOTATED


@dataclasses.dataclass(frozen=True)
class Arg:
    """The body returns this parameter's value, as the function received it."""

    name: str


@dataclasses.dataclass(frozen=True)
class Custom:
    """The body runs ``run(context, arguments)``."""

    run: Callable[[Context, dict[str, Any]], object]


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity: its verdicts are cached
class Call:
    """One call of a case's function.

    Attributes:
        args: positional arguments (`Arr` placeholders become arrays of the library under test).
        expect: jaxtyping's verdict, as the source test states it.
        kwargs: keyword arguments.
    """

    args: tuple[object, ...]
    expect: Verdict
    kwargs: Mapping[str, object] = dataclasses.field(default_factory=dict[str, object])

    def label(self) -> str:
        parts = [_argument_label(value) for value in self.args]
        parts += [f"{key}={_argument_label(value)}" for key, value in self.kwargs.items()]
        return ", ".join(parts)


def _argument_label(value: object) -> str:
    return str(value) if isinstance(value, Arr) else repr(value)


@dataclasses.dataclass(frozen=True, eq=False)  # compared and hashed by identity: built once
class Case:
    """A function signature, its body, and the calls made to it.

    Attributes:
        source: where the case comes from: ``"test_array.py::test_symbolic"`` (jaxtyping's
            test suite) or ``"aliasguard issue"``.
        name: the function's name, unique within its source.
        params: the parameters.
        returns: the return annotation (`UNANNOTATED` for none).
        body: ``None`` (returns ``None``), `Arg`, `Arr` (a fresh array) or `Custom`.
        calls: the calls.
        libraries: the libraries the case runs on.
        modes: the modes of `aliasguard.checked` it runs in (jaxtyping runs it bare).
        decorators: the decorator stack, outermost first; ``"@"`` is the decorator under test.
        owner: attributes of a class the function is a method of (``self`` comes first), or
            ``None`` for a plain function.
        generator: the body is a generator; each call takes its first item.
        local_classes: classes defined in the function that defines the case's function, so that
            string annotations can name function-local classes.
        namespace: extra module-level names for string annotations.
    """

    source: str
    name: str
    params: tuple[Param, ...]
    calls: tuple[Call, ...]
    returns: object = UNANNOTATED
    body: object = None
    libraries: tuple[Library, ...] = LIBRARIES
    modes: tuple[Mode, ...] = MODES
    decorators: tuple[str, ...] = ("@",)
    owner: Mapping[str, object] | None = None
    generator: bool = False
    local_classes: tuple[str, ...] = ()
    namespace: Mapping[str, object] = dataclasses.field(default_factory=dict[str, object])

    def call_id(self, call: Call) -> str:
        return f"{self.source}/{self.name}({call.label()})"


@dataclasses.dataclass
class Context:
    """What a `Custom` body sees: the library and mode under test, and how to build helpers."""

    library: Library
    mode: Mode
    checker: Checker

    @property
    def array_class(self) -> type:
        return ARRAY_CLASSES[self.library]

    def annotation(self, annotation: object, *, wrapped: bool = True) -> object:
        """``annotation`` built for this library, wrapped as this mode wraps (unless told not)."""
        built = _build_annotation(annotation, self.library)
        return _wrap_annotation(built, self.mode) if wrapped else built

    def array(self, spec: Arr) -> Any:
        return spec.build(self.library)

    @staticmethod
    def unwrap(value: object) -> Any:
        return value.value if isinstance(value, aliasguard.Shared) else value

    def transposed(self, value: object) -> Any:
        """A fresh, transposed copy of an array argument."""
        array: Any = self.unwrap(value)
        transposed: Any = array.T
        return transposed.copy() if isinstance(array, np.ndarray) else transposed.clone()

    def build(self, case: Case) -> Callable[..., Any]:
        """``case``'s function under this context's decorator and mode (for nested calls)."""
        built = _build(case, self.library, self.mode, self.checker)
        if isinstance(built, BaseException):
            raise built
        return built


def _build_annotation(annotation: object, library: Library) -> object:
    if isinstance(annotation, Ann):
        return annotation.build(library)
    if isinstance(annotation, Lazy):
        return annotation.build(ARRAY_CLASSES[library])
    return annotation


def is_array_annotation(annotation: object) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, jaxtyping.AbstractArray)


def _wrapper(mode: Mode) -> Any:
    return aliasguard.Shared if mode == "shared" else aliasguard.Owned


def _wrap_annotation(annotation: object, mode: Mode) -> object:
    """``A`` becomes ``Shared[A]`` (``Owned[A]``); a union of arrays, a union of wrappers."""
    if mode == "bare":
        return annotation
    wrapper = _wrapper(mode)
    if is_array_annotation(annotation):
        wrapped: object = wrapper[annotation]
        return wrapped
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = typing.get_args(annotation)
        if any(is_array_annotation(member) for member in members):
            union: Any = typing.Union
            return union[  # a union built at run time, from the members' tuple
                tuple(
                    wrapper[member] if is_array_annotation(member) else member for member in members
                )
            ]
    return annotation


def _wrap_argument(value: object, mode: Mode) -> object:
    if isinstance(value, np.ndarray):
        return _wrapper(mode)(value if mode == "shared" else value.copy())
    if isinstance(value, torch.Tensor):
        return _wrapper(mode)(value if mode == "shared" else value.clone())
    return value


_NAMESPACE: Final[Mapping[str, object]] = {
    "np": np,
    "torch": torch,
    "typing": typing,
    "Shared": aliasguard.Shared,
    "Owned": aliasguard.Owned,
    **{name: getattr(jaxtyping, name) for name in ("Float", "Float32", "Shaped", "Int", "Bool")},
}


def _annotation_source(
    key: str, annotation: object, library: Library, mode: Mode, values: dict[str, object]
) -> tuple[str, bool]:
    """The text that annotates ``key`` in the generated source, and whether it is wrapped."""
    if isinstance(annotation, Text):
        text = annotation.source.replace("{L}", ARRAY_CLASS_SOURCE[library])
        if annotation.array and mode != "bare":
            text = f"{'Shared' if mode == 'shared' else 'Owned'}[{text}]"
        return repr(text), annotation.array and mode != "bare"
    bare = _build_annotation(annotation, library)
    built = _wrap_annotation(bare, mode)
    values[f"__annotation_{key}__"] = built
    return f"__annotation_{key}__", built is not bare


def _source(
    case: Case, library: Library, mode: Mode, values: dict[str, object]
) -> tuple[str, set[str], bool]:
    """The source of a module-level ``__make__()`` that defines and returns the case's callable."""
    wrapped: set[str] = set()
    receiver = _receiver(case)
    parameters: list[str] = [receiver] if receiver else []
    keyword_marked = any(param.kind == "var_positional" for param in case.params)
    for param in case.params:
        text = param.name
        if param.annotation is not UNANNOTATED:
            source, is_wrapped = _annotation_source(
                param.name, param.annotation, library, mode, values
            )
            text += f": {source}"
            if is_wrapped:
                wrapped.add(param.name)
        if param.kind == "keyword" and not keyword_marked:
            parameters.append("*")
            keyword_marked = True
        if param.default is not UNANNOTATED:
            values[f"__default_{param.name}__"] = param.default
            text += f" = __default_{param.name}__"
        prefix = {"var_positional": "*", "var_keyword": "**"}.get(param.kind, "")
        parameters.append(prefix + text)
    returns = ""
    returns_wrapped = False
    if case.returns is not UNANNOTATED:
        source, returns_wrapped = _annotation_source("return", case.returns, library, mode, values)
        returns = f" -> {source}"
    names = [receiver] if receiver else []
    names += [param.name for param in case.params]
    arguments = ", ".join(f"{name!r}: {name}" for name in names)
    # A method's class is module-level, as in a real module, so string annotations can name it;
    # a plain function is defined inside __make__, beside any function-local classes.
    header = ["class Owner:"] if case.owner is not None else ["def __make__():"]
    header += [f"    class {name}:\n        pass" for name in case.local_classes]
    lines = header + [
        f"    @{'__decorate__' if decorator == '@' else decorator}" for decorator in case.decorators
    ]
    lines.append(f"    def {case.name}({', '.join(parameters)}){returns}:")
    lines.append(f"        {'yield' if case.generator else 'return'} __body__({{{arguments}}})")
    lines += (
        ["def __make__():", "    return Owner"]
        if case.owner is not None
        else [f"    return {case.name}"]
    )
    return "\n".join(lines) + "\n", wrapped, returns_wrapped


def _receiver(case: Case) -> str | None:
    """The first parameter of a method: ``self``, ``cls``, or none for a plain or static one."""
    if case.owner is None or "staticmethod" in case.decorators:
        return None
    return "cls" if "classmethod" in case.decorators else "self"


def _decorator(checker: Checker) -> Callable[[Any], Any]:
    if checker == "jaxtyping":
        jaxtyped: Any = jaxtyping.jaxtyped  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]  # its typechecker parameter is unannotated
        oracle: Callable[[Any], Any] = jaxtyped(typechecker=beartype.beartype)
        return oracle
    return aliasguard.checked


@functools.cache
def _build(
    case: Case, library: Library, mode: Mode, checker: Checker
) -> Callable[..., Any] | BaseException:
    """The case's callable, or the exception that building it raised (a refusal)."""
    context = Context(library, mode, checker)
    values: dict[str, object] = {
        **_NAMESPACE,
        **case.namespace,
        "__decorate__": _decorator(checker),
        # A module name of its own: beartype caches what a string annotation resolves to per module.
        "__name__": f"conformance_{case.name}_{id(case)}_{library}_{mode}_{checker}",
    }
    try:
        source, wrapped, returns_wrapped = _source(case, library, mode, values)
    except Exception as error:  # a wrapper that refuses its payload: a refusal
        return error

    def body(arguments: dict[str, Any]) -> object:
        result = _run_body(case.body, context, arguments)
        if returns_wrapped and isinstance(result, np.ndarray | torch.Tensor):
            return _wrapper(mode)(result)
        return result

    values["__body__"] = body
    try:
        exec(compile(source, f"<conformance {case.source}/{case.name}>", "exec"), values)
        made: Any = typing.cast("Callable[[], object]", values["__make__"])()
    except Exception as error:  # the decorator refused the function
        return error
    if case.owner is not None:
        for attribute, value in case.owner.items():
            setattr(made, attribute, value)
    function_name = case.name
    generator = case.generator

    def call(*args: object, **kwargs: object) -> object:
        args, kwargs = _wrap_call(case, wrapped, mode, args, kwargs)
        if case.owner is not None:
            target = getattr(made(), function_name)
            if not callable(target):  # a property: reading it was the call
                return target
            result: Any = target(*args, **kwargs)
        else:
            result = made(*args, **kwargs)
        if generator:
            # Run it to the end: jaxtyping keeps the call's axis bindings until the generator
            # finishes, and a suspended one would leave them to every later isinstance check.
            items: list[object] = list(result)
            return items[0]
        return result

    return call


def _wrap_call(
    case: Case, wrapped: set[str], mode: Mode, args: tuple[object, ...], kwargs: dict[str, object]
) -> tuple[tuple[object, ...], dict[str, object]]:
    if mode == "bare":
        return args, kwargs
    positional = [param for param in case.params if param.kind == "positional"]
    var_positional = next((param for param in case.params if param.kind == "var_positional"), None)
    var_keyword = next((param for param in case.params if param.kind == "var_keyword"), None)
    new_args: list[object] = []
    for index, value in enumerate(args):
        param = positional[index] if index < len(positional) else var_positional
        new_args.append(_wrap_argument(value, mode) if param and param.name in wrapped else value)
    names = {param.name for param in case.params}
    new_kwargs: dict[str, object] = {}
    for key, value in kwargs.items():
        name = key if key in names else (var_keyword.name if var_keyword else key)
        new_kwargs[key] = _wrap_argument(value, mode) if name in wrapped else value
    return tuple(new_args), new_kwargs


def _run_body(body: object, context: Context, arguments: dict[str, Any]) -> object:
    if body is None:
        return None
    if isinstance(body, Arg):
        return arguments[body.name]
    if isinstance(body, Arr):
        return context.array(body)
    if isinstance(body, Custom):
        return body.run(context, arguments)
    raise TypeError(f"unknown body {body!r}: use None, Arg, Arr or Custom")


@dataclasses.dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    #: The first line of the error, for reports; empty when the call passed.
    error: str = ""


def _first_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def run(case: Case, call: Call, library: Library, mode: Mode, checker: Checker) -> Outcome:
    """Calls ``call`` on the case's function built for ``checker``, and classifies what happened."""
    built = _build(case, library, mode, checker)
    if isinstance(built, BaseException):
        return Outcome("refuses", _first_line(built))
    args = tuple(value.build(library) if isinstance(value, Arr) else value for value in call.args)
    kwargs = {
        key: value.build(library) if isinstance(value, Arr) else value
        for key, value in call.kwargs.items()
    }
    errors = _ORACLE_ERRORS if checker == "jaxtyping" else _ALIASGUARD_ERRORS
    try:
        built(*args, **kwargs)
    except errors as error:
        return Outcome("rejects", _first_line(error))
    except Exception as error:  # any other error is the verdict "crashes"
        return Outcome("crashes", _first_line(error))
    return Outcome("passes")
