"""The Python API: the same verbs as the CLI, on run directories and arrays.

A facade only: each verb wires the layers below (aekit.tasks.pipeline trains, aekit.run
reads runs, aekit.inference runs models); nothing in the library imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import inference
from ..data import DATASETS, StreamDataset
from ..errors import AekitError
from ..models.base import Model
from ..run import Run, as_run, load_inputs, load_run
from ..tasks import pipeline
from ..training.loop import Progress
from ..training.noise import Noise

__all__ = [
    "Run",
    "as_run",
    "datasets",
    "decode",
    "denoise",
    "encode",
    "fit_prior",
    "encode_stats",
    "info",
    "load_inputs",
    "load_run",
    "reconstruct",
    "reconstruct_samples",
    "sample",
    "train",
]


def train(
    data: Any = "mnist-5k",
    model: str | None = None,
    *,
    task: str = "reconstruct",
    out: str | Path | None = None,
    resume: str | Path | None = None,
    overwrite: bool = False,
    pictures: bool = True,
    report: bool = True,
    progress: Progress | None = None,
    **options: Any,
) -> Run:
    """Train a registered model on a data source; returns the run read back.

    `options` mixes model options (latent_dim, hidden, upsample, sparsity, beta, ...),
    training options (the TrainConfig fields: epochs, lr, noise, ...) and data options
    (image_size, image_channels, label_column, split, stream; for sequences window,
    stride, steps_per_beat, bars, beats_per_bar, pitch_range). `resume` continues
    a run directory (only epochs and patience may change).
    `task` "colorize" or "segment" trains an image-to-image model instead (see
    aekit.tasks; model default "unet").
    """
    if resume is not None:
        return pipeline.resume(
            resume, pictures=pictures, report=report, progress=progress, **options
        )
    return pipeline.train(
        data,
        model,
        task=task,
        out=out,
        overwrite=overwrite,
        pictures=pictures,
        report=report,
        progress=progress,
        **options,
    )


def fit_prior(run: Run | str | Path, **options: Any) -> Any:
    """Fit (again) the learned prior of a run that samples through one (a VQ-VAE's
    PixelCNN), as RUN/stages/prior/. Options: epochs, lr, batch_size, width,
    layers (aekit.tasks.learned_prior.fit_prior); returns the prior's History."""
    from ..tasks.learned_prior import fit_prior as fit

    return fit(as_run(run), **options)


def reconstruct(run: Run | str | Path, inputs: Any, *, c: Any = None) -> np.ndarray:
    """Reconstructions of `inputs`, one row per input, in the source's units."""
    run = as_run(run)
    data = load_inputs(run, inputs)
    return run.scaling.to_source(inference.reconstruct(run, data.x, _given(c, data)))


def denoise(
    run: Run | str | Path, inputs: Any, *, add_noise: str | None = None, seed: int = 0
) -> np.ndarray:
    """Denoised `inputs` in source units; `add_noise` corrupts them first (demos)."""
    run = as_run(run)
    data = load_inputs(run, inputs)
    x = data.x
    if add_noise:
        bounds = (0.0, 1.0) if run.scaling.domain == "unit" else None
        x = Noise.parse(add_noise)(
            x, bounds=bounds, generator=torch.Generator().manual_seed(seed)
        )
    return run.scaling.to_source(inference.reconstruct(run, x, _given(None, data)))


def encode(run: Run | str | Path, inputs: Any, *, c: Any = None) -> np.ndarray:
    """Codes (N, latent_dim) of `inputs`; a VAE gives its posterior means."""
    run = as_run(run)
    data = load_inputs(run, inputs)
    if isinstance(data, StreamDataset):  # larger than memory: codes fill one array
        return data.map(run.model.encode, inference.BATCH)
    return inference.encode(run, data.x, _given(c, data)).numpy()


def encode_stats(
    run: Run | str | Path, inputs: Any, *, c: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """The posterior of each input as (mu, logvar), each (N, latent): VAEs only."""
    run = as_run(run)
    data = load_inputs(run, inputs)
    mu, logvar = inference.posterior_stats(run, data.x, _given(c, data))
    return mu.numpy(), logvar.numpy()


def reconstruct_samples(
    run: Run | str | Path, inputs: Any, n: int, *, c: Any = None, seed: int = 0
) -> np.ndarray:
    """n stochastic reconstructions per input, (inputs, n, *sample) in source
    units, each decoded from its own draw of the posterior: VAEs only."""
    run = as_run(run)
    data = load_inputs(run, inputs)
    x = inference.reconstruct_samples(run, data.x, n, _given(c, data), seed=seed)
    out = run.scaling.to_source(x.reshape(-1, *x.shape[2:]))
    return out.reshape(len(x), n, *out.shape[1:])


def decode(run: Run | str | Path, codes: Any, *, c: Any = None) -> np.ndarray:
    """Decoded codes (N, latent_dim) -> data in the source's units."""
    run = as_run(run)
    z = inference.check_codes(run, codes)
    return run.scaling.to_source(inference.decode(run, z, _tensor(c)))


def sample(
    run: Run | str | Path,
    n: int = 64,
    *,
    seed: int = 0,
    label: int | None = None,
    condition: Any = None,
) -> np.ndarray:
    """n new examples in the source's units: a VAE decodes its prior; a plain
    autoencoder decodes draws from a Gaussian fitted to its training codes; a
    conditional run draws `label` (or every class in turn), or, conditioned on CSV
    columns, the `condition` values ("smile=1,age=0.3", a dict, or a list)."""
    run = as_run(run)
    c = (
        inference.sample_conditions(run, n, label=label, values=condition)
        if n >= 1
        else None
    )
    return run.scaling.to_source(inference.sample(run, n, seed=seed, c=c))


def info(run: Run | str | Path) -> dict[str, Any]:
    """What a run is: model, size, data, training, and its metrics."""
    run = as_run(run)
    caps = run.capabilities
    return {
        "path": str(run.path),
        "model": run.model_name,
        "task": run.task,
        "parameters": count_parameters(run.model),
        # image-to-image models have no vector code
        "latent_dim": run.model.latent_dim if caps.has_code else None,
        "capabilities": {
            "posterior": caps.posterior,
            "sampler": caps.sampler,
            "codes": caps.codes,
            "conditional": caps.conditional,
        },
        "model_config": run.record["model"]["config"],
        "data": {k: v for k, v in run.data_spec.items() if k != "scaling"},
        "training": run.record["training"],
        "metrics": run.metrics,
        "versions": run.record.get("versions", {}),
        **({"dec": run.record["dec"]} if "dec" in run.record else {}),
        "files": sorted(
            p.name for p in run.path.iterdir() if not p.name.startswith(".")
        ),
    }


def datasets() -> dict[str, str]:
    """Built-in data set names and what each is."""
    return {name: entry.description for name, entry in DATASETS.items()}


def count_parameters(model: Model) -> int:
    return sum(p.numel() for p in model.parameters())


def _given(c: Any, data: Any) -> torch.Tensor | None:
    """The conditions to use: given ones, else the data's own (labels)."""
    return _tensor(c) if c is not None else getattr(data, "condition", None)


def _tensor(c: Any) -> torch.Tensor | None:
    if c is None:
        return None
    try:
        return torch.as_tensor(np.asarray(c))
    except (TypeError, ValueError) as e:
        raise AekitError(f"conditions must be numbers: {e}") from e
