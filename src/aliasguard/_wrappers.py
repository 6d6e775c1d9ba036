"""`Shared` and `Owned`: aliasing as a type.

``Shared[A]`` may alias the memory of its ``source``: a borrow, read-only by contract. ``Owned[A]``
holds memory nothing else holds; it is a final subclass of ``Shared`` because an owned value can be
lent wherever a borrow is expected, never the reverse.

Static checkers see two plain generic classes. At run time, subscripting returns a cached checkable
class, so ``isinstance(x, Owned[Float[Tensor, "b c"]])`` checks the payload's library type, dtype and
shape too, and beartype (which only checks the outer class of a user generic, beartype issues 204 and
238) checks the payload as well, because to beartype the subscripted form is a plain class.
"""

from __future__ import annotations

import copy
import sys
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Generic, NoReturn, TypeVar, final

import numpy as np
import torch
from typing_extensions import Never, TypeIs

from ._annotation_compat import annotation_text
from ._articles import with_article
from ._errors import AliasingError
from ._jaxtyping_compat import annotation_key, array_check
from ._torch_compat import storage_has_other_tensors

A_co = TypeVar("A_co", bound="np.ndarray[Any, Any] | torch.Tensor", covariant=True)


class _Moved:
    """Marks a handle whose value was moved to another handle (see `aliasguard.checked`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<moved>"


MOVED: Final = _Moved()


if TYPE_CHECKING:
    # A stub-only module: it describes the payload to checkers and has no run-time half.
    from ._readonly import (  # pyright: ignore[reportMissingModuleSource]
        ReadOnlyArray,
        ReadOnlyTensor,
    )

    _Payload = TypeVar("_Payload", bound="np.ndarray[Any, Any] | torch.Tensor")
    _Shape = TypeVar("_Shape", bound=tuple[Any, ...])
    _DType = TypeVar("_DType", bound=np.dtype[Any])

    class _BorrowedValue:
        """``Shared.value`` as checkers see it: a read-only view of the payload.

        At run time ``value`` is a plain property that returns the real tensor or array. Checkers
        pick the first overload the wrapper matches. A ``Shared[Any]`` matches ``Shared[Never]``
        and stays ``Any``; a payload they cannot place (a union, a type variable bound to one)
        stays itself.
        """

        @typing.overload
        def __get__(self, instance: None, owner: type[object], /) -> typing.Self: ...
        @typing.overload
        def __get__(self, instance: Shared[Never], owner: type[object], /) -> Any: ...
        @typing.overload
        def __get__(
            self, instance: Shared[torch.Tensor], owner: type[object], /
        ) -> ReadOnlyTensor: ...
        @typing.overload
        def __get__(
            self, instance: Shared[np.ndarray[_Shape, _DType]], owner: type[object], /
        ) -> ReadOnlyArray[_Shape, _DType]: ...
        @typing.overload
        def __get__(self, instance: Shared[_Payload], owner: type[object], /) -> _Payload: ...
        def __get__(self, instance: object, owner: type[object], /) -> Any: ...

    class _OwnedValue:
        """``Owned.value`` as checkers see it: the payload itself, free to write."""

        @typing.overload
        def __get__(self, instance: None, owner: type[object], /) -> typing.Self: ...
        @typing.overload
        def __get__(self, instance: Owned[_Payload], owner: type[object], /) -> _Payload: ...
        def __get__(self, instance: object, owner: type[object], /) -> Any: ...


def _mentions_type_variables(item: object) -> bool:
    items: tuple[object, ...] = (
        typing.cast("tuple[object, ...]", item) if isinstance(item, tuple) else (item,)
    )
    return any(isinstance(part, TypeVar) or getattr(part, "__parameters__", ()) for part in items)


class Shared(Generic[A_co]):
    """A value that may alias its ``source``'s memory: a borrow, read-only by contract.

    Make one with `aliasguard.share`; a `Owned` value is a ``Shared`` too. Treat ``.value`` as
    read-only: writing through it writes into ``source``, which is exactly the bug this type names.

    Args:
        value: an ``np.ndarray`` or ``torch.Tensor``.
        source: the object whose memory ``value`` may alias; held to keep it alive.

    Examples:
        >>> import numpy as np, aliasguard
        >>> borrowed = aliasguard.share(np.zeros(3, dtype=np.float32))
        >>> borrowed
        Shared[torch.Tensor](dtype=torch.float32, shape=(3,), device=cpu)
    """

    # _lent: the read-only view `@checked` lends in this wrapper's place, kept between calls
    # (see _lent_views); unset until the first such call.
    __slots__ = ("__weakref__", "_lent", "_source", "_value")
    _value: Any
    _source: object
    _lent: object

    def __init__(self, value: A_co, source: object = None) -> None:
        _refuse_reinitialisation(self)
        _require_array(value, type(self).__name__)
        set_value(self, value)
        set_source(self, source)
        if _wrapper_hook is not None:
            _wrapper_hook(self)

    if TYPE_CHECKING:
        # Checkers see a read-only view of a borrow's payload; see `_BorrowedValue`.
        value: Final = _BorrowedValue()
    else:

        @property
        def value(self):
            """The wrapped array or tensor.

            To type checkers, a `Shared` value is read-only: its writing methods, item assignment
            and augmented operators are errors. An `Owned` value is the plain payload type.

            Raises:
                AliasingError: the handle was moved into an ``Owned`` parameter of a checked
                    function.
            """
            value = self._value
            if value is MOVED:
                _raise_moved(self)
            return value

    @property
    def source(self) -> object:
        """The object whose memory ``value`` may alias (``None`` for an `Owned` value)."""
        return self._source

    if not TYPE_CHECKING:  # hidden from checkers, which then flag any attribute assignment

        def __setattr__(self, name: str, value: object) -> NoReturn:
            _refuse_change(self, name, "reassigned")

        def __delattr__(self, name: str) -> NoReturn:
            _refuse_change(self, name, "deleted")

    def __repr__(self) -> str:
        kind = type(self).__name__
        value = self._value
        if value is MOVED:
            return f"{kind}[moved]"
        if isinstance(value, np.ndarray):
            array: np.ndarray[Any, Any] = typing.cast("Any", value)
            flags = "" if array.flags.writeable else ", read-only"
            return f"{kind}[numpy.ndarray](dtype={array.dtype}, shape={array.shape}, device=cpu{flags})"
        tensor = typing.cast("torch.Tensor", value)
        return (
            f"{kind}[torch.Tensor](dtype={tensor.dtype}, shape={tuple(tensor.shape)}, "
            f"device={tensor.device})"
        )

    def __copy__(self) -> typing.Self:
        # A shallow copy would be a second handle on the same memory: for an Owned value that is
        # exactly what the type forbids, so the copy is the handle itself.
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Shared[A_co]:
        fresh = copy.deepcopy(self.value, memo)
        return _make_owned(fresh) if type(self) is Owned else make_shared(fresh, None)

    def __reduce__(self) -> tuple[object, ...]:
        # An unpickled value is fresh memory: it aliases nothing, whatever it did before.
        value: object = self.value
        if type(self) is not Owned:
            return (_make_shared_unpickled, (value,))
        if is_ndarray(value):
            # Protocol 5 may hand an array over out of band, and the unpickled array then views
            # the caller's buffer (in one process, the original's memory). NumPy's own reduction
            # for older protocols sends the bytes in band, so the new array owns them.
            return (_make_owned_array, (value.__reduce__(),))
        return (_make_owned, (value,))

    if not TYPE_CHECKING:

        def __class_getitem__(cls, item):
            if _mentions_type_variables(item):
                return super().__class_getitem__(item)
            return _checkable_class(cls, item)


@final
class Owned(Shared[A_co]):
    """A value whose memory nothing else holds. An ``Owned`` is accepted wherever a `Shared` is.

    Make one with `aliasguard.own`, or wrap a value you just created: ``Owned(np.zeros(3))``.

    Args:
        value: a freshly made ``np.ndarray`` or ``torch.Tensor``.

    Raises:
        AliasingError: ``value`` is visibly a view of other memory (an array with a ``.base``, a
            tensor view), or another tensor holds its storage (a live view of it, a ``detach()``
            or ``.data`` alias); wrap ``own(value)`` instead. A NumPy array does not record its
            views, and neither library records ``torch.from_numpy`` aliases, so those go unseen.
    """

    __slots__ = ()

    if TYPE_CHECKING:
        value: Final = _OwnedValue()  # type: ignore[misc]  # pyright: ignore[reportGeneralTypeIssues]

    def __init__(self, value: A_co) -> None:
        _refuse_reinitialisation(self)
        _require_array(value, "Owned")
        base: object
        library = "ndarray" if isinstance(value, np.ndarray) else "tensor"
        if isinstance(value, np.ndarray):
            base = None if _only_views_hold_the_base(value) else value.base
        else:
            tensor = typing.cast("torch.Tensor", value)
            base = tensor._base
            # Views of it, detach() and .data aliases and arrays exported with .numpy() hold the
            # same storage. Autograd keeps such an alias of an op's output for backward, which
            # is not the user's alias.
            if base is None and tensor.grad_fn is None and storage_has_other_tensors(tensor):
                raise AliasingError(
                    "Owned() got a tensor whose storage another tensor also holds (a view of it, "
                    "a .detach() or .data alias, or an array from .numpy()): an Owned value must "
                    f"not alias anything. Wrap a same-library copy, {_SAME_LIBRARY_COPY['tensor']}, "
                    "or cross to NumPy with aliasguard.own(value), or share(...) to borrow it.",
                    function="Owned()",
                    parameter="value",
                    rule="freshness",
                )
        if base is not None:
            raise AliasingError(
                f"Owned() got a view of another object's memory (its base is "
                f"{with_article(type(base).__name__)}): an Owned value must not alias anything. Wrap a "
                f"same-library copy, {_SAME_LIBRARY_COPY[library]}, or cross to "
                f"{_OTHER_LIBRARY[library]} with aliasguard.own(value), or share(...) to borrow it.",
                function="Owned()",
                parameter="value",
                rule="freshness",
            )
        set_value(self, value)
        set_source(self, None)

    def __init_subclass__(cls, **kwargs: object) -> None:
        raise TypeError(
            "Owned is final: its guarantee (nothing else holds this memory) cannot be extended."
        )


#: What ``Owned(view)``'s refusal suggests for a copy that stays in the value's own library.
_SAME_LIBRARY_COPY: Final = {"tensor": "Owned(t.clone())", "ndarray": "Owned(a.copy())"}
_OTHER_LIBRARY: Final = {"tensor": "NumPy", "ndarray": "torch"}


def _only_views_hold_the_base(array: np.ndarray[Any, Any]) -> bool:
    """Whether ``array``'s chain of bases is objects that nothing else references.

    ``np.arange(6).reshape(2, 3)`` is a view of a temporary that only the view holds: its memory
    is as fresh as a copy. So is ``model(x).numpy()``: the tensor behind it is a temporary the
    array alone references, whose storage no other tensor holds. A base that is another object
    (bytes, an mmap) is foreign memory, and a base with any other reference is shared.
    """
    current: object = array
    while True:
        base: object = typing.cast("Any", current).base
        if base is None:
            return True
        # References to base: current's .base, the local name, getrefcount's argument.
        if sys.getrefcount(base) > 3:
            return False
        if isinstance(base, torch.Tensor):
            return base._base is None and not storage_has_other_tensors(base)
        if not is_ndarray(base):
            return False
        current = base


#: Called with every ``Shared(...)`` made by hand while a sanitizer is active (see
#: `set_wrapper_hook`); ``None`` otherwise, so that the constructor pays one global lookup.
_wrapper_hook: Callable[[Shared[Any]], None] | None = None


def set_wrapper_hook(hook: Callable[[Shared[Any]], None] | None) -> None:
    """Install (or with ``None`` remove) the callback that sees each ``Shared(...)`` made by hand.

    The contracts layer uses it to record the borrow a producer makes with ``Shared(buffer)``;
    wrappers made by `share` and `own` reach the contracts layer through the converters instead.
    """
    global _wrapper_hook  # noqa: PLW0603  # one process-wide slot, read by every Shared()
    _wrapper_hook = hook


# The slots' own descriptors write past the __setattr__ that forbids reassignment.
set_value: Callable[[object, object], None] = Shared.__dict__["_value"].__set__
set_source: Callable[[object, object], None] = Shared.__dict__["_source"].__set__
new_wrapper: Callable[[type], Any] = object.__new__


def make_shared(value: Any, source: object) -> Shared[Any]:
    """Wrap without validation: the converters' hot path, for values they made themselves."""
    wrapper: Shared[Any] = new_wrapper(Shared)
    set_value(wrapper, value)
    set_source(wrapper, source)
    return wrapper


