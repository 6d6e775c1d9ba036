"""aliasguard: safe, explicit NumPy <-> PyTorch conversion.

`share` aliases zero-copy or raises; `own` copies into memory only the result holds. The result's
type says which: `Shared` (a borrow, read-only by contract) or `Owned` (nothing else holds it).
"""

import contextlib
from importlib.metadata import PackageNotFoundError, version

from ._convert import own as own
from ._convert import share as share
from ._errors import (
    AliasGuardError as AliasGuardError,
)
from ._errors import (
    AliasingError as AliasingError,
)
from ._errors import (
    CastError as CastError,
)
from ._errors import (
    ConversionError as ConversionError,
)
from ._errors import (
    ShareError as ShareError,
)
from ._memory import shares_memory as shares_memory
from ._wrappers import (
    Owned as Owned,
)
from ._wrappers import (
    Shared as Shared,
)
from ._wrappers import (
    is_owned as is_owned,
)
from ._wrappers import (
    is_shared as is_shared,
)

try:
    __version__ = version("aliasguard")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "AliasGuardError",
    "AliasingError",
    "CastError",
    "ConversionError",
    "Owned",
    "ShareError",
    "Shared",
    "is_owned",
    "is_shared",
    "own",
    "share",
    "shares_memory",
]


# Public objects report the public module, so reprs, docs and error messages name aliasguard.X.
def _report_public_module() -> None:
    for name in __all__:
        with contextlib.suppress(AttributeError, TypeError):
            globals()[name].__module__ = __name__


_report_public_module()
