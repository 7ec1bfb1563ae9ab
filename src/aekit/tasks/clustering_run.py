"""Clustering a run's codes end to end: k-means, GMM, N2D or DEC / IDEC fine-tuning
(Xie et al. 2016, https://arxiv.org/abs/1511.06335; Guo et al. 2017), which stores
the fine-tuned model as a new run directory beside the one it started from.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import inference
from ..analysis.clustering import ClusterResult, cluster_codes, cluster_scores
from ..analysis.clustering_dec import dec_fine_tune
from ..data import Dataset
from ..data.io import read_json, write_json
from ..errors import AekitError
from ..run import (
    CONFIG,
    Run,
    as_run,
    check_run_dir,
    create_run_dir,
    load_run,
    read_run_config,
    run_data,
    write_code_stats,
)
from ..training.checkpoint import save_weights
from ..training.loop import WEIGHTS

METHODS = ("kmeans", "gmm", "n2d", "dec")


@dataclass(frozen=True)
class RunClusters:
    result: ClusterResult  # labels, probability (None for kmeans, dec's max q), ...
    codes: np.ndarray  # (N, d) the codes clustered (dec: of the fine-tuned model)
    y: np.ndarray | None  # the inputs' known labels
    scores: dict[str, Any] | None  # accuracy, nmi, ari, matching when y is known
    run: Run  # the run whose codes these are (dec: the new run)
    dec_dir: Path | None = None


def check_clusterable(path: Run | str | Path, method: str) -> None:
    """Refuse, before any weights are read, a run that has no code to cluster."""
    from ..models import spec_of

    if method not in METHODS:
        raise AekitError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    record = path.record if isinstance(path, Run) else read_run_config(path)
    name = record["model"].get("name")
    caps = spec_of(name).capabilities
    if not caps.has_code:
        what = "DEC fine-tunes an encoder" if method == "dec" else "clustering"
        raise AekitError(
            f"{what}, but {getattr(path, 'path', path)} is a {name} run with no "
            "encoder code (an image-to-image model)"
        )
    if method == "dec" and caps.conditional:
        raise AekitError("dec needs an unconditional run; this one is conditional")


def cluster_run(
    run: Run | str | Path,
    data: Any = None,
    *,
    k: int | None = None,
    method: str = "kmeans",
    seed: int = 0,
    gamma: float = 0.1,
    epochs: int = 20,
    batch_size: int = 256,
    lr: float = 1e-3,
    dec_out: Path | None = None,
    overwrite: bool = False,
) -> RunClusters:
    """Cluster the codes of `data` (default the run's own data, all of it)."""
    check_clusterable(run, method)
    run = as_run(run)
    dataset = run_data(run, data)
    if not isinstance(dataset, Dataset):
        raise AekitError("clustering needs the inputs in memory; give a smaller file")
    y = None if dataset.y is None else dataset.y.numpy()
    if method == "dec":
        if k is None:
            raise AekitError("dec needs --k: the number of clusters it fine-tunes to")
        run, result, dec_dir = _dec(
            run, dataset, k, seed, gamma, epochs, batch_size, lr, dec_out, overwrite
        )
        codes = _codes(run, dataset)
    else:
        codes = _codes(run, dataset)
        result, dec_dir = cluster_codes(codes, k=k, method=method, seed=seed), None
    scores = None if y is None else cluster_scores(y, result.labels)
    return RunClusters(result, codes, y, scores, run, dec_dir)


def prototypes(clusters: RunClusters) -> torch.Tensor:
    """Each cluster's centre decoded by its run, in model units (k, *sample_shape)."""
    centers = np.nan_to_num(clusters.result.centers.astype(np.float32))
    return inference.decode(clusters.run, torch.from_numpy(centers))


def _codes(run: Run, data: Dataset) -> np.ndarray:
    c = inference.data_conditions(run, data)
    return inference.encode(run, data.x, c).numpy().astype(np.float64)


def _dec(run, data, k, seed, gamma, epochs, batch_size, lr, out, overwrite):
    if k < 2 or k > len(data):
        raise AekitError(f"k={k} must be at least 2 and at most the {len(data)} inputs")
    out = Path(out) if out is not None else run.path.with_name(f"{run.path.name}-dec")
    if out.resolve() == run.path.resolve():
        raise AekitError("--dec-out must differ from the run it fine-tunes")
    check_run_dir(out, overwrite)  # refused before the fine-tuning, not after
    model = load_run(run.path).model  # a copy: the original run stays as it was
    with torch.enable_grad():
        labels, q = dec_fine_tune(
            model.encode,
            model.decode,
            data.x,
            k=k,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            gamma=gamma,
            seed=seed,
        )
    replaced = create_run_dir(out, overwrite)
    if replaced is not None:
        shutil.rmtree(replaced, ignore_errors=True)
    model.eval()
    save_weights(out / WEIGHTS, model)
    record = read_json(run.path / CONFIG)
    record["dec"] = {
        "fine_tuned_from": str(run.path),
        "k": int(k),
        "gamma": float(gamma),
        "epochs": int(epochs),
        "lr": float(lr),
        "seed": int(seed),
        "method": "IDEC" if gamma > 0 else "DEC",
    }
    write_json(out / CONFIG, record)
    new = load_run(out)
    with torch.no_grad():
        codes = _codes(new, data)
    write_code_stats(out, torch.from_numpy(codes.astype(np.float32)))
    centers = np.stack(
        [
            codes[labels == j].mean(0) if (labels == j).any() else codes.mean(0)
            for j in range(k)
        ]
    )
    result = ClusterResult(labels, q.max(1), centers, k, None, None)
    return new, result, out


__all__ = [
    "METHODS",
    "RunClusters",
    "check_clusterable",
    "cluster_run",
    "prototypes",
]
