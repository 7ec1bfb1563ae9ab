"""EncDec-AD's anomaly score (Malhotra et al. 2016, https://arxiv.org/abs/1607.00148):
a Gaussian model of the reconstruction error, scored per time step.

Each step t of a window has an error vector e_t = |x_t - x_hat_t| over the C
channels. On normal windows the vectors are fitted by a Gaussian N(mu, Sigma)
(maximum likelihood; a small ridge keeps Sigma invertible), and a step's anomaly
score is its squared Mahalanobis distance a_t = (e_t - mu)^T Sigma^-1 (e_t - mu).
The paper fits on held-out normal sequences; here that is the run's validation
split (its training split when there is none), and the threshold comes from the
training windows' mean step scores, as for the mean squared error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import inference
from ..run import Run, run_splits

RIDGE = 1e-6  # times the mean error variance, added to Sigma's diagonal


def step_errors(run: Run, x: torch.Tensor) -> np.ndarray:
    """(N, W, C) absolute errors of every step of every (N, C, W) window."""
    x_hat = inference.reconstruct(run, x)
    return (x_hat - x).abs().double().transpose(1, 2).numpy()


@dataclass(frozen=True)
class ErrorGaussian:
    """N(mean, cov) of (C,) error vectors and the inverse covariance."""

    mean: np.ndarray  # (C,)
    precision: np.ndarray  # (C, C)

    @classmethod
    def fit(cls, errors: np.ndarray) -> ErrorGaussian:
        e = errors.reshape(-1, errors.shape[-1])  # (N * W, C)
        mean = e.mean(0)
        cov = np.atleast_2d(np.cov(e, rowvar=False, bias=True))
        scale = max(float(np.trace(cov)) / len(cov), 1e-12)
        cov = cov + RIDGE * scale * np.eye(len(cov))
        return cls(mean, np.linalg.inv(cov))

    def score(self, errors: np.ndarray) -> np.ndarray:
        """(N, W, C) errors -> (N, W) squared Mahalanobis distances."""
        d = errors - self.mean
        return np.einsum("nwc,cd,nwd->nw", d, self.precision, d)


def fit_error_model(run: Run) -> tuple[ErrorGaussian, np.ndarray]:
    """The Gaussian fitted on the run's normal held-out windows, and the training
    windows' (N,) mean step scores (for a threshold)."""
    train, val = run_splits(run)
    fitted_on = val if len(val) else train
    model = ErrorGaussian.fit(step_errors(run, fitted_on.x))
    return model, model.score(step_errors(run, train.x)).mean(1)
