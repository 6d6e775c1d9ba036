"""aliasguard: safe, explicit NumPy <-> PyTorch conversion.

`share` aliases zero-copy or raises; `own` copies into memory only the result holds. The result's
type says which: `Shared` (a borrow, read-only by contract) or `Owned` (nothing else holds it).
`checked` enforces those types, and the aliasing contract they state, at every call.
"""

import contextlib
from importlib.metadata import PackageNotFoundError, version

from ._annotations import resolve_class_annotations as _resolve_class_annotations
from ._checking import checked as checked
from ._convert import own as own, share as share
from ._errors import (
    AliasGuardError as AliasGuardError,
    AliasingError as AliasingError,
    AnnotationError as AnnotationError,
    CastError as CastError,
    ConversionError as ConversionError,
    ShareError as ShareError,
)
from ._fuzz import FuzzError as FuzzError, fuzz as fuzz
from ._import_hook import ImportHook as ImportHook, install_import_hook as install_import_hook
from ._memory import shares_memory as shares_memory
from ._sanitizer import allow_shared_writes as allow_shared_writes, sanitize as sanitize
from ._wrappers import (
    Owned as Owned,
    Shared as Shared,
    is_owned as is_owned,
    is_shared as is_shared,
)

try:
    __version__ = version("aliasguard")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "AliasGuardError",
    "AliasingError",
    "AnnotationError",
    "CastError",
    "ConversionError",
    "FuzzError",
    "ImportHook",
    "Owned",
    "ShareError",
    "Shared",
    "allow_shared_writes",
    "checked",
    "fuzz",
    "install_import_hook",
    "is_owned",
    "is_shared",
    "own",
    "sanitize",
    "share",
    "shares_memory",
]


def _set_public_module() -> None:
    # Public objects name the public module, so reprs, docs and error messages say aliasguard.X.
    for name in __all__:
        public = globals()[name]
        if isinstance(public, type):
            _resolve_class_annotations(public)
        with contextlib.suppress(AttributeError, TypeError):
            public.__module__ = __name__


_set_public_module()
