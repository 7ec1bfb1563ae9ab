"""Codes of data, data of codes, and the data a run was trained on.

Encoding and decoding here work in model units, batched, without gradients.

Active dimensions are ranked by the variance of the codes across the data (Burda et
al. 2016's "active units", https://arxiv.org/abs/1509.00519).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..data import Dataset, load_dataset
from ..errors import AekitError
from ..run import Run


def encode_tensor(run: Run, x: torch.Tensor) -> torch.Tensor:
    """Codes (N, latent_dim) of model-ready inputs; a VAE gives its posterior means."""
    from ..api import batched

    return batched(run.model.encode, x)


def decode_tensor(run: Run, z: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Decoded codes in model units, (N, *sample_shape)."""
    from ..api import batched

    return batched(run.model.decode, torch.as_tensor(z, dtype=torch.float32))


def active_dims(codes: torch.Tensor | np.ndarray, k: int) -> list[int]:
    """The k dimensions whose codes vary most across the data, in index order."""
    var = np.asarray(codes, dtype=np.float64).var(axis=0)
    return sorted(np.argsort(-var, kind="stable")[:k].tolist())


def run_data(run: Run, data: Any = None, *, part: str = "all") -> Dataset:
    """`data` (a source, paths, an array or a Dataset) ready for the run's model; None
    reloads the run's own source, `part` picking its "val" or "train" split or "all"."""
    from ..api import load_inputs

    if data is not None:
        return load_inputs(run, data)
    source = run.data_spec.get("source")
    if source is None:
        raise AekitError(
            f"{run.path} was trained on in-memory data; name the data to use "
            "(--data SOURCE)"
        )
    options = {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in (run.data_spec.get("options") or {}).items()
    }
    dataset = load_inputs(run, load_dataset(source, scaling=run.scaling, **options))
    if part == "all":
        return dataset
    config = run.train_config
    train, val = dataset.split(config.val_fraction, seed=config.seed)
    return val if part == "val" else train


def subsample(data: Dataset, n: int, *, seed: int = 0) -> Dataset:
    """At most n examples, a seeded random choice kept in data order."""
    if len(data) <= n:
        return data
    pick = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    return data.subset(pick[:n].sort().values)
