"""Priors and encoder distributions as objects: `sample`, `log_prob` and moments.

A model's registry entry declares which it has (`Capabilities.posterior`, `.sampler`);
the consumers (sampling, manifold grids, traversal, likelihood, the explorer) read the
objects built here, never a flag. A prior is one of: the model's own (N(0, I), a
mixture, a VampPrior, a conditional p(z|c)), a Gaussian fitted to the training codes,
a learned prior over discrete codes (a trained stage), or none.
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

import torch

from ..errors import AekitError

LOG_2PI = math.log(2 * math.pi)
Moments = tuple[torch.Tensor, torch.Tensor]  # (mean (d,), std (d,))


@runtime_checkable
class Variational(Protocol):
    """What a model with a diagonal-Gaussian posterior and a likelihood offers; the
    likelihood estimates (aekit.analysis.likelihood) need exactly this."""

    def encode_distribution(self, x: torch.Tensor, c: Any = None) -> Moments: ...

    def decode_logits(self, z: torch.Tensor, *args: Any, **kw: Any) -> torch.Tensor: ...

    def log_likelihood(self, x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor: ...

    def log_prior(self, z: torch.Tensor, c: Any = None) -> torch.Tensor: ...

    def kl(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor: ...


def as_variational(model: Any) -> Variational:
    if not isinstance(model, Variational):
        raise AekitError(
            f"{getattr(model, 'name', '') or type(model).__name__} has no posterior "
            "distribution and likelihood; the ELBO and NLL need a VAE"
        )
    return model


# -- encoder distributions ------------------------------------------------------
class Posterior:
    """q(z|x): `kind` is none (a deterministic code), diagonal-gaussian or codebook."""

    kind = "none"
    is_distribution = False  # whether q(z|x) has a spread to sample and score

    def __init__(self, model: Any):
        self.model = model

    def mean(self, x: torch.Tensor, c: Any = None) -> torch.Tensor:
        return self.model.encode(x, c)

    def moments(self, x: torch.Tensor, c: Any = None) -> Moments:
        z = self.mean(x, c)
        return z, torch.zeros_like(z)

    def sample(self, x: torch.Tensor, c: Any = None, *, generator=None) -> torch.Tensor:
        return self.mean(x, c)

    def log_prob(self, z: torch.Tensor, x: torch.Tensor, c: Any = None):
        raise AekitError(f"a {self.kind} encoder has no density over codes")


class DiagonalGaussian(Posterior):
    kind = "diagonal-gaussian"
    is_distribution = True

    def moments(self, x: torch.Tensor, c: Any = None) -> Moments:
        given = () if c is None else (c,)
        mu, logvar = self.model.encode_distribution(x, *given)
        return mu, torch.exp(0.5 * logvar)

    def mean(self, x: torch.Tensor, c: Any = None) -> torch.Tensor:
        return self.moments(x, c)[0]

    def sample(self, x: torch.Tensor, c: Any = None, *, generator=None) -> torch.Tensor:
        mu, std = self.moments(x, c)
        eps = torch.randn(mu.shape, generator=generator).to(mu.device, mu.dtype)
        return mu + std * eps

    def log_prob(self, z: torch.Tensor, x: torch.Tensor, c: Any = None):
        mu, std = self.moments(x, c)
        return gaussian_log_prob(z, mu, std)


class Codebook(Posterior):
    """A VQ encoder: each code is the nearest codebook vector (one-hot q(z|x))."""

    kind = "codebook"


def posterior_of(model: Any, declared: bool, codes: str | None) -> Posterior:
    if codes == "discrete":
        return Codebook(model)
    return DiagonalGaussian(model) if declared else Posterior(model)


# -- priors -------------------------------------------------------------------
class Prior:
    """p(z): `sample(n)`, `log_prob(z)` per row, `moments()` (None if not one
    Gaussian), and `declared`: whether training pulled the codes towards it (then
    pictures walk it; a fitted density only describes codes after the fact)."""

    kind = "none"
    declared = False

    def sample(self, n: int, c: Any = None, *, generator=None) -> torch.Tensor:
        raise AekitError("this model does not sample: it has no prior over codes")

    def log_prob(self, z: torch.Tensor, c: Any = None) -> torch.Tensor:
        raise AekitError(f"a {self.kind} prior has no density to score codes with")

    def moments(self, c: Any = None) -> Moments | None:
        return None


class ModelPrior(Prior):
    """The prior the model holds itself: N(0, I), a mixture, a VampPrior or p(z|c)."""

    declared = True

    def __init__(self, model: Any):
        self.model = model
        self.kind = (
            "standard-normal" if getattr(model, "prior", None) is None else "mixture"
        )

    def sample(self, n: int, c: Any = None, *, generator=None) -> torch.Tensor:
        eps = torch.randn(n, self.model.latent_dim, generator=generator)
        with torch.no_grad():
            return self.model.prior_codes(eps, c)

    def log_prob(self, z: torch.Tensor, c: Any = None) -> torch.Tensor:
        return self.model.log_prior(z, *(() if c is None else (c,)))

    def moments(self, c: Any = None) -> Moments | None:
        return self.model.prior_moments(c)


class FittedGaussian(Prior):
    """N(mean, cov) fitted to the training codes after training."""

    kind = "fitted"

    def __init__(self, mean: torch.Tensor, cov: torch.Tensor, draw: Any):
        self.mean, self.cov = mean.double(), cov.double()
        self.draw = draw  # (mean, cov, n, generator) -> codes: the run layer's own

    def _dist(self) -> torch.distributions.MultivariateNormal:
        d = len(self.mean)
        jitter = 1e-6 * torch.eye(d, dtype=torch.float64)
        return torch.distributions.MultivariateNormal(self.mean, self.cov + jitter)

    def sample(self, n: int, c: Any = None, *, generator=None) -> torch.Tensor:
        return self.draw(self.mean, self.cov, n, generator)

    def log_prob(self, z: torch.Tensor, c: Any = None) -> torch.Tensor:
        return self._dist().log_prob(z.double()).float()

    def moments(self, c: Any = None) -> Moments | None:
        return self.mean.float(), self.cov.diagonal().clamp(min=0).sqrt().float()


class LearnedCodePrior(Prior):
    """An autoregressive prior over discrete codes, trained as a stage."""

    kind = "learned"
    declared = True

    def __init__(self, stage: Any):
        self.stage = stage

    def sample(self, n: int, c: Any = None, *, generator=None) -> torch.Tensor:
        with torch.no_grad():
            return self.stage.sample(n, c, generator=generator)


def gaussian_log_prob(z: torch.Tensor, mu: torch.Tensor, std: torch.Tensor):
    """log N(z; mu, diag(std^2)) summed over the last dimension."""
    z, mu, std = z.float(), mu.float(), std.float()
    return -0.5 * (((z - mu) / std).pow(2) + 2 * std.log() + LOG_2PI).sum(-1)
