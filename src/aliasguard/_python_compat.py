"""What differs between the Python versions aliasguard supports, outside annotations.

Python 3.10 lacks PEP 678's ``BaseException.add_note`` (added in 3.11), which the sanitizer uses to
explain NumPy's refusal of a write into a borrowed array.
"""

from __future__ import annotations


def add_note(error: BaseException, note: str) -> None:
    """``error.add_note(note)``; on Python 3.10, the note is kept and shown by hand.

    3.10's tracebacks print no ``__notes__``, so there the note is also appended to the message
    (the first argument), where every traceback shows it.
    """
    adder = getattr(error, "add_note", None)
    if adder is not None:
        adder(note)
        return
    notes: list[str] = list(getattr(error, "__notes__", ()))
    setattr(error, "__notes__", [*notes, note])  # noqa: B010  (3.10 declares no __notes__)
    if error.args and isinstance(error.args[0], str):
        error.args = (f"{error.args[0]}\n{note}", *error.args[1:])
