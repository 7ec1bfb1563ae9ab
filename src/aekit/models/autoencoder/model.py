"""Deterministic autoencoders: shallow or deep MLP, convolutional, with the classic
regularisers.

- sparse, L1: a penalty on the code activations (Goodfellow et al. 2016, Deep
  Learning, 14.2.1, https://www.deeplearningbook.org/contents/autoencoders.html);
- sparse, KL: KL(rho || rho_hat_j) summed over code units, rho_hat_j the batch mean
  of the sigmoid-squashed code (Ng 2011, CS294A lecture notes "Sparse autoencoder");
- contractive: the squared Frobenius norm of the encoder's Jacobian dz/dx (Rifai et
  al. 2011, ICML, "Contractive Auto-Encoders: Explicit Invariance During Feature
  Extraction");
- tied: MLP decoder weights are the encoder's, transposed (Vincent et al. 2010);
- a PCA start (start="pca"): a fixed linear path at the training data's PCA, the
  network a correction that starts at zero (aekit.models.pca_start).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..base import Condition, Model
from ..bodies import Switches, make_body
from ..decoder_start import shrink_head
from ..layers import TiedLinear, init_weights, output_activation
from ..pca_start import PCAStart
from .config import AutoencoderConfig


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
            tied=c.tied,
            transpose=(c.transpose_kernel, c.transpose_stride, c.transpose_padding),
            mean_output=self._starts_at_mean,
        )
        self.to_code = nn.Linear(self.body.features, c.latent_dim)
        self.from_code = (
            TiedLinear(self.to_code)
            if c.tied
            else nn.Linear(c.latent_dim, self.body.features)
        )
        init_weights(self)
        if self._starts_at_mean:  # small noise around the mean the data sets
            shrink_head(self.body.head_out)
        if c.start == "pca":
            self.pca = PCAStart(c.input_shape, c.latent_dim)

    @property
    def _starts_at_mean(self) -> bool:
        return self.config.body == "conv" and self.config.decoder_start == "mean"

    def init_from_data(self, x: torch.Tensor) -> None:
        if self._starts_at_mean and self.config.start == "random":
            self.body.mean_output.fit(x, self.config.output)  # the PCA path has it
        if self.config.start == "pca":
            self.pca.fit(x)
            self.starts_at_solution = True

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
        cfg = self.config
        if cfg.contractive > 0:
            x = x.detach().requires_grad_(True)  # the penalty differentiates z by x
        z, switches = self._encode(x)
        logits = self._decode_logits(z, switches).float()
        if cfg.recon_loss == "bce":
            recon = F.binary_cross_entropy_with_logits(logits, target)
        else:
            recon = F.mse_loss(output_activation(cfg.output, logits), target)
        terms = {"loss": recon, "recon": recon}
        if cfg.sparsity > 0:
            l1 = z.float().abs().sum(dim=1).mean()  # per-example L1 of the code
            terms["sparsity"] = l1
            terms["loss"] = terms["loss"] + cfg.sparsity * l1
        if cfg.sparsity_target is not None:
            kl = kl_sparsity(z, cfg.sparsity_target)
            terms["kl_sparsity"] = kl
            terms["loss"] = terms["loss"] + cfg.kl_sparsity_weight * kl
        if cfg.contractive > 0:
            jac = (
                contractive_penalty(z, x)
                if torch.is_grad_enabled()
                else self._contractive_without_grad(x)  # validation scores it too
            )
            terms["contractive"] = jac
            terms["loss"] = terms["loss"] + cfg.contractive * jac
        return terms

    def _contractive_without_grad(self, x: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            z, _ = self._encode(x)
            return contractive_penalty(z, x).detach()

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, Switches]:
        h, switches = self.body.encode(x)
        z = self.to_code(h)  # (B, latent)
        if self.config.start == "pca":
            z = self.pca.code(x, z)
        return z, switches

    def _decode_logits(self, z: torch.Tensor, switches: Switches) -> torch.Tensor:
        out = self.body.decode(self.from_code(z), switches)  # (B, *input_shape)
        if self.config.start == "pca":
            out = self.pca.output(z, out)
        return out


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