def _make_shared_unpickled(value: Any) -> Shared[Any]:
    return make_shared(value, None)


def _make_owned_array(reduced: tuple[Any, ...]) -> Owned[Any]:
    """Rebuild an array from ``ndarray.__reduce__``'s ``(constructor, arguments, state)``."""
    constructor, arguments, state = reduced
    array = constructor(*arguments)
    array.__setstate__(state)
    return _make_owned(array)


def _make_owned(value: Any) -> Owned[Any]:
    """Wrap without validation: for values the converters just allocated."""
    wrapper: Owned[Any] = new_wrapper(Owned)
    set_value(wrapper, value)
    set_source(wrapper, None)
    return wrapper


# Pickles of Owned tensors name _make_owned (see Shared.__reduce__), so that name stays.
make_owned: Final = _make_owned


def unwrap(value: object) -> object:
    """``value.value`` for a wrapper, ``value`` itself otherwise."""
    if is_shared(value):
        return typing.cast("Any", value).value
    return value


def unwrap_unchecked(handle: Shared[Any]) -> Any:
    """The handle's value, or the `MOVED` marker, without raising for a moved handle."""
    return handle._value  # pyright: ignore[reportPrivateUsage]


def _refuse_change(wrapper: Shared[Any], name: str, verb: str) -> NoReturn:
    raise AttributeError(
        f"{type(wrapper).__name__}.{name} cannot be {verb}: a wrapper's value is fixed for its "
        "lifetime so its aliasing claim stays true. Wrap the new value in a new wrapper instead."
    )


