"""`@checked`: annotations of `Shared`/`Owned` and jaxtyping arrays, enforced at every call.

At decoration the signature is compiled into one `Slot` per annotated parameter (`_signature`);
each call then either takes the call path generated for that signature (`_fast_path`, its checks
written by `_check_source`) or the general one (`_checker`), which matches shapes and binds axes
(`_axes`), handles the call's borrows (`_borrows`) and ``Owned`` values (`_ownership`), and raises
the errors (`_messages`).
"""

from ._decorator import checked as checked, is_checked as is_checked
from ._messages import unresolvable_annotations as unresolvable_annotations
