"""`sanitize`: stop torch writes into memory lent out by `share`, before they happen.

A borrow made by `share` is read-only by contract, and torch cannot enforce it (torch has no
read-only tensors). While `sanitize` is active, a `TorchDispatchMode` looks at every aten op on
the thread: ops whose schema writes nothing cost one dict lookup; for the rest, each written
argument (``Tensor(a!)`` in the schema: the ``self`` of in-place ops, ``out=``) is checked against
the borrows that are alive and against itself (elements that overlap each other). A violation
raises `AliasingError` before the kernel runs, so nothing is modified.

Borrows are registered through `aliasguard._convert.set_borrow_hook`, installed while any
sanitizer is active in the process, so `share` pays one global lookup when none is. A borrow lives
as long as the value it handed out: ``share(a).value`` and the views that record it as their base.
The registry is process-wide; the dispatch mode, like every torch mode, is per thread.

The modules below, from the bottom up: `_call_sites` (where messages point),
`_ledger` (the live borrows), `_messages`, `_overlap` and `_storage_swaps` (what a write may not
do), `_dispatch` (the mode), `_owner_writes` (the note on NumPy's refusals), `_lenders` (how
borrows are made), `_raw_aliases` and `_raw_routes` (``raw_routes=True``), `_activation` (on and
off).
"""

# @checked's generated call paths read `activation.active_threads` on every call.
from . import _activation as activation  # noqa: F401  # pyright: ignore[reportUnusedImport]  # re-exported under a public name
from ._activation import Sanitizer as Sanitizer, is_active as is_active, sanitize as sanitize
from ._ledger import Borrow as Borrow
from ._lenders import end_loan as end_loan, lend as lend
from ._owner_writes import explain_refused_write as explain_refused_write
from ._raw_aliases import (
    Finding as Finding,
    allow_shared_writes as allow_shared_writes,
    clear_findings as clear_findings,
    configure as configure,
    findings as findings,
    load_suppressions as load_suppressions,
)