def _refuse_reinitialisation(wrapper: Shared[Any]) -> None:
    # Calling __init__ again on a live wrapper would swap its value behind its aliasing claim.
    if hasattr(wrapper, "_value"):
        _refuse_change(wrapper, "value", "reassigned")


def _raise_moved(handle: Shared[Any]) -> NoReturn:
    raise AliasingError(
        f"this {type(handle).__name__} handle was moved into a function's Owned parameter and is "
        "no longer valid: the callee now owns the memory. Use the handle the function returned, or "
        "pass own(x.value) to keep a copy."
    )


def _require_array(value: object, kind: str) -> None:
    if not (is_ndarray(value) or is_tensor(value)):
        raise TypeError(
            f"{kind}() wraps an np.ndarray or a torch.Tensor, got {type(value).__name__}: only "
            "those have memory whose aliasing can be tracked. Convert with np.asarray() first."
        )


def is_ndarray(value: object) -> TypeIs[np.ndarray[Any, Any]]:
    """Whether ``value`` is a NumPy array, with its type parameters known to checkers.

    By its type, not ``isinstance``, which believes a faked ``__class__``: an object that only
    claims to be an array has none of an array's insides.
    """
    return issubclass(type(value), np.ndarray)


def is_tensor(value: object) -> TypeIs[torch.Tensor]:
    """Whether ``value`` is a torch tensor, by its type (see `is_ndarray`)."""
    return issubclass(type(value), torch.Tensor)


