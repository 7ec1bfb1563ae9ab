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
RARE = 0.05  # a VAE output starts at the mean where it is below this (or above 1-)


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


def last_linear(decoder: nn.Module) -> nn.Linear:
    """An MLP decoder's output layer: its last nn.Linear."""
    return [m for m in decoder.modules() if isinstance(m, nn.Linear)][-1]


@torch.no_grad()
def fit_output_bias(head: nn.Linear, x: torch.Tensor, output: str) -> None:
    """A VAE's MLP output bias at the data's mean where the data nearly never change.

    A sigmoid output starts at 0.5: each pixel the data leave off pays 0.69 nats per
    image until its bias has moved to logit(mean), about -7, which Adam at lr 2e-3
    takes thousands of steps to do (much of a short run). Those pixels, with a mean
    outside [RARE, 1 - RARE], start at the logit of their mean; the pixels the data
    use (strokes, garments) keep zero: started at their mean too, the decoder's
    prior samples came out fainter and less varied, the Fréchet distance doubled
    (BENCHMARKS.md, "The VAE's output start"). An identity output starts at the mean.
    """
    mean = x.float().flatten(1).mean(0)  # (D,)
    if output == "sigmoid":
        rare = (mean < RARE) | (mean > 1 - RARE)
        mean = torch.logit(mean.clamp(EPS, 1 - EPS)) * rare
    head.bias.copy_(mean)
