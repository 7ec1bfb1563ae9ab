"""The start rule: a model that starts at a solution (a PCA start) keeps it unless
training beat it by a clear margin.

Picking the best of hundreds of epochs on a validation split of a few series is
optimistic: the winner's small gain is partly the luck of those few series, and on
held-out data it is often worse than the start. So the start's weights (saved at
epoch 0, START in the run folder) stay the model unless the best epoch's
validation loss is lower by MIN_GAIN or more, or a paired test over validation
units says its gain is no accident: per unit, the log ratio of the best epoch's
reconstruction error to the start's; the gain counts when its t statistic passes
KEEP_START_Z. A unit is a sample, or for windows of a series (Dataset.units) a
span of non-overlapping windows, as overlapping windows share their steps and are
not independent evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from . import distributed
from .checkpoint import load_weights
from .config import TrainConfig
from .distributed import Ranks
from .hardware import autocast
from .noise import Noise

START = "start.safetensors"  # the weights a solution start began with
MIN_GAIN = 0.10  # a relative fall of the validation loss this large always counts
KEEP_START_Z = 3.5  # t of the paired per-unit test that counts as a clear gain


@dataclass(frozen=True)
class Selection:
    """What the rule compared and decided (metrics.json "selection")."""

    start_loss: float
    best_loss: float
    best_epoch: int
    t: float  # paired t of -log(best error / start error) over units
    units: int
    kept: str  # "start" or "trained"

    @property
    def gain(self) -> float:
        """Relative fall of the validation loss from the start to the best epoch."""
        return 1.0 - self.best_loss / self.start_loss if self.start_loss > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_loss": self.start_loss,
            "best_loss": self.best_loss,
            "best_epoch": self.best_epoch,
            "gain": self.gain,
            "t": self.t,
            "units": self.units,
            "kept": self.kept,
            "rule": f"trained if gain >= {MIN_GAIN:g} or t > {KEEP_START_Z:g}",
        }

    def describe(self) -> str:
        return describe(self.to_dict())


def describe(selection: dict[str, Any]) -> str:
    """One line from metrics.json's "selection": what the start rule kept, why."""
    s = selection
    which = "the start's weights" if s["kept"] == "start" else "the trained weights"
    return (
        f"start rule: validation loss {s['start_loss']:.4g} at the start, "
        f"{s['best_loss']:.4g} at best (epoch {s['best_epoch']}), gain "
        f"{s['gain']:.1%}, t = {s['t']:.2f} over {s['units']} units: kept {which}"
    )


def compare(
    model: torch.nn.Module, start: Path, best: Path, history: Any, *args: Any
) -> Selection:
    """The rule applied to a run: the `start` weights against the `best` epoch's
    (files), over validation units (`args`: unit_errors' after the model).
    `model` is left holding the best epoch's weights."""
    losses = history.start_val_loss, history.best_val_loss
    if history.best_epoch == 0:  # no epoch validated better: nothing to test
        return decide(*losses, 0, (0.0, 0.0, 0.0))
    load_weights(start, model)
    at_start = unit_errors(model, *args)
    load_weights(best, model)
    at_best = unit_errors(model, *args)
    device = next(model.parameters()).device
    sums = log_ratio_sums(at_start, at_best, device)
    return decide(*losses, history.best_epoch, sums)


def decide(
    start_loss: float,
    best_loss: float,
    best_epoch: int,
    log_ratio: torch.Tensor | tuple[float, float, float],
) -> Selection:
    """The rule on per-unit log ratios (best error / start error), or on their
    (count, sum, sum of squares) as added up over ranks."""
    if isinstance(log_ratio, torch.Tensor):
        d = log_ratio.double()
        log_ratio = (float(len(d)), float(d.sum()), float((d * d).sum()))
    t, n = paired_t(*log_ratio)
    gain = 1.0 - best_loss / start_loss if start_loss > 0 else 0.0
    trained = gain >= MIN_GAIN or t > KEEP_START_Z
    return Selection(
        start_loss, best_loss, best_epoch, t, n, "trained" if trained else "start"
    )


def paired_t(n: float, total: float, squares: float) -> tuple[float, int]:
    """t of the mean gain -d over n units from the sums of d and d**2 (0 for fewer
    than two units; inf when every unit gained alike)."""
    if n < 2:
        return 0.0, int(n)
    mean = total / n
    var = max(squares - n * mean * mean, 0.0) / (n - 1)
    if var == 0.0:
        return (math.inf if mean < 0 else 0.0), int(n)
    return -mean / math.sqrt(var / n), int(n)


def unit_errors(
    model: torch.nn.Module,
    val: Any,
    config: TrainConfig,
    noise: Noise | None,
    bounds: tuple[float, float] | None,
    ranks: Ranks,
    c: Any = None,
) -> torch.Tensor:
    """Mean squared reconstruction error of each validation unit (this rank's
    share), with validation's fixed noise draws; units in order of first sample."""
    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(config.seed + ranks.rank)
    x, target = val.x, val.target if val.target is not None else val.x
    errors = []
    with torch.no_grad():
        for start in range(0, len(x), config.batch_size):
            xb = x[start : start + config.batch_size].to(device)
            tb = target[start : start + len(xb)].to(device)
            cb = None if c is None else c[start : start + len(xb)].to(device)
            if noise is not None:
                xb = noise(xb, bounds=bounds, generator=generator)
            with autocast(xb.device, config.precision):
                x_hat = model(xb, *(() if cb is None else (cb,)))
            err = (x_hat.float() - tb.float()).pow(2).flatten(1).mean(1)
            errors.append(err.cpu())
    per_sample = torch.cat(errors).double()
    units = getattr(val, "units", None)
    if units is None:
        return per_sample
    _, unit = torch.unique_consecutive(torch.as_tensor(units), return_inverse=True)
    sums = torch.zeros(int(unit.max()) + 1, dtype=torch.float64)
    counts = torch.zeros_like(sums)
    sums.index_add_(0, unit, per_sample)
    counts.index_add_(0, unit, torch.ones_like(per_sample))
    return sums / counts


def log_ratio_sums(
    start: torch.Tensor, best: torch.Tensor, device: torch.device | None = None
) -> tuple[float, float, float]:
    """(count, sum, sum of squares) of log(best / start) over every rank's units
    (a unit split between two ranks' shares counts twice)."""
    tiny = torch.finfo(torch.float64).tiny
    d = torch.log((best + tiny) / (start + tiny))
    sums = torch.stack([torch.tensor(float(len(d)), dtype=d.dtype), d.sum(), d @ d])
    sums = sums.to(device or "cpu")
    n, total, squares = distributed.all_reduce_sum(sums).tolist()
    return n, total, squares
