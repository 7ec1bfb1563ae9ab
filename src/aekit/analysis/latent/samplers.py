"""Distributions fitted to codes and sampled from: a Gaussian, a Gaussian mixture."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ...run import readers


def sample_gaussian(
    mean: torch.Tensor, cov: torch.Tensor, n: int, *, seed: int = 0
) -> torch.Tensor:
    """n codes from N(mean, cov), seeded; any positive semi-definite covariance."""
    return readers.sample_gaussian(mean, cov, n, torch.Generator().manual_seed(seed))


def fit_gaussian(codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and covariance (with a small ridge) of codes (N, d)."""
    z = codes.double()
    cov = torch.cov(z.T).reshape(z.shape[1], z.shape[1]) if len(z) > 1 else None
    if cov is None:
        cov = torch.eye(z.shape[1], dtype=torch.float64)
    cov = cov + 1e-6 * torch.eye(z.shape[1], dtype=torch.float64)
    return z.mean(0).float(), cov.float()


def fit_gaussian_mixture(codes: torch.Tensor, components: int = 10, *, seed: int = 0):
    """scikit-learn's GaussianMixture (full covariances) fitted to codes (N, d)."""
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    k = max(1, min(components, len(codes) // 2))
    mixture = GaussianMixture(k, covariance_type="full", random_state=seed)
    # small matrices: BLAS threads only contend (ten times slower on a busy machine)
    with threadpool_limits(1):
        return mixture.fit(codes.double().numpy())


def sample_mixture(mixture: Any, n: int) -> torch.Tensor:
    """n codes from a fitted GaussianMixture (seeded by its random_state)."""
    z, _ = mixture.sample(n)
    order = np.random.default_rng(mixture.random_state).permutation(n)  # mix components
    return torch.from_numpy(z[order]).float()
