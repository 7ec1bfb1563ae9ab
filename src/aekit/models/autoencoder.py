"""Deterministic autoencoders: shallow or deep MLP, convolutional, optionally sparse.

Sparse autoencoders add an L1 penalty on the code activations (Ng 2011, CS294A
lecture notes "Sparse autoencoder"; Goodfellow et al. 2016, Deep Learning, 14.2.1).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import Condition, Model
from .bodies import Switches, make_body
from .configs import AutoencoderConfig
from .layers import init_weights, output_activation


class Autoencoder(Model):
    """x -> body -> linear code z -> linear -> mirrored body -> x_hat."""

    def __init__(self, config: AutoencoderConfig):
        super().__init__()
        self.config = c = config
        self.body = make_body(
            c.body,
            c.input_shape,
            hidden=c.hidden,
            channels=c.channels,
            act=c.activation,
            upsample=c.upsample,
            norm=c.norm,
        )
        self.to_code = nn.Linear(self.body.features, c.latent_dim)
        self.from_code = nn.Linear(c.latent_dim, self.body.features)
        init_weights(self)

    def encode(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        return self._encode(x)[0]

    def decode(self, z: torch.Tensor, c: Condition = None) -> torch.Tensor:
        return output_activation(self.config.output, self._decode_logits(z, None))

    def forward(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        z, switches = self._encode(x)
        return output_activation(self.config.output, self._decode_logits(z, switches))

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: Condition = None
    ) -> dict[str, torch.Tensor]:
        z, switches = self._encode(x)
        logits = self._decode_logits(z, switches).float()
        if self.config.recon_loss == "bce":
            recon = F.binary_cross_entropy_with_logits(logits, target)
        else:
            recon = F.mse_loss(output_activation(self.config.output, logits), target)
        terms = {"loss": recon, "recon": recon}
        if self.config.sparsity > 0:
            l1 = z.float().abs().sum(dim=1).mean()  # per-example L1 of the code
            terms["sparsity"] = l1
            terms["loss"] = recon + self.config.sparsity * l1
        return terms

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, Switches]:
        h, switches = self.body.encode(x)
        return self.to_code(h), switches  # (B, latent)

    def _decode_logits(self, z: torch.Tensor, switches: Switches) -> torch.Tensor:
        return self.body.decode(self.from_code(z), switches)  # (B, *input_shape)
