"""Deterministic autoencoders: shallow or deep MLP, convolutional, optionally sparse.

Sparse autoencoders add an L1 penalty on the code activations (Ng 2011, CS294A
lecture notes "Sparse autoencoder"; Goodfellow et al. 2016, Deep Learning, 14.2.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import AekitError
from .base import Model
from .bodies import Switches, make_body
from .layers import (
    NORMS,
    OUTPUTS,
    init_weights,
    output_activation,
    positive_int_tuple,
)


@dataclass(frozen=True)
class AutoencoderConfig:
    input_shape: tuple[int, ...]  # (C, H, W) images or (D,) vectors
    latent_dim: int = 16  # size of the code z
    body: str = "mlp"  # "mlp" or "conv"
    hidden: tuple[int, ...] = (512, 256, 128)  # MLP widths, mirrored; () is shallow
    channels: tuple[int, ...] = (32, 64)  # conv widths; one 2x pooling per width
    upsample: str = "transpose"  # how the conv decoder doubles resolution
    norm: str = "batch"  # conv body: 5 epochs on mnist-5k 1.00x -> 0.49x PCA-16's MSE
    activation: str = "relu"
    output: str = "sigmoid"  # sigmoid for data in [0, 1], identity for real data
    recon_loss: str = "mse"  # "mse", or "bce" for data in [0, 1]
    sparsity: float = 0.0  # weight of the L1 penalty on the code; 0 turns it off

    # what a field absent from a stored config means: the behaviour before it existed
    ABSENT_MEANS: ClassVar[dict[str, object]] = {"norm": "none"}

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "input_shape",
            positive_int_tuple(self.input_shape, "input_shape", allow_empty=False),
        )
        object.__setattr__(
            self, "hidden", positive_int_tuple(self.hidden, "hidden", allow_empty=True)
        )
        object.__setattr__(
            self,
            "channels",
            positive_int_tuple(self.channels, "channels", allow_empty=False),
        )
        if self.latent_dim < 1:
            raise AekitError(f"latent_dim must be at least 1, got {self.latent_dim}")
        if self.output not in OUTPUTS:
            raise AekitError(f"output must be one of {OUTPUTS}, got {self.output!r}")
        if self.recon_loss not in ("mse", "bce"):
            raise AekitError(
                f"recon_loss must be 'mse' or 'bce', got {self.recon_loss!r}"
            )
        if self.recon_loss == "bce" and self.output != "sigmoid":
            raise AekitError("recon_loss 'bce' needs data in [0, 1] (a sigmoid output)")
        if self.norm not in NORMS:
            raise AekitError(f"norm must be one of {NORMS}, got {self.norm!r}")
        if self.sparsity < 0:
            raise AekitError(f"sparsity must be >= 0, got {self.sparsity}")


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

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self._encode(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return output_activation(self.config.output, self._decode_logits(z, None))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z, switches = self._encode(x)
        return output_activation(self.config.output, self._decode_logits(z, switches))

    def loss(self, x: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
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