def is_shared(value: object) -> TypeIs[Shared[Any]]:
    """Whether ``value`` is a `Shared` wrapper (an `Owned` one included); narrows its type.

    By its type, not ``isinstance``: an object can claim any ``__class__``, and one that claims
    to be a wrapper has none of a wrapper's insides.
    """
    return issubclass(type(value), Shared)


_A = TypeVar("_A", bound="np.ndarray[Any, Any] | torch.Tensor")


@typing.overload
def is_owned(value: Shared[_A]) -> TypeIs[Owned[_A]]: ...
@typing.overload
def is_owned(value: object) -> TypeIs[Owned[Any]]: ...
def is_owned(value: object) -> bool:
    """Whether ``value`` is an `Owned` wrapper; narrows ``Shared[A]`` to ``Owned[A]``."""
    return issubclass(type(value), Owned)  # by its type, as `is_shared`


# ----------------------------------------------------------------------------------------------
# Runtime-checkable subscripted forms.


class _CheckableMeta(type):
    """Metaclass of ``Shared[...]``/``Owned[...]`` at run time: isinstance checks the payload."""

    _origin: type[Shared[Any]]
    _payload: object
    _check: Any

    def __instancecheck__(cls, instance: object) -> bool:
        if not issubclass(type(instance), cls._origin):  # not __class__, which can be faked
            return False
        value = typing.cast("Shared[Any]", instance)._value  # pyright: ignore[reportPrivateUsage]
        if value is MOVED:
            return False
        try:
            return isinstance(value, cls._check)
        except RuntimeError:
            # A strided nested tensor has no shape: torch raises an internal error when jaxtyping
            # asks for one. No shaped annotation describes it.
            if isinstance(value, torch.Tensor) and value.is_nested:
                return False
            raise

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        wrapper = cls._origin(*args, **kwargs)
        if not isinstance(wrapper, cls):
            raise TypeError(
                f"{cls!r} got a value that does not match its annotation "
                f"({wrapper!r}). Pass a value of the annotated type, dtype, shape."
            )
        return wrapper

    def __repr__(cls) -> str:
        return f"aliasguard.{cls._origin.__name__}[{annotation_text(cls._payload, by_class=True)}]"


