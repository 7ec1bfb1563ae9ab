"""Configurations of the image-to-image models (colorize, segment): torch-free."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ...errors import AekitError
from ..configs import (
    ACTIVATION_NAMES,
    OUTPUTS,
    PIXEL_LOSSES,
    UPSAMPLE_MODES,
    check_choice,
    check_numbers,
    positive_int_tuple,
)
from ..options import option


@dataclass(frozen=True)
class UNetConfig:
    in_channels: int = option(1, "1 for the L of colorization, 3 for RGB", cli=False)
    out_channels: int = option(2, "a/b (2) or RGB (3); one logit per class", cli=False)
    channels: tuple[int, ...] = option(
        (32, 64, 128), "width per level; 2x pooling between", metavar="C,C,..."
    )
    skip: bool = option(True, "U-Net: concatenate encoder features", cli=False)
    upsample: str = option(
        "transpose", "how the decoder doubles the resolution", choices=UPSAMPLE_MODES
    )
    activation: str = option("relu", "hidden activation", choices=ACTIVATION_NAMES)
    batch_norm: bool = option(True, "batch norm after each 3x3 conv", cli=False)
    output: str = option(
        "identity", "identity for a/b and logits, sigmoid for RGB", cli=False
    )
    loss: str = option(
        "l1", "l1 or mse (colour), cross-entropy (class ids)", cli=False
    )  # set by --color-loss or the task
    class_weights: tuple[float, ...] | None = option(
        None, "cross-entropy weight per class", cli=False
    )
    ignore_index: int = option(
        255, "target pixels with this id count for nothing", cli=False
    )

    def __post_init__(self) -> None:
        check_choice(self.upsample, UPSAMPLE_MODES, "upsampling")
        check_pixel_config(self)


@dataclass(frozen=True)
class SegNetConfig:
    in_channels: int = option(3, "3 for RGB photos, 1 for grayscale", cli=False)
    out_channels: int = option(2, "one logit per class, or a/b / RGB", cli=False)
    channels: tuple[int, ...] = option(
        (32, 64, 128), "stage widths; a 2x pooling after each", metavar="C,C,..."
    )
    convs: int = option(2, "conv layers per stage", cli=False)
    activation: str = option("relu", "hidden activation", choices=ACTIVATION_NAMES)
    batch_norm: bool = option(True, "batch norm after every convolution", cli=False)
    output: str = option(
        "identity", "identity for logits and a/b, sigmoid for RGB", cli=False
    )
    loss: str = option("cross-entropy", "cross-entropy, l1 or mse", cli=False)
    class_weights: tuple[float, ...] | None = option(
        None, "cross-entropy weight per class", cli=False
    )
    ignore_index: int = option(
        255, "target pixels with this id count for nothing", cli=False
    )

    def __post_init__(self) -> None:
        if self.convs < 1:
            raise AekitError(f"convs must be at least 1, got {self.convs}")
        check_pixel_config(self)


def check_pixel_config(config: Any) -> None:
    """Checks every image-to-image config shares: channels, output, loss, weights."""
    check_numbers(config)
    object.__setattr__(
        config,
        "channels",
        positive_int_tuple(config.channels, "channels", allow_empty=False),
    )
    for name in ("in_channels", "out_channels"):
        if int(getattr(config, name)) < 1:
            raise AekitError(f"{name} must be at least 1, got {getattr(config, name)}")
    check_choice(config.activation, ACTIVATION_NAMES, "activation")
    check_choice(config.output, OUTPUTS, "output")
    if config.loss not in PIXEL_LOSSES:
        raise AekitError(f"loss must be one of {PIXEL_LOSSES}, got {config.loss!r}")
    if config.loss == "cross-entropy" and config.out_channels < 2:
        raise AekitError("segmentation needs at least 2 classes (out_channels >= 2)")
    if config.class_weights is not None:
        weights = tuple(float(w) for w in config.class_weights)
        object.__setattr__(config, "class_weights", weights)
        if config.loss != "cross-entropy":
            raise AekitError("class weights apply to the cross-entropy loss only")
        if len(weights) != config.out_channels:
            raise AekitError(
                f"{len(weights)} class weights for {config.out_channels} classes"
            )
        if not all(math.isfinite(w) and w >= 0 for w in weights) or sum(weights) <= 0:
            raise AekitError(f"class weights must be >= 0 and finite, got {weights}")
