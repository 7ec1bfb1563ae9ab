"""Reconstruction error plus code distance: the SPE + Hotelling T^2 score of PCA
process monitoring (Jackson & Mudholkar 1979), applied to an autoencoder's code.

A window can be rebuilt well and still be unusual: a smooth bump lies inside the
span a code of 16 reconstructs, so its squared prediction error (SPE, the mean
squared reconstruction error) stays small while its code lies far from the codes
of normal windows. T^2 is the code's squared Mahalanobis distance under a Gaussian
fitted on the training windows' codes (a small ridge keeps it invertible). The
score adds both, each divided by its median on the training windows, so neither
unit dominates: score = SPE / median(SPE_train) + T^2 / median(T^2_train).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import inference
from ..run import Run, run_splits

RIDGE = 1e-6  # times the mean code variance, added to the covariance's diagonal


@dataclass(frozen=True)
class CodeScore:
    """The training windows' code Gaussian and the two medians that scale the sum."""

    mean: np.ndarray  # (D,)
    precision: np.ndarray  # (D, D)
    spe_scale: float
    t2_scale: float

    @classmethod
    def fit(cls, codes: np.ndarray, spe: np.ndarray) -> CodeScore:
        """From (N, D) codes and (N,) reconstruction errors of normal windows."""
        z = np.asarray(codes, dtype=np.float64)
        mean = z.mean(0)
        cov = np.atleast_2d(np.cov(z, rowvar=False, bias=True))
        scale = max(float(np.trace(cov)) / len(cov), 1e-12)
        precision = np.linalg.inv(cov + RIDGE * scale * np.eye(len(cov)))
        d = z - mean
        t2 = np.einsum("nd,de,ne->n", d, precision, d)
        return cls(mean, precision, _median(spe), _median(t2))

    def t2(self, codes: np.ndarray) -> np.ndarray:
        d = np.asarray(codes, dtype=np.float64) - self.mean
        return np.einsum("nd,de,ne->n", d, self.precision, d)

    def score(self, codes: np.ndarray, spe: np.ndarray) -> np.ndarray:
        """(N,) SPE / median + T^2 / median."""
        return np.asarray(spe, np.float64) / self.spe_scale + (
            self.t2(codes) / self.t2_scale
        )


def _median(values: np.ndarray) -> float:
    return max(float(np.median(values)), 1e-12)


def window_spe(run: Run, x: torch.Tensor) -> np.ndarray:
    """(N,) mean squared reconstruction errors of (N, C, W) windows."""
    x_hat = inference.reconstruct(run, x)
    return (x_hat - x).double().pow(2).flatten(1).mean(1).numpy()


def codes(run: Run, x: torch.Tensor) -> np.ndarray:
    """(N, D) codes (a VAE's posterior means) of (N, C, W) windows."""
    return inference.encode(run, x).double().numpy()


def fit_code_score(run: Run) -> tuple[CodeScore, np.ndarray]:
    """The score fitted on the run's training windows, and their (N,) scores (for a
    threshold)."""
    train, _ = run_splits(run)
    spe, z = window_spe(run, train.x), codes(run, train.x)
    model = CodeScore.fit(z, spe)
    return model, model.score(z, spe)


def code_scores(run: Run, x: torch.Tensor, model: CodeScore) -> np.ndarray:
    """(N,) scores of (N, C, W) windows."""
    return model.score(codes(run, x), window_spe(run, x))
