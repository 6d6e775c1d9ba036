"""`install_import_hook`: apply `@checked` to whole packages as they are imported.

A finder on ``sys.meta_path`` wraps the loader of every module in the named packages; after the
module has run, each function (and each method of each class) defined in it whose annotations use
`Shared`, `Owned` or jaxtyping is replaced by its checked version. Patching the module's namespace,
rather than rewriting its source, keeps tracebacks and line numbers exactly as written; calls
between functions of the module go through the namespace too, so they are checked as well.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ._annotations import involves_contract, resolved_hints
from ._checking import checked, is_checked


def _contract_hints(function: Callable[..., Any]) -> bool | str:
    """True when the annotations use our contracts, False when not, or why they cannot be read."""
    if is_checked(function):
        return False
    try:
        hints = resolved_hints(function)
    except Exception as error:  # names imported only under TYPE_CHECKING, typos
        return f"{type(error).__name__}: {error}"
    return any(involves_contract(hint) for hint in hints.values())


class ImportHook:
    """An installed import hook: which packages it watches and what it instrumented.

    Use it as a context manager, or call `uninstall`. Functions already replaced stay checked.

    Attributes:
        packages: the watched package names.
        instrumented: qualified names of the functions and methods it wrapped, in order.
        skipped: ``(qualified name, reason)`` of annotated functions it could not check: their
            annotations cannot be evaluated at run time (names imported only under
            ``TYPE_CHECKING``, misspelt names), or `checked` refuses them (generator and
            ``async`` functions, ``Owned`` parameters with defaults). They run unchecked.
    """

    def __init__(self, packages: tuple[str, ...], *, exhaustive: bool) -> None:
        self.packages = packages
        self.exhaustive = exhaustive
        self.instrumented: list[str] = []
        self.skipped: list[tuple[str, str]] = []
        self._finder = _Finder(self)
        # id(original) -> (original, checked): to rebind names that re-export a function.
        self._replaced: dict[int, tuple[object, object]] = {}

    def _check(self, function: Callable[..., Any]) -> Callable[..., Any]:
        return checked(exhaustive=self.exhaustive)(function)

    def _checked_version(
        self, function: types.FunctionType, owner: str, *, record: bool = True
    ) -> Callable[..., Any] | None:
        """The checked function, or None when it has no contract (or cannot be read: recorded).

        ``record=False`` leaves it out of `instrumented`: a property's second accessor, listed
        once under the property's name.
        """
        wanted = _contract_hints(function)
        name = f"{owner}.{function.__qualname__}"
        if isinstance(wanted, str):
            self.skipped.append((name, wanted))
            return None
        if not wanted:
            return None
        try:
            wrapped = self._check(function)
        except TypeError as error:  # what @checked refuses (a generator, an Owned default)
            self.skipped.append((name, str(error).splitlines()[0]))
            return None
        self._replaced[id(function)] = (function, wrapped)
        if record:
            self.instrumented.append(name)
        return wrapped

    def watches(self, module_name: str) -> bool:
        return any(module_name == p or module_name.startswith(p + ".") for p in self.packages)

    def instrument(self, module: types.ModuleType) -> None:
        """Wrap the module's own annotated functions and methods in `checked`."""
        namespace = vars(module)
        for name, value in list(namespace.items()):
            if getattr(value, "__module__", None) != module.__name__:
                continue  # imported from elsewhere: its own module decides
            if isinstance(value, types.FunctionType):
                wrapped = self._checked_version(value, module.__name__)
                if wrapped is not None:
                    namespace[name] = wrapped
            elif isinstance(value, type):
                self._instrument_class(value)

    def _instrument_class(self, cls: type) -> None:
        for name, member in list(vars(cls).items()):
            replacement = self._checked_member(cls, member)
            if replacement is not None:
                setattr(cls, name, replacement)

    def _checked_member(self, cls: type, member: object) -> object | None:
        """The checked replacement of one class attribute, or None to leave it."""
        owner = cls.__module__
        if isinstance(member, staticmethod | classmethod):
            binding: Any = typing.cast("Any", member)
            inner: object = binding.__func__
            if isinstance(inner, types.FunctionType):
                wrapped = self._checked_version(inner, owner)
                if wrapped is not None:
                    rebound: object = type(binding)(wrapped)
                    return rebound
        elif isinstance(member, types.FunctionType):
            return self._checked_version(member, owner)
        elif isinstance(member, property):
            return self._checked_property(member, owner)
        elif (
            isinstance(member, type)
            and member.__module__ == owner
            and member.__qualname__.startswith(f"{cls.__qualname__}.")
        ):
            self._instrument_class(member)  # a nested class defined in this one
        return None

    def _checked_property(self, member: property, owner: str) -> property | None:
        """The property with its annotated accessors checked, of the property's own class."""
        replaced: property = member
        changed = False
        getter, setter, deleter = member.fget, member.fset, member.fdel
        if isinstance(getter, types.FunctionType):
            wrapped = self._checked_version(getter, owner)
            if wrapped is not None:
                replaced, changed = replaced.getter(wrapped), True
        if isinstance(setter, types.FunctionType):
            wrapped = self._checked_version(setter, owner, record=not changed)
            if wrapped is not None:
                replaced, changed = replaced.setter(wrapped), True
        if isinstance(deleter, types.FunctionType):
            wrapped = self._checked_version(deleter, owner, record=not changed)
            if wrapped is not None:
                replaced, changed = replaced.deleter(wrapped), True
        return replaced if changed else None

    def _rebind_reexports(self) -> None:
        """Point names that re-export an instrumented function at its checked version.

        A package's ``__init__`` that ran ``from .transforms import f`` before the hook existed
        holds the unchecked ``f``; so does any module of the watched packages imported earlier.
        """
        if not self._replaced:
            return
        for name, module in list(sys.modules.items()):
            if typing.cast("types.ModuleType | None", module) is None or not self.watches(name):
                continue
            namespace = vars(module)
            for attribute, value in list(namespace.items()):
                found = self._replaced.get(id(value))
                if found is not None and found[0] is value:
                    namespace[attribute] = found[1]

    def install(self) -> None:
        if self._finder not in sys.meta_path:
            sys.meta_path.insert(0, self._finder)
        # Modules imported before the hook: instrument them now, so the order of imports in a
        # test session does not decide what gets checked.
        for name, module in list(sys.modules.items()):
            # sys.modules may hold None for names whose import is blocked.
            if typing.cast("types.ModuleType | None", module) is not None and self.watches(name):
                self.instrument(module)
        self._rebind_reexports()

    def uninstall(self) -> None:
        """Stop instrumenting new imports."""
        if self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)

    def __enter__(self) -> ImportHook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.uninstall()


