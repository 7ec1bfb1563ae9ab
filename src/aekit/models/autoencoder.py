"""Deterministic autoencoders: shallow or deep MLP, convolutional, with the classic
regularisers.

- sparse, L1: a penalty on the code activations (Goodfellow et al. 2016, Deep
  Learning, 14.2.1, https://www.deeplearningbook.org/contents/autoencoders.html);
- sparse, KL: KL(rho || rho_hat_j) summed over code units, rho_hat_j the batch mean
  of the sigmoid-squashed code (Ng 2011, CS294A lecture notes "Sparse autoencoder");
- contractive: the squared Frobenius norm of the encoder's Jacobian dz/dx (Rifai et
  al. 2011, ICML, "Contractive Auto-Encoders: Explicit Invariance During Feature
  Extraction");
- tied: MLP decoder weights are the encoder's, transposed (Vincent et al. 2010).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import AekitError
from .base import Model
from .bodies import TRANSPOSE, Switches, make_body, transpose_output_padding
from .layers import (
    OUTPUTS,
    TiedLinear,
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
    activation: str = "relu"
    output: str = "sigmoid"  # sigmoid for data in [0, 1], identity for real data
    recon_loss: str = "mse"  # "mse", or "bce" for data in [0, 1]
    sparsity: float = 0.0  # weight of the L1 penalty on the code; 0 turns it off
    contractive: float = 0.0  # weight of |dz/dx|_F^2 (Rifai 2011); MLP bodies only
    sparsity_target: float | None = None  # rho of the KL sparsity term; None is off
    kl_sparsity_weight: float = 3.0  # weight of the KL sparsity term (Ng's beta)
    tied: bool = False  # MLP decoder weights = encoder weights transposed
    transpose_kernel: int = TRANSPOSE[0]  # conv decoder's transposed convolution:
    transpose_stride: int = TRANSPOSE[1]  # it must double the size (stride 2,
    transpose_padding: int = TRANSPOSE[2]  # kernel 2*padding+2 or 2*padding+1)

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
        if self.sparsity < 0:
            raise AekitError(f"sparsity must be >= 0, got {self.sparsity}")
        check_regularisers(self)


def check_regularisers(c: AutoencoderConfig) -> None:
    """The classic regularisers' options: in range, and on a body they apply to."""
    if not (c.contractive >= 0 and math.isfinite(c.contractive)):
        raise AekitError(f"contractive must be >= 0, got {c.contractive}")
    if c.contractive > 0 and c.body != "mlp":
        raise AekitError("the contractive penalty applies to MLP bodies only")
    if c.sparsity_target is not None and not 0 < c.sparsity_target < 1:
        raise AekitError(f"sparsity_target must be in (0, 1), got {c.sparsity_target}")
    if not (c.kl_sparsity_weight >= 0 and math.isfinite(c.kl_sparsity_weight)):
        raise AekitError(f"kl_sparsity_weight must be >= 0, got {c.kl_sparsity_weight}")
    if c.tied and c.body != "mlp":
        raise AekitError("tied decoder weights apply to MLP bodies only")
    transpose = (c.transpose_kernel, c.transpose_stride, c.transpose_padding)
    if transpose != TRANSPOSE and (c.body != "conv" or c.upsample != "transpose"):
        raise AekitError(
            "transpose_kernel/stride/padding apply to conv bodies with "
            "upsample 'transpose' only"
        )
    transpose_output_padding(*transpose)


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
            tied=c.tied,
            transpose=(c.transpose_kernel, c.transpose_stride, c.transpose_padding),
        )
        self.to_code = nn.Linear(self.body.features, c.latent_dim)
        self.from_code = (
            TiedLinear(self.to_code)
            if c.tied
            else nn.Linear(c.latent_dim, self.body.features)
        )
        init_weights(self)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self._encode(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return output_activation(self.config.output, self._decode_logits(z, None))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z, switches = self._encode(x)
        return output_activation(self.config.output, self._decode_logits(z, switches))

    def loss(self, x: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.config.contractive > 0:
            x = x.detach().requires_grad_(True)  # the penalty differentiates z by x
        z, switches = self._encode(x)
        logits = self._decode_logits(z, switches).float()
        if self.config.recon_loss == "bce":
            recon = F.binary_cross_entropy_with_logits(logits, target)
        else:
            recon = F.mse_loss(output_activation(self.config.output, logits), target)
        terms = {"loss": recon, "recon": recon}
        c = self.config
        if c.sparsity > 0:
            l1 = z.float().abs().sum(dim=1).mean()  # per-example L1 of the code
            terms["sparsity"] = l1
            terms["loss"] = terms["loss"] + c.sparsity * l1
        if c.sparsity_target is not None:
            kl = kl_sparsity(z, c.sparsity_target)
            terms["kl_sparsity"] = kl
            terms["loss"] = terms["loss"] + c.kl_sparsity_weight * kl
        if c.contractive > 0:
            jac = contractive_penalty(z, x)
            terms["contractive"] = jac
            terms["loss"] = terms["loss"] + c.contractive * jac
        return terms

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, Switches]:
        h, switches = self.body.encode(x)
        return self.to_code(h), switches  # (B, latent)

    def _decode_logits(self, z: torch.Tensor, switches: Switches) -> torch.Tensor:
        return self.body.decode(self.from_code(z), switches)  # (B, *input_shape)


def kl_sparsity(z: torch.Tensor, rho: float) -> torch.Tensor:
    """sum_j KL(rho || rho_hat_j), rho_hat_j = batch mean of sigmoid(z_j) (Ng 2011)."""
    rho_hat = torch.sigmoid(z.float()).mean(0).clamp(1e-6, 1 - 1e-6)  # (latent,)
    kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log(
        (1 - rho) / (1 - rho_hat)
    )
    return kl.sum()


def contractive_penalty(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """|dz/dx|_F^2 per example, averaged over the batch: exact, one batched
    backward pass per code unit (z of example i depends on x_i only)."""
    b, latent = z.shape
    rows = torch.eye(latent, dtype=z.dtype, device=z.device)  # (latent, latent)
    (jac,) = torch.autograd.grad(
        z,
        x,
        grad_outputs=rows[:, None, :].expand(latent, b, latent),
        is_grads_batched=True,  # (latent, B, *shape): row j of every Jacobian
        create_graph=True,
    )
    return jac.float().pow(2).sum() / b
