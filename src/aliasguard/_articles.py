""" "a" or "an" before a word in a message.

The lowest module of the package, so that every message, the wrappers' own included, says it alike.
"""

from __future__ import annotations


def with_article(text: str) -> str:
    """``text`` after "a" or "an": "an int64 ndarray", "a uint8 Tensor", "an ndarray", "an object".

    By how the first letters are read, which is close enough for the words messages use: dtype
    and class names. "u" takes "a" ("a uint8", "a UserDict"); "nd" takes "an" ("an ndarray").
    """
    read_as_vowel = text[:1].lower() in "aeio" or text[:2].lower() == "nd"
    return f"{'an' if read_as_vowel else 'a'} {text}"
