"""Adversarial autoencoder.

Makhzani et al. 2016, "Adversarial Autoencoders", https://arxiv.org/abs/1511.05644:
a deterministic encoder whose codes a discriminator D tells from draws of the prior
p(z) = N(0, I); the encoder learns to fool it, so the aggregated posterior q(z)
matches p(z) and decoding prior draws gives samples. Two parameter groups step on
their own losses: the autoencoder on reconstruction + w * (-log D(z)), the
discriminator on -log D(p) - log(1 - D(z)). The best checkpoint is chosen on the
reconstruction alone (`selection_metric`), never on the adversarial terms.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..base import Condition
from ..coded import CodedAutoencoder
from ..optimisation import Phase


class AAE(CodedAutoencoder):
    """x -> body -> z -> body^T -> x_hat; D(z) vs D(z ~ N(0, I))."""

    selection_metric = "recon"  # an adversarial term says nothing about the fit

    def extra_modules(self) -> None:
        w = self.config.discriminator_width
        self.discriminator = nn.Sequential(
            nn.Linear(self.config.latent_dim, w),
            nn.LeakyReLU(0.2),
            nn.Linear(w, w),
            nn.LeakyReLU(0.2),
            nn.Linear(w, 1),
        )

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        critic = set(map(id, self.discriminator.parameters()))
        return {
            "model": [p for p in self.parameters() if id(p) not in critic],
            "discriminator": list(self.discriminator.parameters()),
        }

    def prior_fit(self, codes: torch.Tensor, *, seed: int = 0) -> dict[str, Any]:
        """The discriminator's accuracy at telling the codes from as many prior
        draws: 0.5 when it cannot (the codes follow N(0, I) as far as it sees), and
        the mean probability it gives the codes of being prior draws."""
        g = torch.Generator().manual_seed(seed)
        z = codes.detach().float().cpu()
        p = torch.randn(z.shape, generator=g)
        device = next(self.discriminator.parameters()).device
        with torch.no_grad():
            fake = self.discriminator(z.to(device)).float().squeeze(1).cpu()
            real = self.discriminator(p.to(device)).float().squeeze(1).cpu()
        accuracy = 0.5 * ((real > 0).float().mean() + (fake < 0).float().mean())
        return {
            "discriminator_accuracy": float(accuracy),
            "p_prior_of_codes": float(torch.sigmoid(fake).mean()),
            "n": len(z),
        }

    def optimisation(self) -> tuple[Phase, ...]:
        """k discriminator steps (its own learning rate), then one autoencoder step
        on a fresh forward pass: the regularisation phase of section 2."""
        c = self.config
        return (
            Phase(
                "discriminator",
                "discriminator_loss",
                steps=c.discriminator_steps,
                lr_scale=c.discriminator_lr,
            ),
            Phase("model"),
        )

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: Condition = None
    ) -> dict[str, torch.Tensor]:
        z, x_hat = self.code_and_reconstruction(x)
        recon = self.squared_error(x_hat, target)
        fake = self.discriminator(z).float().squeeze(1)  # (B,) logits
        real = self.discriminator(torch.randn_like(z)).float().squeeze(1)
        fool = F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
        # the discriminator's loss on detached codes: its gradient stays off the encoder
        fake_d = self.discriminator(z.detach()).float().squeeze(1)
        critic = F.binary_cross_entropy_with_logits(
            real, torch.ones_like(real)
        ) + F.binary_cross_entropy_with_logits(fake_d, torch.zeros_like(fake_d))
        accuracy = 0.5 * ((real > 0).float().mean() + (fake_d < 0).float().mean())
        return {
            "loss": recon + self.config.adversarial_weight * fool,
            "recon": recon,
            "adversarial": fool,
            "discriminator_loss": critic,
            "discriminator_accuracy": accuracy.detach(),
        }
