"""A PixelCNN prior over a VQ-VAE's code grid: van den Oord et al. 2016, "Conditional
Image Generation with PixelCNN Decoders", https://arxiv.org/abs/1606.05328.

p(grid) = prod_i p(k_i | k_<i) in raster order. Each code index is embedded, a
masked convolution of type A (a position sees only positions before it) starts the
stack, gated masked convolutions of type B (a position also sees itself, i.e. the
features computed from positions before it) follow, with residual connections, and
a 1x1 convolution gives K logits per position. Trained by cross-entropy on the code
grids of the run's training split (a "prior" stage, aekit.training.stages);
`sample` draws a grid one position at a time. A single masked stack has the paper's
blind spot (some positions above-right are not seen); on grids of 7x7 codes this costs
little.
The data of the stage are the code grids as (N, 1, h, w) floats holding indices.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..base import Condition, Model
from .config import PixelCNNConfig


class MaskedConv2d(nn.Conv2d):
    """A convolution that sees only positions before the centre in raster order
    (type "A") or before and at it (type "B")."""

    def __init__(self, c_in: int, c_out: int, kernel: int, kind: str):
        super().__init__(c_in, c_out, kernel, padding=kernel // 2)
        mask = torch.ones_like(self.weight)  # (out, in, k, k)
        centre = kernel // 2
        mask[:, :, centre, centre + (kind == "B") :] = 0
        mask[:, :, centre + 1 :] = 0
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class GatedBlock(nn.Module):
    """x + 1x1(tanh(a) * sigmoid(b)), (a, b) from one masked convolution of type B."""

    def __init__(self, channels: int, kernel: int):
        super().__init__()
        self.conv = MaskedConv2d(channels, 2 * channels, kernel, "B")
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.conv(x).chunk(2, dim=1)
        return x + self.out(torch.tanh(a) * torch.sigmoid(b))


class PixelCNNPrior(Model):
    """Code grid (B, 1, h, w) -> logits (B, K, h, w), each from the codes before it."""

    def __init__(self, config: PixelCNNConfig):
        super().__init__()
        self.config = c = config
        self.embed = nn.Embedding(c.codebook_size, c.width)
        self.first = MaskedConv2d(c.width, c.width, c.kernel, "A")
        self.blocks = nn.Sequential(
            *(GatedBlock(c.width, c.kernel) for _ in range(c.layers))
        )
        self.head = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(c.width, c.width, 1),
            nn.ReLU(),
            nn.Conv2d(c.width, c.codebook_size, 1),
        )

    @property
    def latent_dim(self) -> int:
        return math.prod(self.config.grid)

    # -- the contract: a code grid is its own code ------------------------------------
    def encode(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        return x.reshape(len(x), -1)  # (B, 1, h, w) -> (B, h*w)

    def decode(self, z: torch.Tensor, c: Condition = None) -> torch.Tensor:
        return z.reshape(len(z), *self.config.input_shape)

    def forward(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        """The most likely code at each position given the true codes before it,
        (B, 1, h, w)."""
        return self.logits(x).argmax(1, keepdim=True).float()

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, K, h, w) of each position given the positions before it."""
        index = x.reshape(len(x), *self.config.grid).round().long()
        h = self.embed(index).permute(0, 3, 1, 2)  # (B, C, h, w)
        return self.head(self.blocks(self.first(h)))

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: Condition = None
    ) -> dict[str, torch.Tensor]:
        """Mean negative log-likelihood per code position, in nats."""
        index = target.reshape(len(target), *self.config.grid).round().long()
        nll = F.cross_entropy(self.logits(x).float(), index)
        return {"loss": nll, "bits_per_code": nll / math.log(2)}

    @torch.no_grad()
    def sample(
        self, n: int, c: Condition = None, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """n grids drawn position by position in raster order, (n, h*w) floats
        holding code indices (what aekit.models.vqvae.model.VQVAE.decode takes)."""
        h, w = self.config.grid
        device = self.embed.weight.device
        grid = torch.zeros(n, 1, h, w, device=device)
        for i in range(h):
            for j in range(w):
                logits = self.logits(grid)[:, :, i, j].float()
                probs = torch.softmax(logits, dim=1).cpu()
                draw = torch.multinomial(probs, 1, generator=generator)[:, 0]
                grid[:, 0, i, j] = draw.to(device).float()
        return grid.view(n, -1)
