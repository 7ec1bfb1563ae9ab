"""The importance-weighted NLL estimate against the exact likelihood of probabilistic
PCA, whose log p(x) has a closed form, and active units against their definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal
from torch.distributions import Normal, kl_divergence

from aekit.analysis.likelihood import (
    LatentStats,
    elbo_terms,
    importance_weighted_nll,
    iwae_bounds,
    log_weights,
)
from aekit.errors import AekitError
from aekit.models import build_model


class LinearGaussian(torch.nn.Module):
    """Probabilistic PCA, x = W z + mu + eps, behind the VAE's interface.

    With orthogonal columns in W the exact posterior is a diagonal Gaussian:
    N(M^-1 W^T (x - mu), s^2 M^-1) with M = W^T W + s^2 I. `shift` and `inflate`
    move and widen it, to make a mismatched proposal.
    """

    def __init__(self, d: int = 6, latent: int = 2, s: float = 0.5, *, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(d, latent, generator=g, dtype=torch.float64))
        self.scales = torch.linspace(1.0, 2.0, latent, dtype=torch.float64)
        self.W = q * self.scales  # (d, latent), orthogonal columns
        self.mu = torch.randn(d, generator=g, dtype=torch.float64)
        self.s = s
        self.shift, self.inflate = 0.0, 1.0

    def sample(self, n: int, seed: int = 1) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.W.shape[1], generator=g, dtype=torch.float64)
        eps = torch.randn(n, self.W.shape[0], generator=g, dtype=torch.float64)
        return z @ self.W.T + self.mu + self.s * eps

    def exact_log_likelihood(self, x: torch.Tensor) -> np.ndarray:
        cov = self.W @ self.W.T + self.s**2 * torch.eye(
            len(self.mu), dtype=torch.float64
        )
        return multivariate_normal(self.mu.numpy(), cov.numpy()).logpdf(x.numpy())

    def encode_distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.scales**2 + self.s**2  # the diagonal of M
        mean = (x - self.mu) @ self.W / m + self.shift
        logvar = torch.log(self.s**2 / m * self.inflate).expand_as(mean)
        return mean, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return z @ self.W.T + self.mu

    def log_likelihood(self, x: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
        return Normal(mean, self.s).log_prob(x).sum(1)

    @staticmethod
    def kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)

    @staticmethod
    def log_prior(z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return Normal(0.0, 1.0).log_prob(z).sum(-1)  # the declared interface's N(0, I)


@pytest.mark.parametrize("k, max_rows", [(1, 8192), (13, 10), (50, 8192)])
def test_exact_posterior_gives_the_exact_likelihood_for_any_k(k, max_rows):
    model = LinearGaussian()
    x = model.sample(40)
    estimate = importance_weighted_nll(model, x, k=k, max_rows=max_rows)
    np.testing.assert_allclose(
        estimate.per_example, -model.exact_log_likelihood(x), rtol=1e-9, atol=1e-9
    )
    assert estimate.k == k and estimate.n == 40 and estimate.dims == 6


def test_mismatched_proposal_approaches_the_truth_from_above():
    model = LinearGaussian()
    model.shift, model.inflate = 0.6, 3.0
    x = model.sample(200)
    exact = float(-model.exact_log_likelihood(x).mean())
    estimate = importance_weighted_nll(model, x, k=1000, seed=0)
    by_k = [estimate.by_k[k] for k in (1, 10, 100, 1000)]
    assert all(b < a for a, b in zip(by_k, by_k[1:], strict=False)), by_k
    assert by_k[0] - exact > 0.3  # the ELBO's gap is visible ...
    assert abs(by_k[-1] - exact) < 0.05 * (by_k[0] - exact)  # ... and closes
    assert by_k[-1] > exact - 3 * estimate.stderr  # an upper bound, in expectation
    assert estimate.nats == by_k[-1]
    assert 0 < estimate.stderr < 1


def test_bits_per_dim_divides_nats_by_dims_and_ln2():
    model = LinearGaussian()
    estimate = importance_weighted_nll(model, model.sample(10), k=2)
    assert estimate.bits_per_dim == pytest.approx(estimate.nats / (6 * math.log(2)))
    assert set(estimate.to_dict()) >= {"nats", "stderr", "bits_per_dim", "k", "n"}


def test_iwae_bounds_by_hand():
    log_w = torch.tensor([[0.0, math.log(3.0)]], dtype=torch.float64)
    bounds = iwae_bounds(log_w, [1, 2])
    assert bounds[1].item() == pytest.approx(math.log(3.0) / 2)
    assert bounds[2].item() == pytest.approx(math.log(2.0))
    with pytest.raises(AekitError):
        iwae_bounds(log_w, [3])


def test_log_weights_refuse_no_samples():
    with pytest.raises(AekitError, match="positive"):
        log_weights(LinearGaussian(), torch.zeros(2, 6, dtype=torch.float64), k=0)


def test_vae_single_sample_bound_is_its_elbo():
    torch.manual_seed(0)
    vae = build_model(
        "vae",
        (8,),
        latent_dim=3,
        hidden=(16,),
        likelihood="gaussian",
        output="identity",
        sigma=1.0,
    ).eval()
    x = torch.randn(400, 8)
    estimate = importance_weighted_nll(vae, x, k=1, seed=1)
    recon, kl, _, _ = elbo_terms(vae, x, generator=torch.Generator().manual_seed(2))
    negative_elbo = (recon + kl).double()
    se = float(negative_elbo.std() / math.sqrt(len(x))) + estimate.stderr
    assert abs(estimate.nats - float(negative_elbo.mean())) < 3 * se
    tighter = importance_weighted_nll(vae, x, k=100, seed=1)
    assert tighter.by_k[100] <= tighter.by_k[10] <= tighter.by_k[1]


def test_latent_stats_kl_and_active_units():
    g = torch.Generator().manual_seed(0)
    n, d = 500, 4
    mu = torch.randn(n, d, generator=g) * torch.tensor([1.0, 0.0, 0.5, 0.001])
    logvar = torch.randn(n, d, generator=g) * 0.1
    stats = LatentStats()
    stats.update(mu[:200], logvar[:200])  # two batches, as evaluation streams them
    stats.update(mu[200:], logvar[200:])
    summary = stats.summary()
    expected = kl_divergence(
        Normal(mu.double(), (0.5 * logvar.double()).exp()), Normal(0.0, 1.0)
    ).mean(0)
    np.testing.assert_allclose(summary["kl_per_dim"], expected.numpy(), rtol=1e-9)
    np.testing.assert_allclose(
        summary["mean_variance_per_dim"], mu.double().var(0).numpy(), rtol=1e-6
    )
    variance_active = int((mu.double().var(0) > 0.01).sum())
    assert summary["active_units_variance"] == variance_active == 2
    assert summary["active_units"] == int((expected > 0.01).sum())


def test_a_model_without_the_declared_variational_interface_is_refused():
    from aekit.analysis.likelihood import elbo_terms

    plain = build_model("mlp", input_shape=(6,), latent_dim=2)
    with pytest.raises(AekitError, match="no posterior distribution"):
        elbo_terms(plain, torch.rand(4, 6))
