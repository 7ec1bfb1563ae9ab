"""Code statistics of a run (code_stats.json): how a plain autoencoder is sampled.

The mean and covariance of the training codes define a Gaussian over codes; it is
read back checked (aekit.run.readers) and sampled through its eigendecomposition, so
any positive semi-definite covariance samples, however ill-conditioned.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..data.io import write_json
from ..errors import AekitError
from .readers import read_code_stats as _read_checked
from .readers import sample_gaussian

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
    size, symmetric; negative rounding-error eigenvalues clipped."""
    path = Path(run_dir) / CODE_STATS
    if not path.is_file():
        raise AekitError(f"{run_dir} has no {CODE_STATS}; retrain to sample from it")
    return _read_checked(path, latent_dim)


def sample_codes(
    run_dir: Path, latent_dim: int, n: int, generator: torch.Generator
) -> torch.Tensor:
    """n codes (float32) from the Gaussian fitted to the run's training codes."""
    mean, cov = read_code_stats(run_dir, latent_dim)
    return sample_gaussian(mean, cov, n, generator)
