"""Importance-weighted estimate of a VAE's negative log-likelihood, and active units.

Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders",
https://arxiv.org/abs/1509.00519: with z_1..z_k drawn from the encoder's q(z|x),

    log p(x) >= L_k = E[ log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x) ],

L_1 is the ELBO, L_k never decreases with k and tends to log p(x) (their Theorem 1),
so -L_k is an upper bound on the NLL that tightens as k grows; with the exact
posterior as proposal every weight equals p(x) and the estimate is exact for any k.
Active units (their section 5.2): dimension u is active when the variance over the
data of its posterior mean, Cov_x(E_q[z_u]), exceeds 0.01; the issue also asks for
the average KL per dimension above 0.01, which is reported beside it.

Works with any model that has `encode_distribution(x) -> (mu, logvar)`,
`decode_logits(z)`, `log_likelihood(x, logits)` (log p(x|z) per example, nats) and
`kl(mu, logvar)`, as aekit.models.vae.model.VAE does; a conditional model's are called
with each example's condition, `encode_distribution(x, c)` and `decode_logits(z,
c=c)`. The decoder is run without the encoder's max-unpooling switches: p(x|z) must
not depend on x to be a likelihood.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..errors import AekitError
from ..models.distributions import as_variational

MAX_ROWS = 8192  # decoder rows per forward pass: examples x samples
ACTIVE_THRESHOLD = 0.01  # Burda et al.'s threshold for an active unit
LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class NLLEstimate:
    """-L_k averaged over examples, in nats per example, and what it rests on."""

    nats: float  # mean over examples of -log (1/k) sum_i w_i
    stderr: float  # standard error of that mean over the examples
    k: int  # importance samples per example
    n: int  # examples
    dims: int  # values per example, for bits per dimension
    by_k: dict[int, float] = field(default_factory=dict)  # -L_k' for k' <= k
    per_example: np.ndarray | None = field(default=None, repr=False)

    @property
    def bits_per_dim(self) -> float:
        return self.nats / (self.dims * math.log(2))

    def to_dict(self) -> dict[str, Any]:
        return {
            "nats": self.nats,
            "stderr": self.stderr,
            "bits_per_dim": self.bits_per_dim,
            "k": self.k,
            "n": self.n,
            "by_k": {str(k): v for k, v in self.by_k.items()},
        }


MAX_K = 100_000  # importance samples per example: 1000 is the usual, 5000 IWAE's


def log_weights(
    model: Any,
    x: torch.Tensor,
    *,
    k: int,
    generator: torch.Generator | None = None,
    max_rows: int = MAX_ROWS,
    c: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """log w = log p(x|z) + log p(z) - log q(z|x) and log p(x|z), each (B, k).

    The k samples are decoded in chunks of at most `max_rows` rows (examples x
    samples), so memory stays bounded for any k. A conditional model gets each
    example's condition `c` in the encoder and, repeated per sample, the decoder.
    """
    if k < 1:
        raise AekitError(f"the number of importance samples must be positive, got {k}")
    with torch.no_grad():
        mu, logvar = _posterior(model, x, c)  # (B, d) each
        std = torch.exp(0.5 * logvar)
        per_chunk = max(1, min(k, max_rows // max(1, len(x))))
        log_w, log_px_z = [], []
        for start in range(0, k, per_chunk):
            s = min(per_chunk, k - start)
            eps = torch.randn((len(x), s, mu.shape[1]), generator=generator)
            eps = eps.to(device=mu.device, dtype=mu.dtype)  # (B, s, d)
            z = mu[:, None] + std[:, None] * eps
            cc = None if c is None else c.repeat_interleave(s, 0)
            flat = z.reshape(-1, mu.shape[1])
            ll = _log_px_z(model, x.repeat_interleave(s, 0), flat, cc).reshape(-1, s)
            # the model's own prior (a mixture, a VampPrior, p(z|c)), N(0, I) by default
            given = () if cc is None else (cc,)  # a conditional prior p(z|c)
            log_prior = model.log_prior(z.reshape(-1, mu.shape[1]), *given)
            log_prior = log_prior.reshape(z.shape[:2])
            log_q = -0.5 * (eps.pow(2) + logvar[:, None] + LOG_2PI).sum(-1)
            log_w.append(ll + log_prior.to(ll.dtype) - log_q.to(ll.dtype))
            log_px_z.append(ll)
    return torch.cat(log_w, 1), torch.cat(log_px_z, 1)


def iwae_bounds(log_w: torch.Tensor, ks: list[int]) -> dict[int, torch.Tensor]:
    """L_k' per example for each k' in ks, from (B, k) log weights.

    For k' < k the k samples are cut into k // k' disjoint groups and the group
    bounds averaged: an unbiased estimate of L_k' with less variance than one group.
    """
    k = log_w.shape[1]
    bounds = {}
    for kk in sorted(set(ks)):
        if not 1 <= kk <= k:
            raise AekitError(f"cannot estimate L_{kk} from {k} samples")
        groups = log_w[:, : (k // kk) * kk].reshape(len(log_w), k // kk, kk)
        bounds[kk] = (torch.logsumexp(groups, dim=2) - math.log(kk)).mean(1)
    return bounds


def importance_weighted_nll(
    model: Any,
    x: torch.Tensor,
    *,
    k: int = 1000,
    seed: int = 0,
    max_rows: int = MAX_ROWS,
    c: torch.Tensor | None = None,
) -> NLLEstimate:
    """-L_k of every example of x (under its condition c, for a conditional model),
    batched over examples and samples, summarised."""
    if not 1 <= k <= MAX_K:
        raise AekitError(f"importance samples must be from 1 to {MAX_K:,}, got {k}")
    if len(x) == 0:
        raise AekitError("no examples to estimate the likelihood of")
    g = torch.Generator().manual_seed(seed)
    ks = [kk for kk in (1, 10, 100, 1000, 10000) if kk < k] + [k]
    batch = max(1, max_rows // k)
    parts: dict[int, list[torch.Tensor]] = {kk: [] for kk in ks}
    for i in range(0, len(x), batch):
        cb = None if c is None else c[i : i + batch]
        log_w, _ = log_weights(
            model, x[i : i + batch], k=k, generator=g, max_rows=max_rows, c=cb
        )
        for kk, bound in iwae_bounds(log_w, ks).items():
            parts[kk].append(bound.double())
    nll = {kk: -torch.cat(v).cpu().numpy() for kk, v in parts.items()}
    if not np.isfinite(nll[k]).all():
        raise AekitError("the likelihood estimate is not finite (a diverged model?)")
    n = len(nll[k])
    return NLLEstimate(
        nats=float(nll[k].mean()),
        stderr=float(nll[k].std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
        k=k,
        n=n,
        dims=int(np.prod(x.shape[1:])),
        by_k={kk: float(v.mean()) for kk, v in nll.items()},
        per_example=nll[k],
    )


class LatentStats:
    """Per-dimension sums over batches of (mu, logvar): KL and posterior-mean spread."""

    def __init__(self) -> None:
        self.n = 0
        self.kl = self.mu = self.mu2 = None

    def update(self, mu: torch.Tensor, logvar: torch.Tensor) -> None:
        mu, logvar = mu.detach().double().cpu(), logvar.detach().double().cpu()
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)  # (B, d)
        sums = (kl.sum(0), mu.sum(0), mu.pow(2).sum(0))
        if self.kl is None:
            self.kl, self.mu, self.mu2 = sums
        else:
            self.kl, self.mu, self.mu2 = (
                a + b for a, b in zip((self.kl, self.mu, self.mu2), sums, strict=True)
            )
        self.n += len(mu)

    def summary(self, *, threshold: float = ACTIVE_THRESHOLD) -> dict[str, Any]:
        if self.n < 2:
            raise AekitError("active units need at least two examples")
        kl = (self.kl / self.n).numpy()
        mean = self.mu / self.n
        var = ((self.mu2 - self.n * mean.pow(2)) / (self.n - 1)).clamp(min=0).numpy()
        return {
            "active_units": int((kl > threshold).sum()),
            "active_units_variance": int((var > threshold).sum()),
            "latent_dim": len(kl),
            "threshold": threshold,
            "kl_per_dim": [float(v) for v in kl],
            "mean_variance_per_dim": [float(v) for v in var],
        }


def elbo_terms(
    model: Any,
    x: torch.Tensor,
    *,
    generator: torch.Generator | None = None,
    c: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per example: -log p(x|z) at one sample z ~ q(z|x), the closed-form KL, and
    the posterior's (mu, logvar). The negative ELBO is their sum."""
    with torch.no_grad():
        mu, logvar = _posterior(model, x, c)
        eps = torch.randn(mu.shape, generator=generator).to(mu.device, mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps
        recon = -_log_px_z(model, x, z, c)
        # closed form for N(0, I); a richer prior's one-sample Monte Carlo estimate
        kl_of = getattr(model, "kl_divergence", None)
        given = () if c is None else (c,)
        kl = kl_of(z, mu, logvar, *given) if kl_of is not None else model.kl(mu, logvar)
        return recon, kl, mu, logvar


def _posterior(
    model: Any, x: torch.Tensor, c: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """q(z|x) or, for a conditional model, q(z|x, c); unconditional modules are
    called as they always were."""
    as_variational(model)  # the declared interface, or one clear error
    if c is None:
        return model.encode_distribution(x)
    return model.encode_distribution(x, c)


def _log_px_z(
    model: Any, x: torch.Tensor, z: torch.Tensor, c: torch.Tensor | None
) -> torch.Tensor:
    """log p(x|z) per row; an autoregressive decoder (aekit.models.music) scores x
    teacher-forced, as it needs x itself and not logits from z alone."""
    if getattr(model, "autoregressive", False):
        return model.log_likelihood_of(x, z)
    return model.log_likelihood(x, _decode_logits(model, z, c))


def _decode_logits(model: Any, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
    return model.decode_logits(z) if c is None else model.decode_logits(z, c=c)


def likelihood_convention(model: Any, x: torch.Tensor) -> str:
    """What the NLL means for this decoder on these values (see README)."""
    kind = getattr(getattr(model, "config", None), "likelihood", "gaussian")
    if kind == "bernoulli":
        binary = bool(((x == 0) | (x == 1)).all())
        return "bernoulli-binary" if binary else "bernoulli-grey"
    return "gaussian-continuous"
