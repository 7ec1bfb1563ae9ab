"""Richer priors over a VAE's codes: a learned mixture of Gaussians and the VampPrior.

Tomczak & Welling 2018, "VAE with a VampPrior", https://arxiv.org/abs/1705.07120:
the VampPrior is the mixture of the encoder's own posteriors at K learned
pseudo-inputs, p(z) = 1/K sum_k q(z|u_k); the mixture of Gaussians (their "MoG"
baseline) learns K means, log-variances and weights. Both are mixtures of diagonal
Gaussians, so one `log_prob` and one sampler serve both; neither has a closed-form
KL to the posterior, so the VAE estimates it by Monte Carlo (log q(z|x) - log p(z)
at the sampled z). For a conditional VAE the VampPrior's pseudo-inputs carry
pseudo-conditions (labels k mod classes, or learned attribute vectors), so p(z)
stays a prior over codes alone, as the CVAE's N(0, I) is.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

import torch
from torch import nn

from .configs import parse_prior

LOG_2PI = math.log(2 * math.pi)
Posterior = Callable[
    [torch.Tensor, torch.Tensor | None], tuple[torch.Tensor, torch.Tensor]
]


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))) per dimension (broadcasting), float32."""
    z, mu, logvar = z.float(), mu.float(), logvar.float()
    return -0.5 * ((z - mu).pow(2) * torch.exp(-logvar) + logvar + LOG_2PI)


class MixturePrior(nn.Module):
    """Base: p(z) = sum_k w_k N(z; m_k, diag s_k^2), components from `components`."""

    def components(
        self, posterior: Posterior
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(means (K, d), logvars (K, d), log weights (K,))."""
        raise NotImplementedError

    def log_prob(self, z: torch.Tensor, posterior: Posterior) -> torch.Tensor:
        """log p(z) per row of z (B, d) -> (B,)."""
        means, logvars, log_w = self.components(posterior)
        per = log_normal(z[:, None], means[None], logvars[None]).sum(-1)  # (B, K)
        return torch.logsumexp(per + log_w[None], dim=1)

    def sample(self, eps: torch.Tensor, posterior: Posterior) -> torch.Tensor:
        """Codes from p(z) given standard-normal eps (n, d).

        The component of each row is drawn with a generator seeded from eps itself,
        so the same eps (the same --seed) gives the same codes, and the choice stays
        independent of the Gaussian noise that places the code inside it."""
        means, logvars, log_w = self.components(posterior)
        digest = hashlib.blake2b(eps.detach().cpu().numpy().tobytes(), digest_size=8)
        g = torch.Generator().manual_seed(
            int.from_bytes(digest.digest(), "little") >> 1
        )
        k = torch.multinomial(
            log_w.detach().float().exp().cpu(), len(eps), True, generator=g
        )
        k = k.to(eps.device)
        return means[k] + torch.exp(0.5 * logvars[k]) * eps.to(means.dtype)


class GaussianMixture(MixturePrior):
    """K learned Gaussians: means (drawn like N(0, I) codes), log-variances, weights."""

    def __init__(self, k: int, latent_dim: int):
        super().__init__()
        self.means = nn.Parameter(torch.randn(k, latent_dim))
        self.logvars = nn.Parameter(torch.zeros(k, latent_dim))
        self.logits = nn.Parameter(torch.zeros(k))

    def components(self, posterior: Posterior):
        logvars = self.logvars.clamp(-10.0, 10.0)
        return self.means, logvars, torch.log_softmax(self.logits, 0)


class VampPrior(MixturePrior):
    """p(z) = 1/K sum_k q(z | u_k, c_k): K learned pseudo-inputs through the encoder."""

    def __init__(
        self,
        k: int,
        input_shape: tuple[int, ...],
        *,
        unit: bool,
        classes: int = 0,
        attributes: int = 0,
    ):
        super().__init__()
        # near the data's centre: grey for [0, 1] data, zero for standardised data
        start = torch.randn(k, *input_shape) * 0.05 + (0.5 if unit else 0.0)
        self.pseudo_inputs = nn.Parameter(start)  # (K, *input_shape)
        self.pseudo_labels: torch.Tensor | None
        self.pseudo_attributes: nn.Parameter | None = None
        if attributes:
            self.pseudo_attributes = nn.Parameter(torch.zeros(k, attributes))
        labels = torch.arange(k) % classes if classes and not attributes else None
        self.register_buffer("pseudo_labels", labels, persistent=False)

    def components(self, posterior: Posterior):
        c = self.pseudo_attributes
        if c is None:
            c = self.pseudo_labels
        means, logvars = posterior(self.pseudo_inputs, c)
        k = len(self.pseudo_inputs)
        return means, logvars, torch.full((k,), -math.log(k), device=means.device)


def make_prior(
    text: str,
    latent_dim: int,
    input_shape: tuple[int, ...],
    *,
    unit: bool,
    classes: int = 0,
    attributes: int = 0,
) -> MixturePrior | None:
    """The prior a config's `prior` names; None for the standard N(0, I) and for a
    conditional model's learned p(z|c), which the model holds itself."""
    kind, k = parse_prior(text)
    if kind == "mog":
        return GaussianMixture(k, latent_dim)
    if kind == "vamp":
        return VampPrior(
            k, input_shape, unit=unit, classes=classes, attributes=attributes
        )
    return None


def standard_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) per row (B, d) -> (B,)."""
    return -0.5 * (z.float().pow(2) + LOG_2PI).sum(-1)
