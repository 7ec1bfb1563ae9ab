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

`--prior mog:K|vamp:K` swaps N(0, I) for a learned mixture or a VampPrior
(aekit.models.priors; the KL then by Monte Carlo), and `--objective iwae:K` trains on
the importance-weighted bound of Burda et al. 2016, https://arxiv.org/abs/1509.00519,
L_K = E[log 1/K sum_k p(x|z_k) p(z_k) / q(z_k|x)], which is the ELBO at K = 1.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..base import Condition, Model
from ..bodies import Switches, make_body
from ..configs import parse_objective, parse_prior
from ..decoder_start import fit_output_bias, last_linear
from ..layers import init_weights, output_activation
from ..priors import log_normal, make_prior, standard_log_prob
from .config import VAEConfig

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
        extra = self.condition_width()  # a CVAE's condition joins both heads
        self.to_posterior = nn.Linear(self.body.features + extra, 2 * c.latent_dim)
        self.from_code = nn.Linear(c.latent_dim + extra, self.body.features)
        learn_sigma = c.likelihood == "gaussian" and c.sigma is None
        self.log_sigma = nn.Parameter(torch.zeros(())) if learn_sigma else None
        self.kl_weight = c.beta if c.kl_warmup_epochs == 0 else 0.0
        init_weights(self)
        # after init_weights, so a standard-prior VAE draws its weights as before
        self.prior = make_prior(
            c.prior,
            c.latent_dim,
            c.input_shape,
            unit=c.output == "sigmoid",
            classes=getattr(c, "classes", 0) if extra else 0,
            attributes=getattr(c, "attributes", 0),
        )
        self.samples = parse_objective(c.objective)  # importance samples per input

    def init_from_data(self, x: torch.Tensor) -> None:
        if self.config.starts_at_mean:
            head = last_linear(nn.ModuleList([self.from_code, self.body.decoder]))
            fit_output_bias(head, x, self.config.output)  # hidden (): from_code

    # -- the contract ----------------------------------------------------------
    def encode(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        """The posterior mean: the deterministic code used for plots and probes."""
        return self.encode_distribution(x, c)[0]

    def decode(self, z: torch.Tensor, c: Condition = None) -> torch.Tensor:
        """The mean of p(x|z)."""
        return output_activation(self.config.output, self.decode_logits(z, None, c))

    def forward(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        mu, _, switches = self._posterior(x, c)
        logits = self.decode_logits(mu, switches, c)
        return output_activation(self.config.output, logits)

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: Condition = None
    ) -> dict[str, torch.Tensor]:
        mu, logvar, switches = self._posterior(x, c)
        # validation (eval mode) always scores the full objective, so a KL warm-up
        # cannot fool early stopping
        weight = self.kl_weight if self.training else self.config.beta
        if self.samples > 1:
            terms = self._iwae_terms(target, mu, logvar, switches, c, weight)
        else:
            z = self.reparameterize(mu, logvar)
            logits = self.decode_logits(z, switches, c)
            recon = -self.log_likelihood(target, logits).mean()
            kl = self.kl_divergence(z, mu, logvar, c).mean()
            terms = {"loss": recon + weight * kl, "recon": recon, "kl": kl}
        if self.log_sigma is not None:
            terms["sigma"] = self._log_sigma().exp().detach()
        return terms

    def prior_codes(self, eps: torch.Tensor, c: Condition = None) -> torch.Tensor:
        """N(0, I) as it is; a mixture or VampPrior picks a component per row."""
        if self.prior is None:
            return eps
        return self.prior.sample(eps, self._pseudo_posterior)

    def prior_name(self) -> str:
        kind, k = parse_prior(self.config.prior)
        if kind == "mog":
            return f"the learned prior, a mixture of {k} Gaussians"
        if kind == "vamp":
            return f"the VampPrior (a mixture of the posteriors at {k} pseudo-inputs)"
        return super().prior_name()

    def prior_moments(
        self, c: Condition = None
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        return None if self.prior is not None else super().prior_moments(c)

    def log_prior(self, z: torch.Tensor, c: Condition = None) -> torch.Tensor:
        """log p(z) per row of z (B, d); a conditional prior (aekit.models.cvae.model)
        reads c."""
        if self.prior is None:
            return standard_log_prob(z)
        return self.prior.log_prob(z, self._pseudo_posterior)

    def kl_divergence(
        self,
        z: torch.Tensor,
        mu: torch.Tensor,
        logvar: torch.Tensor,
        c: Condition = None,
    ) -> torch.Tensor:
        """KL(q(z|x) || p(z)) per example: closed form for N(0, I), else the
        one-sample Monte Carlo estimate log q(z|x) - log p(z) at the drawn z."""
        if self.prior is None:
            return self.kl(mu, logvar)
        return log_normal(z, mu, logvar).sum(1) - self.log_prior(z)

    def _iwae_terms(
        self,
        target: torch.Tensor,
        mu: torch.Tensor,
        logvar: torch.Tensor,
        switches: Switches,
        c: Condition,
        weight: float,
    ) -> dict[str, torch.Tensor]:
        """-L_K, with the KL part of each log weight scaled by beta (1: the bound)."""
        k, (b, d) = self.samples, mu.shape
        eps = torch.randn(b, k, d, device=mu.device, dtype=mu.dtype)
        z = (mu[:, None] + torch.exp(0.5 * logvar)[:, None] * eps).reshape(b * k, d)
        rep = (lambda t: t.repeat_interleave(k, 0)) if k > 1 else (lambda t: t)
        switches = None if switches is None else [rep(s) for s in switches]
        logits = self.decode_logits(z, switches, None if c is None else rep(c))
        ll = self.log_likelihood(rep(target), logits).reshape(b, k)
        log_q = log_normal(z, rep(mu), rep(logvar)).sum(1).reshape(b, k)
        cc = None if c is None else rep(torch.as_tensor(c))
        kl = log_q - self.log_prior(z, cc).reshape(b, k)  # (B, K) Monte Carlo KLs
        log_w = ll - weight * kl
        bound = torch.logsumexp(log_w, dim=1) - math.log(k)
        return {
            "loss": -bound.mean(),
            "recon": -ll.mean(),
            "kl": kl.mean(),
        }

    def set_epoch(self, epoch: int) -> None:
        warmup = self.config.kl_warmup_epochs
        self.kl_weight = self.config.beta * (
            min(1.0, epoch / warmup) if warmup else 1.0
        )

    # -- the probabilistic pieces (also used by evaluation) ----------------------
    def encode_distribution(
        self, x: torch.Tensor, c: Condition = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar, _ = self._posterior(x, c)
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

    def decode_logits(
        self, z: torch.Tensor, switches: Switches = None, c: Condition = None
    ) -> torch.Tensor:
        h = self.from_code(self.join_condition(z, c))
        return self.body.decode(h, switches)  # (B, *input_shape)

    def sample(
        self, n: int, c: Condition = None, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Decode n draws from the prior."""
        device = self.from_code.weight.device
        eps = torch.randn(n, self.config.latent_dim, generator=generator).to(device)
        return self.decode(self.prior_codes(eps, c), c)

    # -- hooks a conditional VAE overrides ----------------------------------------
    def condition_width(self) -> int:
        """Features the condition adds to the posterior head and the code."""
        return 0

    def join_condition(self, h: torch.Tensor, c: Condition) -> torch.Tensor:
        return h

    def _posterior(
        self, x: torch.Tensor, c: Condition = None
    ) -> tuple[torch.Tensor, torch.Tensor, Switches]:
        h, switches = self.body.encode(x)
        mu, logvar = self.to_posterior(self.join_condition(h, c)).chunk(2, dim=1)
        return mu, logvar.clamp(*LOGVAR_RANGE), switches

    def _pseudo_posterior(
        self, u: torch.Tensor, c: Condition
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self._posterior(u, c)[:2]

    def _log_sigma(self) -> torch.Tensor:
        if self.log_sigma is None:
            return torch.tensor(math.log(self.config.sigma or 1.0))
        return self.log_sigma.float().clamp(min=math.log(1e-3))
