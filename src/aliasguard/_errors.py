"""The exception hierarchy: one base, each class also a builtin so callers can catch either.

Every message's first line says what happened, why, and how to fix it; longer explanations follow on
later lines.

Errors cross process boundaries intact: pickling keeps the class, the message and every field
(`multiprocessing`, `concurrent.futures` and DataLoader workers pickle what a worker raises), and
each constructor accepts the message alone, which is how torch's DataLoader rebuilds a worker's
error in the main process (its fields then keep their defaults).
"""

from __future__ import annotations


class AliasGuardError(Exception):
    """Base class of every error raised by aliasguard.

    Every aliasguard error pickles with its class, message and fields, so a worker process's
    error reaches ``multiprocessing.Pool`` and ``ProcessPoolExecutor`` as itself. Each can also
    be built from its message alone, as torch's DataLoader rebuilds a worker's error: it keeps
    its class there, and its fields are empty.
    """

    def __reduce__(self) -> tuple[object, ...]:
        # Exception's own reduce calls ``cls(*args)``, which cannot pass keyword-only fields: an
        # unpickling worker result thread would die on it and leave multiprocessing.Pool hanging.
        # Rebuilding through __new__ skips __init__ altogether, so every subclass round-trips,
        # whatever its constructor; the fields (and any __notes__) travel in the instance dict.
        return (_rebuild_error, (type(self), self.args, dict(vars(self))))


def _rebuild_error(
    cls: type[AliasGuardError], args: tuple[object, ...], fields: dict[str, object]
) -> AliasGuardError:
    error = cls.__new__(cls, *args)
    error.__dict__.update(fields)
    return error


class ShareError(AliasGuardError, ValueError):
    """`share()` cannot alias this input without a copy or a loss; nothing was converted.

    Attributes:
        reason: a short machine-readable tag: ``"type"``, ``"masked"``, ``"dtype"``,
            ``"byte-order"``, ``"unaligned"``, ``"strides"``, ``"negative-strides"``,
            ``"nested"``, ``"meta"``, ``"device"``, ``"layout"``, ``"dimensions"`` (more than
            NumPy's 64), ``"no-storage"``, ``"short-storage"``, ``"quantized"``, ``"requires-grad"``, ``"conjugate"``,
            ``"negative"`` or ``"torch"`` (torch refused to export the tensor).
    """

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class CastError(AliasGuardError, TypeError):
    """A requested dtype change is not allowed by the casting rule in force.

    Attributes:
        source: the input's dtype, as text.
        target: the requested dtype, as text.
        casting: the rule that refused the cast.
    """

    def __init__(
        self, message: str, *, source: str = "", target: str = "", casting: str = ""
    ) -> None:
        super().__init__(message)
        self.source = source
        self.target = target
        self.casting = casting


class ConversionError(AliasGuardError, TypeError):
    """`own()` cannot represent this input in the target library without losing something.

    Attributes:
        reason: a short machine-readable tag: ``"type"``, ``"masked"``, ``"dtype"``,
            ``"device"``, ``"nested"``, ``"meta"``, ``"quantized"``, ``"dimensions"`` (more than
            NumPy's 64), ``"no-storage"``, ``"short-storage"`` or ``"torch"`` (torch refused the
            copy).
    """

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class AliasingError(AliasGuardError, RuntimeError):
    """Memory was shared where a contract promised it was not (a broken borrow, a moved value).

    Attributes:
        function: the qualified name of the function whose contract broke, when one did.
        parameter: the parameter involved (``"return"`` for the result), when one is.
        rule: ``"borrow"``, ``"exclusivity"``, ``"freshness"``, ``"move"``, ``"sanitizer"`` or
            ``"cross-library"``.
    """

    def __init__(
        self, message: str, *, function: str = "", parameter: str = "", rule: str = ""
    ) -> None:
        super().__init__(message)
        self.function = function
        self.parameter = parameter
        self.rule = rule


class AnnotationError(AliasGuardError, TypeError):
    """An argument or return value of a `checked` function does not match its annotation.

    Attributes:
        function: the qualified name of the checked function.
        parameter: the parameter's name, or ``"return"``.
        rule: which check failed: ``"kind"``, ``"library"``, ``"dtype"``, ``"shape"`` or ``"type"``.
    """

    def __init__(
        self, message: str, *, function: str = "", parameter: str = "", rule: str = ""
    ) -> None:
        super().__init__(message)
        self.function = function
        self.parameter = parameter
        self.rule = rule
