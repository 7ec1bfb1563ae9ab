"""SegNet: an encoder-decoder whose decoder unpools with the encoder's pooling indices.

Badrinarayanan, Kendall & Cipolla 2017, "SegNet: A Deep Convolutional Encoder-Decoder
Architecture for Image Segmentation", https://arxiv.org/abs/1511.00561: every encoder
stage (3x3 conv, batch norm, ReLU, repeated) ends in 2x2 max-pooling that remembers
where each maximum was; the corresponding decoder stage max-unpools to exactly those
positions (a sparse map) and densifies it with its own convolutions; a classifier on
the full-resolution features gives one output per class. No features are copied
across, only the indices, which is what sets it apart from U-Net.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..base import Condition
from ..layers import init_weights, output_activation
from .config import SegNetConfig  # noqa: F401
from .unet import (
    ImageToImage,
    conv_block,
    pad_to_multiple,
    pixel_loss,
)


class SegNet(ImageToImage):
    """Encoder stages pool keeping indices; decoder stages unpool to those indices."""

    def __init__(self, config: SegNetConfig):
        super().__init__()
        self.config = c = config
        widths = [c.in_channels, *c.channels]
        act, bn = c.activation, c.batch_norm
        self.down = nn.ModuleList(
            conv_block(widths[i], widths[i + 1], act, bn, c.convs)
            for i in range(len(c.channels))
        )
        # decoder stage i undoes encoder stage i: channels[i] -> channels[i - 1]
        outs = [c.channels[0], *c.channels[:-1]]
        self.up = nn.ModuleList(
            nn.Sequential(
                conv_block(c.channels[i], c.channels[i], act, bn, c.convs - 1)
                if c.convs > 1
                else nn.Identity(),
                conv_block(c.channels[i], outs[i], act, bn, 1),
            )
            for i in range(len(c.channels))
        )
        self.head = nn.Conv2d(c.channels[0], c.out_channels, kernel_size=1)
        init_weights(self)

    @property
    def multiple(self) -> int:
        """Inputs are padded to a multiple of this (one halving per stage)."""
        return 2 ** len(self.config.channels)

    def forward(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        h, w = x.shape[-2:]
        x = pad_to_multiple(x, self.multiple)  # (B, C_in, H', W')
        switches = []
        for block in self.down:
            x, idx = F.max_pool2d(block(x), 2, return_indices=True)
            switches.append(idx)
        for i in reversed(range(len(self.up))):
            x = F.max_unpool2d(x, switches[i], kernel_size=2)  # sparse, 2x the size
            x = self.up[i](x)
        x = self.head(x)[:, :, :h, :w]  # (B, C_out, H, W)
        return output_activation(self.config.output, x)

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: Condition = None
    ) -> dict[str, torch.Tensor]:
        return pixel_loss(self(x), target, self.config)
