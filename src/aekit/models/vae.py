"""Variational autoencoder with MLP or convolutional bodies.

Kingma & Welling 2014, "Auto-Encoding Variational Bayes", https://arxiv.org/abs/1312.6114:
the encoder outputs a diagonal Gaussian q(z|x) = N(mu, diag(exp(logvar))), a code is
drawn by the reparametrisation z = mu + sigma * eps, and the loss is the negative
ELBO  -E_q[log p(x|z)] + beta * KL(q(z|x) || N(0, I))  with the KL in closed form
(beta-VAE: Higgins et al. 2017). The decoder is Bernoulli (BCE on logits, for data
in [0, 1]) or Gaussian (squared error); the Gaussian's standard deviation is fixed or,
by default, one learned scalar, which balances the two terms for data of any scale
(Rybkin et al. 2021, "Simple and Effective VAE Training with Calibrated Decoders",
https://arxiv.org/abs/2006.13202). Losses are in nats per example.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .base import Condition, Model
from .bodies import Switches, make_body
from .configs import VAEConfig
from .layers import init_weights, output_activation

LOGVAR_RANGE = (-30.0, 20.0)  # keeps exp(logvar) finite in float32 and bf16


class VAE(Model):
    """x -> body -> (mu, logvar) -> z = mu + sigma * eps -> body^T -> p(x|z)."""

    def __init__(self, config: VAEConfig):
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
        self.to_posterior = nn.Linear(self.body.features, 2 * c.latent_dim)
        self.from_code = nn.Linear(c.latent_dim, self.body.features)
        learn_sigma = c.likelihood == "gaussian" and c.sigma is None
        self.log_sigma = nn.Parameter(torch.zeros(())) if learn_sigma else None
        self.kl_weight = c.beta if c.kl_warmup_epochs == 0 else 0.0
        init_weights(self)

    # -- the contract ----------------------------------------------------------
    def encode(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        """The posterior mean: the deterministic code used for plots and probes."""
        return self.encode_distribution(x)[0]

    def decode(self, z: torch.Tensor, c: Condition = None) -> torch.Tensor:
        """The mean of p(x|z)."""
        return output_activation(self.config.output, self.decode_logits(z))

    def forward(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        mu, _, switches = self._posterior(x)
        return output_activation(self.config.output, self.decode_logits(mu, switches))

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: Condition = None
    ) -> dict[str, torch.Tensor]:
        mu, logvar, switches = self._posterior(x)
        z = self.reparameterize(mu, logvar)
        recon = -self.log_likelihood(target, self.decode_logits(z, switches)).mean()
        kl = self.kl(mu, logvar).mean()
        # validation (eval mode) always scores the full objective, so a KL warm-up
        # cannot fool early stopping
        weight = self.kl_weight if self.training else self.config.beta
        terms = {"loss": recon + weight * kl, "recon": recon, "kl": kl}
        if self.log_sigma is not None:
            terms["sigma"] = self._log_sigma().exp().detach()
        return terms

    def set_epoch(self, epoch: int) -> None:
        warmup = self.config.kl_warmup_epochs
        self.kl_weight = self.config.beta * (
            min(1.0, epoch / warmup) if warmup else 1.0
        )

    # -- the probabilistic pieces (also used by evaluation) ----------------------
    def encode_distribution(
        self, x: torch.Tensor, c: Condition = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar, _ = self._posterior(x)
        return mu, logvar  # (B, latent) each

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    @staticmethod
    def kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """KL(N(mu, exp(logvar)) || N(0, I)) per example, summed over dimensions."""
        mu, logvar = mu.float(), logvar.float()
        return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)

    def log_likelihood(self, x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """log p(x|z) per example in nats, summed over every input dimension."""
        logits, x = logits.float().flatten(1), x.float().flatten(1)
        if self.config.likelihood == "bernoulli":
            return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(
                1
            )
        mean = output_activation(self.config.output, logits)
        log_sigma = self._log_sigma()
        sq = ((x - mean) * torch.exp(-log_sigma)).pow(2)
        return -(0.5 * sq + log_sigma + 0.5 * math.log(2 * math.pi)).sum(1)

    def decode_logits(self, z: torch.Tensor, switches: Switches = None) -> torch.Tensor:
        return self.body.decode(self.from_code(z), switches)  # (B, *input_shape)

    def sample(
        self, n: int, c: Condition = None, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Decode n draws from the prior N(0, I)."""
        device = self.from_code.weight.device
        z = torch.randn(n, self.config.latent_dim, generator=generator).to(device)
        return self.decode(z)

    def _posterior(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, Switches]:
        h, switches = self.body.encode(x)
        mu, logvar = self.to_posterior(h).chunk(2, dim=1)
        return mu, logvar.clamp(*LOGVAR_RANGE), switches

    def _log_sigma(self) -> torch.Tensor:
        if self.log_sigma is None:
            return torch.tensor(math.log(self.config.sigma or 1.0))
        return self.log_sigma.float().clamp(min=math.log(1e-3))
