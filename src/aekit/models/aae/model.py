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

from ..base import Condition, Model
from ..bodies import make_body
from ..layers import init_weights, output_activation
from ..optimisation import Phase
from .config import AAEConfig


class AAE(Model):
    """x -> body -> z -> body^T -> x_hat; D(z) vs D(z ~ N(0, I))."""

    selection_metric = "recon"  # an adversarial term says nothing about the fit

    def __init__(self, config: AAEConfig):
        super().__init__()
        self.config = c = config
        self.body = make_body(
            c.body,
            c.input_shape,
            hidden=c.hidden,
            channels=c.channels,
            act=c.activation,
            upsample=c.upsample,
        )
        self.to_code = nn.Linear(self.body.features, c.latent_dim)
        self.from_code = nn.Linear(c.latent_dim, self.body.features)
        w = c.discriminator_width
        self.discriminator = nn.Sequential(
            nn.Linear(c.latent_dim, w),
            nn.LeakyReLU(0.2),
            nn.Linear(w, w),
            nn.LeakyReLU(0.2),
            nn.Linear(w, 1),
        )
        init_weights(self)

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

    def encode(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        return self.to_code(self.body.encode(x)[0])  # (B, latent)

    def decode(self, z: torch.Tensor, c: Condition = None) -> torch.Tensor:
        logits = self.body.decode(self.from_code(z), None)
        return output_activation(self.config.output, logits)

    def forward(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        h, switches = self.body.encode(x)
        logits = self.body.decode(self.from_code(self.to_code(h)), switches)
        return output_activation(self.config.output, logits)

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: Condition = None
    ) -> dict[str, torch.Tensor]:
        h, switches = self.body.encode(x)
        z = self.to_code(h)
        x_hat = output_activation(
            self.config.output, self.body.decode(self.from_code(z), switches)
        )
        recon = F.mse_loss(x_hat.float(), target.float(), reduction="none")
        recon = recon.flatten(1).sum(1).mean()
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
