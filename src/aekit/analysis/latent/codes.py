"""Codes of data, data of codes, and the data a run was trained on.

Encoding and decoding here work in model units, batched, without gradients.

Active dimensions are ranked by the variance of the codes across the data (Burda et
al. 2016's "active units", https://arxiv.org/abs/1509.00519).
"""

from __future__ import annotations

import numpy as np
import torch

from ... import inference
from ...data import Dataset
from ...run import Run, run_data  # noqa: F401  (aekit.analysis.latent.run_data)


def encode_tensor(
    run: Run, x: torch.Tensor, c: torch.Tensor | None = None
) -> torch.Tensor:
    """Codes (N, latent_dim) of model-ready inputs; a VAE gives its posterior means."""
    return inference.encode(run, x, c)


def decode_tensor(
    run: Run, z: torch.Tensor | np.ndarray, c: torch.Tensor | None = None
) -> torch.Tensor:
    """Decoded codes in model units, (N, *sample_shape)."""
    return inference.decode(run, torch.as_tensor(z, dtype=torch.float32), c)


def active_dims(codes: torch.Tensor | np.ndarray, k: int) -> list[int]:
    """The k dimensions whose codes vary most across the data, in index order."""
    var = np.asarray(codes, dtype=np.float64).var(axis=0)
    return sorted(np.argsort(-var, kind="stable")[:k].tolist())


def subsample(data: Dataset, n: int, *, seed: int = 0) -> Dataset:
    """At most n examples, a seeded random choice kept in data order."""
    if len(data) <= n:
        return data
    pick = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    return data.subset(pick[:n].sort().values)
