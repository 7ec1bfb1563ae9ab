"""Conv encoder-decoder for image-to-image tasks, with optional U-Net skip connections.

Ronneberger, Fischer & Brox 2015, "U-Net: Convolutional Networks for Biomedical Image
Segmentation", https://arxiv.org/abs/1505.04597: each encoder level is two 3x3
convolutions followed by 2x max-pooling; each decoder level doubles the resolution and,
with skips, concatenates the encoder's features of the same resolution before its two
convolutions; a 1x1 convolution gives the output channels. Without skips it is the
plain encoder-decoder the lectures start from. Input and output channel counts are
independent (1 -> 2 for L -> a/b colorization, 3 -> K class logits for segmentation).
The losses every image-to-image model shares live here too: L1 or MSE for colour,
per-pixel cross-entropy with class weights and an ignore index for class maps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import AekitError
from ..base import Condition, Model
from ..bodies import Up
from ..configs import PIXEL_LOSSES  # noqa: F401
from ..layers import (
    activation,
    init_weights,
    output_activation,
)
from .config import UNetConfig, check_pixel_config  # noqa: F401


def pixel_loss(
    output: torch.Tensor, target: torch.Tensor, config
) -> dict[str, torch.Tensor]:
    """L1/MSE against a float target, or cross-entropy against (B, H, W) class ids."""
    if config.loss == "cross-entropy":
        return _cross_entropy(output, target, config)
    if output.shape != target.shape:
        raise AekitError(
            f"targets have shape {tuple(target.shape)}, outputs {tuple(output.shape)}"
        )
    diff = output.float() - target.float()
    mae, mse = diff.abs().mean(), diff.pow(2).mean()
    loss = mae if config.loss == "l1" else mse
    return {"loss": loss, "mae": mae.detach(), "mse": mse.detach()}


def _cross_entropy(logits: torch.Tensor, target: torch.Tensor, config) -> dict:
    if target.shape != (logits.shape[0], *logits.shape[2:]):
        raise AekitError(
            f"class maps have shape {tuple(target.shape)}; logits "
            f"{tuple(logits.shape)} need (B, H, W)"
        )
    target = target.long()
    valid = target != config.ignore_index
    weight = (
        None
        if config.class_weights is None
        else torch.tensor(config.class_weights, device=logits.device)
    )
    per_pixel = F.cross_entropy(
        logits.float(),
        target,
        weight=weight,
        ignore_index=config.ignore_index,
        reduction="none",
    )  # (B, H, W), zero where ignored
    # the weighted mean PyTorch's "mean" gives, but 0 (not NaN) when all are ignored
    w = valid.float() if weight is None else weight[target.clamp(0, len(weight) - 1)]
    w = w * valid
    loss = per_pixel.sum() / w.sum().clamp_min(1e-12)
    right = (logits.argmax(1) == target) & valid
    accuracy = right.sum() / valid.sum().clamp_min(1)
    return {"loss": loss, "pixel_accuracy": accuracy.detach().float()}


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad (B, C, H, W) at the bottom and right to multiples of `multiple` (edges)."""
    h, w = x.shape[-2:]
    ph, pw = -h % multiple, -w % multiple
    if ph == 0 and pw == 0:
        return x
    return F.pad(x, (0, pw, 0, ph), mode="replicate")


def conv_block(
    c_in: int, c_out: int, act: str, batch_norm: bool, n: int = 2
) -> nn.Sequential:
    """n x [3x3 conv -> (batch norm) -> activation]."""
    layers: list[nn.Module] = []
    for i in range(n):
        layers.append(nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(activation(act))
    return nn.Sequential(*layers)


class ImageToImage(Model):
    """The Model contract for image-to-image nets: forward and loss, but no code."""

    def encode(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        raise _no_code()

    def decode(self, z: torch.Tensor, c: Condition = None) -> torch.Tensor:
        raise _no_code()

    @property
    def latent_dim(self) -> int:
        raise _no_code()


def _no_code() -> AekitError:
    return AekitError(
        "an image-to-image model (unet, encoder-decoder, segnet) maps images to "
        "images and has no vector code; use aekit colorize, segment or evaluate"
    )


class _UpStep(nn.Module):
    """Double the resolution, c_in -> c_out channels, by any of UPSAMPLE_MODES."""

    def __init__(self, c_in: int, c_out: int, mode: str):
        super().__init__()
        # max-unpooling puts values where this level's encoder had its maxima, so it
        # needs that level's channel count first
        self.reduce = nn.Conv2d(c_in, c_out, 1) if mode == "max-unpool" else None
        self.up = Up(c_out if self.reduce is not None else c_in, c_out, mode)

    def forward(self, x: torch.Tensor, switch: torch.Tensor) -> torch.Tensor:
        if self.reduce is not None:
            x = self.reduce(x)
        return self.up(x, switch)


class UNet(ImageToImage):
    """Encoder levels of two convs with 2x pooling between; a mirrored decoder."""

    def __init__(self, config: UNetConfig):
        super().__init__()
        self.config = c = config
        widths = [c.in_channels, *c.channels]
        self.down = nn.ModuleList(
            conv_block(widths[i], widths[i + 1], c.activation, c.batch_norm)
            for i in range(len(c.channels))
        )
        levels = range(
            len(c.channels) - 1
        )  # up step i undoes the pooling after level i
        self.up = nn.ModuleList(
            _UpStep(c.channels[i + 1], c.channels[i], c.upsample) for i in levels
        )
        self.merge = nn.ModuleList(
            conv_block(
                c.channels[i] * (2 if c.skip else 1),
                c.channels[i],
                c.activation,
                c.batch_norm,
            )
            for i in levels
        )
        self.head = nn.Conv2d(c.channels[0], c.out_channels, kernel_size=1)
        init_weights(self)

    @property
    def multiple(self) -> int:
        """Inputs are padded to a multiple of this (one halving per pooling)."""
        return 2 ** (len(self.config.channels) - 1)

    def forward(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        h, w = x.shape[-2:]
        x = pad_to_multiple(x, self.multiple)  # (B, C_in, H', W')
        skips, switches = [], []
        for i, block in enumerate(self.down):
            x = block(x)
            if i < len(self.up):
                skips.append(x)
                x, idx = F.max_pool2d(x, 2, return_indices=True)
                switches.append(idx)
        for i in reversed(range(len(self.up))):
            x = self.up[i](x, switches[i])
            if self.config.skip:
                x = torch.cat([x, skips[i]], dim=1)
            x = self.merge[i](x)
        x = self.head(x)[:, :, :h, :w]  # (B, C_out, H, W)
        return output_activation(self.config.output, x)

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: Condition = None
    ) -> dict[str, torch.Tensor]:
        return pixel_loss(self(x), target, self.config)
