"""A small image pipeline for ``aliasguard fuzz``: correct stages, and stages with planted bugs.

Run from the repository root::

    aliasguard fuzz examples.pipeline:normalize            # correct: exit status 0
    aliasguard fuzz examples.pipeline:normalize_in_place   # borrow rule: exit status 1

The functions are left undecorated: ``aliasguard fuzz`` checks them with ``@checked`` and
``sanitize()`` itself. Each planted bug is one that the contract names:

- `normalize_in_place` writes into its ``Shared`` input (the torchvision #680 bug);
- `flatten` returns a view of its input as ``Owned`` (``reshape`` returns its input's memory);
- `channels_last` returns axes in an order its annotation does not promise;
- `mean_intensity` returns float64 where its annotation promises float32;
- `center_pixel` indexes past small images: an exception of its own, not a contract violation.
"""

from __future__ import annotations

import torch
from jaxtyping import Float32, UInt8
from numpy import ndarray
from torch import Tensor

from aliasguard import Owned, Shared, own

__all__ = [
    "add_bias",
    "center_pixel",
    "channels_last",
    "flatten",
    "mean_intensity",
    "normalize",
    "normalize_in_place",
    "scale_",
    "to_tensor",
]

# ----------------------------------------------------------------------------------------------
# Correct stages


def to_tensor(image: Shared[UInt8[ndarray, "h w 3"]]) -> Owned[Float32[Tensor, "3 h w"]]:
    """HWC uint8 pixels to CHW float32 in [0, 1], in fresh memory, from any input layout."""
    pixels = own(image.value).value  # a copy: own() takes negative strides, read-only, memmap
    return Owned(pixels.permute(2, 0, 1).to(torch.float32).div(255.0))


def normalize(
    image: Shared[Float32[Tensor, "c h w"]], mean: float, std: float
) -> Owned[Float32[Tensor, "c h w"]]:
    """Out of place: the borrowed image is only read."""
    return Owned((image.value - mean) / std)


def scale_(
    image: Owned[Float32[Tensor, "c h w"]], factor: float
) -> Owned[Float32[Tensor, "c h w"]]:
    """In place, which is allowed: the caller handed the image over as Owned."""
    image.value.mul_(factor)
    return image


def add_bias(
    features: Shared[Float32[Tensor, "*batch c"]], bias: Shared[Float32[Tensor, "#c"]]
) -> Owned[Float32[Tensor, "*batch c"]]:
    """Broadcasts the bias over any batch axes."""
    return Owned(features.value + bias.value)


# ----------------------------------------------------------------------------------------------
# Planted bugs


def normalize_in_place(
    image: Shared[Float32[Tensor, "c h w"]], mean: float
) -> Owned[Float32[Tensor, "c h w"]]:
    """BUG (borrow rule): subtracts in place from a borrowed image, rewriting the caller's data."""
    image.value.sub_(mean)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue, reportDeprecated]
    return Owned(image.value.clone())


def flatten(image: Shared[Float32[Tensor, "c h w"]]) -> Owned[Float32[Tensor, " n"]]:
    """BUG (freshness rule): ``reshape`` returns a view of a contiguous input, not fresh memory."""
    return Owned(image.value.reshape(-1).detach())


def channels_last(image: Shared[Float32[Tensor, "c h w"]]) -> Owned[Float32[Tensor, "c h w"]]:
    """BUG (shape rule): returns HWC where the annotation promises CHW."""
    return Owned(image.value.permute(1, 2, 0).clone())


def mean_intensity(image: Shared[Float32[Tensor, "c h w"]]) -> Owned[Float32[Tensor, " c"]]:
    """BUG (dtype rule): accumulates in float64 and forgets to cast back."""
    return Owned(image.value.to(torch.float64).mean(dim=(1, 2)))


def center_pixel(image: Shared[Float32[Tensor, "c h w"]]) -> Owned[Float32[Tensor, " c"]]:
    """BUG (an exception of its own): assumes images of at least 2x2 pixels."""
    return Owned(image.value[:, 1, 1].clone())
