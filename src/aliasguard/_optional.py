"""The optional dependencies, and the error that names the extra to install when one is missing.

``import aliasguard`` needs none of them. ``aliasguard.strategies``, ``aliasguard.fuzz`` and
``aliasguard fuzz`` need Hypothesis (the ``fuzz`` extra); ``ml_dtypes`` (the ``ml-dtypes`` extra)
only widens what converts zero-copy, and is looked up where it is used (``_dtypes.py``).
"""

from __future__ import annotations

from typing import Final

#: The pip extra that brings each optional module.
EXTRA_OF: Final = {"hypothesis": "fuzz", "ml_dtypes": "ml-dtypes"}


def missing_extra(module: str, needed_by: str, why: str) -> str:
    """What a missing optional dependency's error says: which extra brings it, and the install line.

    Raise it as ``ModuleNotFoundError(..., name=module)``, so ``pytest.importorskip`` and code that
    catches ``ImportError`` treat it as the missing module it is.
    """
    extra = EXTRA_OF[module]
    return (
        f"{needed_by} needs {module}, which is not installed: {why}. Install the {extra!r} "
        f"extra: pip install 'aliasguard[{extra}]'"
    )
