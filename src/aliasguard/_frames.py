"""Which stack frames are never the user's: aliasguard's own, and torch's and NumPy's.

Messages point at the user's code (where memory was lent, where a fuzzed call raised), so the
frames of these libraries between the user's call and the error are skipped.
"""

from __future__ import annotations

import os
from typing import Final

import numpy as np
import torch


def _directory_of(path: str) -> str:
    return os.path.dirname(os.path.abspath(path)) + os.sep


#: aliasguard's directory: its frames are never the user's.
PACKAGE_DIRECTORY: Final = _directory_of(__file__)
#: aliasguard's, torch's and NumPy's directories (``np.asarray(t)`` reaches ``Tensor.numpy``
#: through both libraries' code).
LIBRARY_DIRECTORIES: Final = (
    PACKAGE_DIRECTORY,
    _directory_of(torch.__file__),
    _directory_of(np.__file__),
)


def is_library_file(filename: str) -> bool:
    """Whether ``filename`` lies in aliasguard, torch or NumPy."""
    return os.path.abspath(filename).startswith(LIBRARY_DIRECTORIES)
