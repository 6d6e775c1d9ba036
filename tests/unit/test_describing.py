"""How messages name values and functions: one rule for "a"/"an", the same words everywhere."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aliasguard import AliasingError, Owned
from aliasguard._articles import with_article
from aliasguard._describing import describe_lent, function_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("int64 ndarray", "an int64 ndarray"),
        ("ndarray", "an ndarray"),
        ("object", "an object"),
        ("Ellipsis", "an Ellipsis"),
        ("uint8 Tensor", "a uint8 Tensor"),
        ("float32 Tensor", "a float32 Tensor"),
        ("Tensor", "a Tensor"),
        ("class", "a class"),
    ],
)
def test_articles_follow_how_the_word_is_read(text: str, expected: str) -> None:
    assert with_article(text) == expected


def test_lent_values_take_their_article() -> None:
    assert describe_lent(np.zeros(3, np.int64), "").startswith("an int64 NumPy array")
    assert describe_lent(np.zeros(3, np.float32), "").startswith("a float32 NumPy array")
    assert describe_lent(torch.zeros(2), "") == "a torch.float32 tensor of shape (2,)"


def test_an_owned_view_names_its_base_with_its_article() -> None:
    source = np.arange(4)
    with pytest.raises(AliasingError, match="its base is an ndarray"):
        Owned(source[1:])  # `source` is held here, so the view aliases memory someone holds


def test_functions_are_named_by_their_qualified_name() -> None:
    def inner() -> None: ...

    assert function_name(inner).endswith(
        "test_functions_are_named_by_their_qualified_name.<locals>.inner()"
    )