class _Finder(importlib.abc.MetaPathFinder):
    def __init__(self, hook: ImportHook) -> None:
        self._hook = hook

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not self._hook.watches(fullname):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _InstrumentingLoader(spec.loader, self._hook)
                return spec
        return None


class _InstrumentingLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader, hook: ImportHook) -> None:
        self._loader = loader
        self._hook = hook

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        self._hook.instrument(module)

    def __getattr__(self, name: str) -> Any:
        # get_source, get_code, is_package...: whatever the wrapped loader offers.
        return getattr(self._loader, name)


def install_import_hook(packages: str | Iterable[str], *, exhaustive: bool = False) -> ImportHook:
    """Apply `aliasguard.checked` to every function of these packages that uses our annotations.

    Functions and methods whose annotations involve `Shared`, `Owned` or jaxtyping arrays are
    wrapped when their module is imported (and at once, for modules already imported). Others are
    left untouched, so instrumenting a package costs nothing for the rest of its code. Names
    inside the packages that re-export a function are pointed at the checked version too; a
    reference taken outside them before the hook (``from pkg import f`` in your own module) keeps
    the unchecked function. Functions whose annotations cannot be evaluated at run time are
    listed in ``.skipped``.

    Args:
        packages: a package name, a comma-separated list, or an iterable of names.
        exhaustive: passed to `checked` for every function.

    Returns:
        The installed `ImportHook` (a context manager; ``.instrumented`` lists what it wrapped).

    Examples:
        >>> import aliasguard
        >>> hook = aliasguard.install_import_hook("my_pipeline")
        >>> hook.uninstall()
    """
    names = packages.split(",") if isinstance(packages, str) else list(packages)
    cleaned = tuple(name.strip() for name in names if name.strip())
    if not cleaned:
        raise ValueError(
            "install_import_hook() got no package names: nothing would be checked. "
            "Pass a package name such as 'my_pipeline', or a list of them."
        )
    hook = ImportHook(cleaned, exhaustive=exhaustive)
    hook.install()
    return hook
