"""Where an untrained conv decoder's output starts: at the training data's mean image.

A randomly initialised conv decoder starts far from the data: its output is
sigmoid(0) = 0.5 (or 0) everywhere plus the last convolution's noise, about one
unit wide. Adam moves each parameter by about the learning rate per step, so the
output bias alone needs |logit(mean)| / lr, some thousand steps, to reach the
data's mean; the first epoch is spent there. Starting the output at the mean (a
per-pixel bias, as an MLP decoder's last layer has one) and the last layer's weights
at a tenth of their Xavier scale (small noise around that mean) lets the first
steps learn the code instead (BENCHMARKS.md, "The first epoch of the conv decoders").
"""

from __future__ import annotations

import math

import torch
from torch import nn

HEAD_SCALE = 0.1  # the last conv's weights at this share of their Xavier scale
EPS = 1e-3  # pixel means clipped into [EPS, 1 - EPS] before the logit


class MeanOutput(nn.Module):
    """A per-pixel output bias (flat, so weight decay leaves it alone)."""

    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.shape = tuple(shape)
        self.bias = nn.Parameter(torch.zeros(math.prod(shape)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, *shape)
        return x + self.bias.view(self.shape)  # float32: a bf16 mean loses digits

    @torch.no_grad()
    def fit(self, x: torch.Tensor, output: str) -> None:
        """The bias that makes the output the data's mean, through `output`."""
        mean = x.float().mean(0).flatten()  # (C*H*W,)
        if output == "sigmoid":
            mean = torch.logit(mean.clamp(EPS, 1 - EPS))
        self.bias.copy_(mean)


@torch.no_grad()
def shrink_head(head: nn.Conv2d) -> None:
    """The last conv's weights (Xavier already) scaled to HEAD_SCALE, bias zero."""
    head.weight.mul_(HEAD_SCALE)
    if head.bias is not None:
        head.bias.zero_()
