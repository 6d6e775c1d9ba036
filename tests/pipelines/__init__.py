"""A small image pipeline annotated with aliasguard's types and left undecorated.

The test suite instruments this package through the pytest plugin (``aliasguard_packages`` in
pyproject.toml), so every function here runs under `@checked` in the suite exactly as a user's
package would: the tests in ``tests/unit/test_suite_instrumentation.py`` rely on that.
"""

from __future__ import annotations

import numpy as np
import torch
from jaxtyping import Float, UInt8
from torch import Tensor

from aliasguard import Owned, Shared, share

__all__ = ["Normalizer", "brightness", "load", "normalize", "to_tensor"]


def load(height: int, width: int) -> Owned[UInt8[np.ndarray, "h w 3"]]:
    """A deterministic stand-in for reading an image file."""
    pixels = (np.arange(height * width * 3) % 251).astype(np.uint8)
    return Owned(pixels.reshape(height, width, 3).copy())


def to_tensor(image: Shared[UInt8[np.ndarray, "h w 3"]]) -> Owned[Float[Tensor, "3 h w"]]:
    """HWC uint8 -> CHW float32 in [0, 1], into fresh memory (unlike torchvision #680's ToTensor)."""
    borrowed = share(image.value).value
    return Owned(borrowed.permute(2, 0, 1).to(torch.float32).div(255.0))


def normalize(
    image: Owned[Float[Tensor, "c h w"]], mean: float, std: float
) -> Owned[Float[Tensor, "c h w"]]:
    """In place, which is allowed: the image was handed over as Owned."""
    tensor = image.value
    tensor.sub_(mean).div_(std)
    return image


def brightness(image: Shared[Float[Tensor, "c h w"]]) -> Float[Tensor, " c"]:
    """Mean of each channel; only reads its borrowed input."""
    return image.value.mean(dim=(1, 2))


class Normalizer:
    """A transform object, to show that methods are instrumented too."""

    def __init__(self, mean: float, std: float) -> None:
        self.mean = mean
        self.std = std

    def __call__(self, image: Shared[Float[Tensor, "c h w"]]) -> Owned[Float[Tensor, "c h w"]]:
        return Owned((image.value - self.mean) / self.std)
