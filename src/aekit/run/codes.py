"""Code statistics of a run (code_stats.json): how a plain autoencoder is sampled.

The mean and covariance of the training codes define a Gaussian over codes. Draws
use the covariance's eigendecomposition with negative eigenvalues clipped to zero,
so any positive semi-definite covariance samples, however ill-conditioned (a
Cholesky factorisation fails on eigenvalues from 1e8 down to 1e-3).
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import AekitError
from ..io import read_json, write_json

CODE_STATS = "code_stats.json"


def write_code_stats(run_dir: Path, codes: torch.Tensor) -> Path:
    """Mean and covariance of the training codes (N, d)."""
    z = codes.double().flatten(1)
    mean = z.mean(0)
    cov = (
        torch.cov(z.T).reshape(len(mean), len(mean))
        if len(z) > 1
        else torch.eye(len(mean), dtype=z.dtype)
    )
    return write_json(
        run_dir / CODE_STATS,
        {"mean": mean.tolist(), "cov": cov.tolist(), "n": len(z)},
    )


def read_code_stats(
    run_dir: Path, latent_dim: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean (d,), covariance (d, d)) as float64, checked: finite, the run's code
    size, symmetric and positive semi-definite (to rounding)."""
    path = run_dir / CODE_STATS
    if not path.is_file():
        raise AekitError(f"{run_dir} has no {CODE_STATS}; retrain to sample from it")
    stats = read_json(path)
    try:
        if not isinstance(stats, dict):
            raise TypeError("not a JSON object")
        mean = torch.tensor(stats["mean"], dtype=torch.float64)
        cov = torch.tensor(stats["cov"], dtype=torch.float64)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise AekitError(f"{path} is malformed: {_first_line(e)}") from e
    d = latent_dim
    if mean.shape != (d,) or cov.shape != (d, d):
        raise AekitError(
            f"{path}: mean {tuple(mean.shape)} and covariance {tuple(cov.shape)} do "
            f"not fit the run's code size {d}"
        )
    if not (torch.isfinite(mean).all() and torch.isfinite(cov).all()):
        raise AekitError(f"{path} holds NaN or inf")
    scale = float(cov.abs().max()) or 1.0
    if float((cov - cov.T).abs().max()) > 1e-6 * scale:
        raise AekitError(f"{path}: the covariance is not symmetric")
    if float(torch.linalg.eigvalsh(cov).min()) < -1e-6 * scale:
        raise AekitError(f"{path}: the covariance is not positive semi-definite")
    return mean, cov


def gaussian_factor(cov: torch.Tensor) -> torch.Tensor:
    """A matrix L with L @ L.T = cov (negative rounding-error eigenvalues clipped)."""
    values, vectors = torch.linalg.eigh(cov.double())
    return vectors * values.clamp(min=0.0).sqrt()


def sample_codes(
    mean: torch.Tensor, cov: torch.Tensor, eps: torch.Tensor
) -> torch.Tensor:
    """Codes mean + L eps for standard-normal `eps` (n, d), as float32."""
    z = mean.double() + eps.double() @ gaussian_factor(cov).T
    return z.float()


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


__all__ = ["CODE_STATS", "read_code_stats", "sample_codes", "write_code_stats"]
