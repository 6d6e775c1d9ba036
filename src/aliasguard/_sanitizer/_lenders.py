"""The three ways a borrow is made, each recorded in the ledger with its call site: ``share()``
lends a value, ``Shared(value)`` lends it for as long as the wrapper lives, and a ``@checked``
call borrows its ``Shared`` arguments until it returns.

The first two reach the ledger through hooks that `_activation` installs while any sanitizer is
active, so that ``share()`` and ``Shared()`` pay one global lookup when none is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._describing import function_name
from .._wrappers import Owned, Shared, is_ndarray
from ._call_sites import call_site
from ._ledger import EXPLICIT, REGISTRY, Borrow, Value


def record_share(wrapper: Shared[Any]) -> None:
    """The borrow hook: register each value share() lends while a sanitizer is active.

    The source is the owner: a NumPy source (and its bases) is made read-only while the borrow
    lives, so the owner's writes are refused too.
    """
    if type(wrapper) is Owned:
        return
    source = wrapper.source
    owners = [source] if is_ndarray(source) else []
    REGISTRY.add(wrapper.value, call_site(), owners=owners)


def record_shared_wrapper(wrapper: Shared[Any]) -> None:
    """The wrapper hook: ``Shared(value)`` lends ``value`` for as long as the wrapper lives.

    This is the producer's borrow (``return Shared(self.buffer)``): the producer may not write the
    buffer again while a consumer still holds the wrapper.
    """
    value: Value = wrapper.value
    owners = [value] if is_ndarray(value) else []
    REGISTRY.add(value, call_site(), made_by="Shared()", anchor=wrapper, owners=owners)


def lend(
    value: Value,
    function: Callable[..., Any],
    parameter: str,
    owners: Sequence[np.ndarray[Any, Any]],
) -> Borrow | None:
    """Record that a ``@checked`` call borrows ``value``; `end_loan` when the call returns.

    ``owners`` are the caller's arrays, locked read-only for the call. A torch write into a lent
    tensor is refused before it happens, with the error the call itself would report after it.
    """
    return REGISTRY.add(
        value,
        call_site(),
        made_by=f"@checked {function_name(function)} (argument {parameter!r})",
        anchor=EXPLICIT,
        owners=owners,
        lender=(function, parameter),
    )


def end_loan(borrow: Borrow) -> None:
    REGISTRY.remove(borrow)
