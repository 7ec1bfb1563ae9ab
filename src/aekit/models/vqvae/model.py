"""VQ-VAE: van den Oord et al. 2017, "Neural Discrete Representation Learning",
https://arxiv.org/abs/1711.00937.

A conv encoder maps an image to a grid of vectors z_e (B, D, h, w); each is replaced
by its nearest codebook vector (quantisation), and the decoder sees the result
through the straight-through estimator z_e + sg(z_q - z_e), so the encoder gets the
decoder's gradient as if quantisation were the identity. The loss is the
reconstruction error (cross-entropy on the decoder's logits for data in [0, 1], so
a saturated sigmoid cannot stall training; squared error for real-valued data;
the "recon" column is the squared error either way) plus `commitment` *
||z_e - sg(z_q)||^2. The codebook is not
trained by gradients but by exponential moving averages of the encoder outputs
assigned to each code (Razavi et al. 2019, "Generating Diverse High-Fidelity Images
with VQ-VAE-2", https://arxiv.org/abs/1906.00446, appendix); a code unused for
`dead_after` training steps restarts at a random encoder output of the batch
(Dhariwal et al. 2020, "Jukebox", https://arxiv.org/abs/2005.00341).

The code of an image is its grid of code indices: `encode` returns them flattened,
(B, h*w), as floats holding integers 0..K-1, and `decode` takes the same, so
`aekit encode` and `aekit decode` round-trip and `latent_dim` is h*w, the number
of grid positions. A learned prior (aekit.models.vqvae.pixelcnn, fitted as the run's
"prior" stage) samples such grids.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import AekitError
from ..base import Condition, Model
from ..layers import activation, init_weights, output_activation
from .config import VQVAEConfig


def perplexity(indices: torch.Tensor, codebook_size: int) -> torch.Tensor:
    """exp of the entropy of the code usage: K when all codes are used equally,
    1 when one code takes everything."""
    counts = torch.bincount(indices.reshape(-1), minlength=codebook_size).float()
    return perplexity_of_counts(counts)


def perplexity_of_counts(counts: torch.Tensor) -> torch.Tensor:
    """`perplexity` from the per-code counts (K,) of a batch."""
    p = counts / counts.sum().clamp(min=1)
    return torch.exp(-(p * torch.log(p.clamp(min=1e-10))).sum())


class VectorQuantizer(nn.Module):
    """Nearest-code quantisation with an EMA codebook and dead-code restarts.

    A training step is a fixed set of whole-batch tensor operations: one matmul for
    the distances, a bincount and an index_add for the EMA statistics, a masked
    select for the restarts. Nothing loops over rows or codes, and nothing reads a
    value back to the host once the codebook is initialised (no sync per step on
    an accelerator)."""

    def __init__(self, size: int, dim: int, decay: float, dead_after: int):
        super().__init__()
        self.size, self.dim, self.decay, self.dead_after = size, dim, decay, dead_after
        self.register_buffer("codebook", torch.randn(size, dim) / math.sqrt(dim))
        self.register_buffer("cluster_size", torch.ones(size))
        self.register_buffer("embed_sum", self.codebook.clone())
        self.register_buffer("unused_steps", torch.zeros(size))
        self.register_buffer("initialised", torch.zeros(()))
        self._ready = False  # host copy of `initialised` once it is set
        self.last_counts: torch.Tensor | None = None  # codes' use in the last batch

    def _load_from_state_dict(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self._ready = False  # read `initialised` again after a load
        super()._load_from_state_dict(*args, **kwargs)

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """Index of the nearest code of each row of z (N, D): argmin over k of
        ||c_k||^2 - 2 z.c_k (the ||z||^2 term is the same for every k), one addmm."""
        z, book = z.float(), self.codebook.float()
        distance = torch.addmm(book.pow(2).sum(1)[None], z, book.T, alpha=-2.0)
        return distance.argmin(1)  # (N,)

    def forward(self, z_e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, D, h, w) -> (codes looked up (B, D, h, w), indices (B, h, w))."""
        b, d, h, w = z_e.shape
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, d)
        if self.training and not self._ready:
            self._ready = bool(self.initialised)
            if not self._ready:
                self._initialise(flat.detach())
        index = self.nearest(flat)
        if self.training:
            self.last_counts = self.update(flat.detach(), index)
        else:
            self.last_counts = torch.bincount(index, minlength=self.size).float()
        return self.lookup(index.view(b, h, w)).to(z_e.dtype), index.view(b, h, w)

    def lookup(self, index: torch.Tensor) -> torch.Tensor:
        """(B, h, w) code indices -> (B, D, h, w) code vectors."""
        return self.codebook[index].permute(0, 3, 1, 2).contiguous()

    @torch.no_grad()
    def update(self, z: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """EMA step towards the mean of the rows assigned to each code (with
        Laplace smoothing of the counts), then restart codes unused too long.
        Returns the batch's count of rows per code (K,)."""
        z = z.float()
        counts = torch.bincount(index, minlength=self.size).to(z.dtype)  # (K,)
        sums = torch.zeros_like(self.embed_sum).index_add_(0, index, z)  # (K, D)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.embed_sum.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        n = self.cluster_size.sum()
        eps = 1e-5
        smoothed = (self.cluster_size + eps) / (n + self.size * eps) * n
        self.codebook.copy_(self.embed_sum / smoothed[:, None])
        self.unused_steps.add_(1).masked_fill_(counts > 0, 0)
        if self.dead_after > 0:
            self.restart(z, self.unused_steps >= self.dead_after)
        return counts

    @torch.no_grad()
    def restart(self, z: torch.Tensor, dead: torch.Tensor) -> None:
        """Move the `dead` codes (a (K,) mask) to random rows of z, in place and
        without reading the mask back to the host: every code draws a row, only
        the dead ones take it."""
        pick = z[torch.randint(len(z), (self.size,), device=z.device)]  # (K, D)
        mask = dead[:, None]
        self.codebook.copy_(torch.where(mask, pick, self.codebook))
        self.embed_sum.copy_(torch.where(mask, pick, self.embed_sum))
        self.cluster_size.masked_fill_(dead, 1.0)
        self.unused_steps.masked_fill_(dead, 0)

    @torch.no_grad()
    def _initialise(self, z: torch.Tensor) -> None:
        """Codes start at random encoder outputs, where the data is."""
        pick = torch.randint(len(z), (self.size,), device=z.device)
        self.codebook.copy_(z[pick].float())
        self.embed_sum.copy_(self.codebook)
        self.cluster_size.fill_(1.0)
        self.initialised.fill_(1.0)
        self._ready = True


class VQVAE(Model):
    """x -> strided convs -> z_e (B, D, h, w) -> nearest codes -> convs^T -> x_hat."""

    def __init__(self, config: VQVAEConfig):
        super().__init__()
        self.config = c = config
        widths = (c.input_shape[0], *c.channels)
        down: list[nn.Module] = []
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            down += [
                nn.Conv2d(c_in, c_out, 4, stride=2, padding=1),
                activation(c.activation),
            ]
        down += [
            nn.Conv2d(widths[-1], widths[-1], 3, padding=1),
            activation(c.activation),
        ]
        self.encoder = nn.Sequential(*down, nn.Conv2d(widths[-1], c.code_dim, 1))
        up: list[nn.Module] = [
            nn.Conv2d(c.code_dim, widths[-1], 3, padding=1),
            activation(c.activation),
        ]
        back = widths[::-1]
        for i, (c_in, c_out) in enumerate(zip(back[:-1], back[1:], strict=True)):
            up.append(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1))
            if i < len(back) - 2:
                up.append(activation(c.activation))
        self.decoder = nn.Sequential(*up)
        init_weights(self)
        self.quantizer = VectorQuantizer(
            c.codebook_size, c.code_dim, c.ema_decay, c.dead_after
        )

    @property
    def grid(self) -> tuple[int, int]:
        """(h, w) of the code grid."""
        step = 2 ** len(self.config.channels)
        _, h, w = self.config.input_shape
        return h // step, w // step

    @property
    def latent_dim(self) -> int:
        return math.prod(self.grid)  # one code index per grid position

    # -- the contract ----------------------------------------------------------
    def encode(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        """The code indices of each image, (B, h*w), as floats."""
        index = self.quantizer.nearest(self._flat(self.encoder(x)))
        return index.view(len(x), -1).float()

    def decode(self, z: torch.Tensor, c: Condition = None) -> torch.Tensor:
        """Code indices (B, h*w) (floats holding integers 0..K-1) -> images."""
        index = self.indices(z)
        return self.decode_vectors(self.quantizer.lookup(index))

    def forward(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        z_q, _ = self.quantizer(self.encoder(x))
        return self.decode_vectors(z_q)

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: Condition = None
    ) -> dict[str, torch.Tensor]:
        z_e = self.encoder(x)  # (B, D, h, w)
        z_q, index = self.quantizer(z_e)
        commitment = F.mse_loss(z_e.float(), z_q.detach().float())
        z_st = z_e + (z_q - z_e).detach()  # straight through: d z_st / d z_e = I
        logits = self.decoder(z_st).float()
        recon = F.mse_loss(output_activation(self.config.output, logits), target)
        if self.config.output == "sigmoid":  # BCE on logits: no vanishing gradient
            objective = F.binary_cross_entropy_with_logits(logits, target.float())
        else:
            objective = recon
        counts = self.quantizer.last_counts  # (K,) rows per code in this batch
        assert counts is not None
        return {
            "loss": objective + self.config.commitment * commitment,
            "recon": recon,
            "commitment": commitment,
            "perplexity": perplexity_of_counts(counts),
            "dead_codes": (counts == 0).sum().float(),  # stays on the device
        }

    # -- pieces --------------------------------------------------------------------
    def decode_vectors(self, z_q: torch.Tensor) -> torch.Tensor:
        return output_activation(self.config.output, self.decoder(z_q))

    def indices(self, z: torch.Tensor) -> torch.Tensor:
        """Checked code indices (B, h, w) from (B, h*w) numbers."""
        h, w = self.grid
        if z.ndim != 2 or z.shape[1] != h * w:
            raise AekitError(f"VQ-VAE codes must have shape (N, {h * w})")
        index = z.round().long()
        k = self.config.codebook_size
        if bool(((index < 0) | (index >= k)).any()):
            raise AekitError(f"VQ-VAE codes are code indices 0..{k - 1}")
        return index.view(len(z), h, w).to(self.quantizer.codebook.device)

    @staticmethod
    def _flat(z_e: torch.Tensor) -> torch.Tensor:
        return z_e.permute(0, 2, 3, 1).reshape(-1, z_e.shape[1])  # (B*h*w, D)