def subscript_parts(hint: object) -> tuple[type, object] | None:
    """``(Shared or Owned, payload)`` for a runtime ``Shared[...]``/``Owned[...]``, else None."""
    if isinstance(hint, _CheckableMeta):
        return hint._origin, hint._payload  # pyright: ignore[reportPrivateUsage]
    return None


_CHECKABLE_CACHE: dict[tuple[type, object], type] = {}
#: Called with each runtime class as it is made; see `watch_checkable_classes`.
_CLASS_WATCHERS: list[Callable[[type], None]] = []


def watch_checkable_classes(watcher: Callable[[type], None]) -> None:
    """Call ``watcher`` with every runtime ``Shared[...]``/``Owned[...]`` class, now and later.

    The classes made so far (those with hashable annotations: the rest are not kept) are passed at
    once, each later one as it is made. ``aliasguard.strategies`` registers each class with
    Hypothesis this way, so this module never imports Hypothesis.
    """
    _CLASS_WATCHERS.append(watcher)
    for checkable in list(_CHECKABLE_CACHE.values()):
        watcher(checkable)


def _checkable_class(origin: type[Shared[Any]], payload: object) -> type:
    if isinstance(payload, tuple):
        count = len(typing.cast("tuple[object, ...]", payload))
        raise TypeError(
            f"{origin.__name__}[...] takes one annotation, got {count}: wrap one value."
        )
    key: tuple[type, object] = (origin, None)
    try:
        key = (origin, annotation_key(payload))
        return _CHECKABLE_CACHE[key]
    except KeyError:
        pass
    except TypeError:  # unhashable annotation: build it uncached
        return _build_checkable(origin, payload)
    checkable = _CHECKABLE_CACHE[key] = _build_checkable(origin, payload)
    return checkable


def _build_checkable(origin: type[Shared[Any]], payload: object) -> type:
    check = array_check(payload, payload=True)  # first: it refuses what no wrapper can hold
    name = annotation_text(payload, by_class=True)
    namespace = {
        "_origin": origin,
        "_payload": payload,
        "_check": check,
        "__module__": "aliasguard",
        "__doc__": f"{origin.__name__} wrapping {name}, checked at run time.",
    }
    checkable = _CheckableMeta(f"{origin.__name__}[{name}]", (), namespace)
    for watcher in _CLASS_WATCHERS:
        watcher(checkable)
    return checkable
