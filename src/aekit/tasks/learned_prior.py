"""The learned prior of a run whose codes are a discrete grid (a VQ-VAE): a PixelCNN
(aekit.models.vqvae.pixelcnn, van den Oord et al. 2016, https://arxiv.org/abs/1606.05328)
fitted as the run's second stage RUN/stages/prior/ on the code grids of the run's
own training and validation splits.

`aekit train --model vq-vae` fits it right after the autoencoder (`--no-prior`
skips it); `aekit fit-prior RUN` fits it again. The same training loop as the run
trains it: AdamW, PRIOR_EPOCHS epochs at PRIOR_LR by default, cross-entropy of each
code given the codes before it, best validation epoch kept, the run's seed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from .. import inference
from ..data import Dataset, Scaling
from ..errors import AekitError
from ..models import build_model
from ..models.vqvae.config import PRIOR_BATCH, PRIOR_EPOCHS, PRIOR_LR
from ..run import Run, as_run, in_memory, run_splits, seeded
from ..training.config import TrainConfig
from ..training.loop import History, Progress
from ..training.stages import fit_stage

log = logging.getLogger(__name__)

PRIOR = "prior"  # the stage's name: RUN/stages/prior/
PRIOR_MODEL = "pixelcnn-prior"
PRIOR_ROWS = 50_000  # code grids of a streamed data set the prior sees at most


def needs_prior(run: Run) -> bool:
    """Whether the run samples through a learned prior, as its registry entry says."""
    return run.capabilities.sampler == "learned"


def code_grids(run: Run, data: Dataset) -> Dataset:
    """The code-index grids of `data` as a Dataset of (N, 1, h, w) floats."""
    h, w = run.model.grid
    codes = inference.encode(run, data.x)  # (N, h*w) code indices
    return Dataset(
        codes.view(len(codes), 1, h, w),
        scaling=Scaling(domain="real"),
        name=f"codes of {data.name}",
    )


def fit_prior(
    run: Run | str | Path,
    *,
    epochs: int | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    width: int | None = None,
    layers: int | None = None,
    data: tuple[Any, Any] | None = None,
    progress: Progress | None = None,
) -> History:
    """Fit (or refit) the run's PixelCNN prior; `data` is its (train, val) split
    when the caller has it in memory, else the run's source is read again.
    Unset options take PRIOR_EPOCHS, PRIOR_LR and PRIOR_BATCH."""
    run = as_run(run)
    if not needs_prior(run):
        raise AekitError(
            f"{run.path}: a {run.model_name} run samples from its "
            f"{run.capabilities.sampler or 'nothing'}, not a learned prior"
        )
    train, val = data if data is not None else run_splits(run)
    train, val = in_memory(train, PRIOR_ROWS), in_memory(val, PRIOR_ROWS)
    train_grids, val_grids = code_grids(run, train), code_grids(run, val)
    recorded = run.train_config
    config = TrainConfig(
        epochs=PRIOR_EPOCHS if epochs is None else epochs,
        lr=PRIOR_LR if lr is None else lr,
        batch_size=PRIOR_BATCH if batch_size is None else batch_size,
        seed=recorded.seed,
        device=recorded.device,
        precision=recorded.precision,
        val_fraction=recorded.val_fraction,
    )
    sizes = {"width": width, "layers": layers}
    prior = seeded(
        config.seed,
        lambda: build_model(
            PRIOR_MODEL,
            (1, *run.model.grid),
            codebook_size=run.model.config.codebook_size,
            **{k: v for k, v in sizes.items() if v is not None},
        ),
    )
    log.info("fitting the PixelCNN prior over %s code grids", len(train_grids))
    with torch.random.fork_rng(devices=[]):
        history = fit_stage(
            run.path, PRIOR, prior, train_grids, val_grids, config, progress=progress
        )
    if not history.rows:
        raise AekitError("the prior stopped before its first epoch; nothing saved")
    return history


def prior_summary(history: History) -> dict[str, Any]:
    """What metrics.json records of the prior's fit."""
    best = next(r for r in history.rows if r["epoch"] == history.best_epoch)
    return {
        "model": PRIOR_MODEL,
        "epochs_run": len(history.rows),
        "best_epoch": history.best_epoch,
        "val_bits_per_code": best.get("val_bits_per_code"),
        "train_seconds": round(sum(r["seconds"] for r in history.rows), 3),
    }


__all__ = ["PRIOR", "code_grids", "fit_prior", "needs_prior", "prior_summary"]
