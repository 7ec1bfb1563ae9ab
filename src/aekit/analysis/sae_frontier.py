"""The sparsity-fidelity frontier of sparse autoencoders (Gao et al. 2024,
https://arxiv.org/abs/2406.04093, fig. 2): each run's L0 and fraction of variance
unexplained on held-out data, streamed in batches, to compare families and k/L1."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..errors import AekitError
from ..run import Run, as_run, run_data, run_splits
from .sae_features import BATCH, check_sae


def l0_fvu(model: Any, x: Any, *, batch_size: int = BATCH) -> dict[str, float]:
    """L0 (mean active latents) and FVU, sum ||x - x_hat||^2 / sum ||x - mean||^2,
    of an SAE on inputs x (model units), accumulated batch by batch in float64
    (the centred sum from the running sums of x and x^2)."""
    n = len(x)
    if n == 0:
        raise AekitError("no inputs to measure L0 and FVU on")
    device = next(model.parameters()).device
    active = error = 0.0
    s1 = s2 = None
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            batch = x[start : start + batch_size].to(device)
            codes = model.encode(batch)
            x_hat = model.decode(codes)
            flat = batch.reshape(len(batch), -1).double()
            active += float((codes > 0).sum())
            error += float((flat - x_hat.reshape(len(batch), -1).double()).pow(2).sum())
            s1 = flat.sum(0) if s1 is None else s1 + flat.sum(0)
            s2 = flat.pow(2).sum(0) if s2 is None else s2 + flat.pow(2).sum(0)
    assert s1 is not None and s2 is not None
    centred = float((s2 - s1.pow(2) / n).sum())
    return {"l0": active / n, "fvu": error / max(centred, 1e-300)}


def family_of(run: Run) -> str:
    """The family and its sparsity knob, e.g. 'topk k=32' (a point's label)."""
    c = run.model.config
    knob = {"topk": "k", "batch-topk": "k", "relu-l1": "l1", "jumprelu": "l0_weight"}
    name = knob.get(c.sae)
    return f"{c.sae} {name}={getattr(c, name):g}" if name else c.sae


def frontier(
    runs: Sequence[Run | str | Path], *, data: Any = None
) -> list[dict[str, Any]]:
    """One point per SAE run: name, family, setting, L0 and FVU on its own held-out
    split, or on `data` for all (which then must fit every run). A run that is no
    SAE is refused, naming it."""
    loaded = [as_run(r) for r in runs]
    for run in loaded:  # every run checked before any is measured
        check_sae(run)
    points = []
    for run in loaded:
        x = (run_data(run, data) if data is not None else run_splits(run)[1]).x
        point = l0_fvu(run.model.eval(), x)
        points.append(
            {
                "name": run.path.name,
                "family": run.model.config.sae,
                "setting": family_of(run),
                "latents": int(run.model.latent_dim),
                **point,
            }
        )
    return points
