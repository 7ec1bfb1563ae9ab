"""The validation loss: a model's mean loss terms over held-out data, with fixed noise
draws, added up over ranks when several processes train."""

from __future__ import annotations

from typing import Any

import torch

from ..models import Model
from . import distributed
from .config import TrainConfig
from .distributed import Ranks
from .hardware import autocast
from .noise import Noise

EVAL_SEED_EPOCH = -1  # validation's VAE draws come from (seed, -1): the same each epoch


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of an epoch's randomness: a resumed run redraws the same."""
    return (seed * 1_000_003 + epoch + 1) % (2**63)


def evaluate_loss(
    model: Model,
    x: Any,
    target: Any,
    config: TrainConfig,
    noise: Noise | None = None,
    bounds: tuple[float, float] | None = (0.0, 1.0),
    ranks: Ranks | None = None,
    c: Any = None,
) -> dict[str, float]:
    """Mean loss terms over (x, target) in eval mode, with fixed noise draws.

    `target` None means x; `c` is the condition of each row (or None). Under
    torchrun each rank passes its share; the sums are added up over ranks, so every
    rank returns the mean over all of them.
    """
    ranks = ranks or Ranks()
    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(config.seed + ranks.rank)
    torch.manual_seed(
        epoch_seed(config.seed, EVAL_SEED_EPOCH) + ranks.rank
    )  # same VAE draws
    sums: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        for start in range(0, len(x), config.batch_size):
            xb = x[start : start + config.batch_size].to(device, non_blocking=True)
            tb = (
                xb if target is None or target is x else target[start : start + len(xb)]
            )
            tb = tb.to(device, non_blocking=True)
            cb = None if c is None else c[start : start + len(xb)].to(device)
            if noise is not None:
                xb = noise(xb, bounds=bounds, generator=generator)
            with autocast(xb.device, config.precision):
                terms = model.loss(xb, tb, *(() if cb is None else (cb,)))
            for key, value in terms.items():
                sums[key] = sums.get(key, 0.0) + value.detach().float() * len(xb)
    return mean_over_ranks(sums, len(x))


def mean_over_ranks(sums: dict[str, torch.Tensor], n: int) -> dict[str, float]:
    """Sums over this rank's n rows -> means over every rank's rows (one sync)."""
    keys = sorted(sums)
    if not keys:
        return {}
    parts = [sums[k].float().reshape(1) for k in keys]
    totals = torch.cat([*parts, torch.tensor([float(n)], device=parts[0].device)])
    *values, count = distributed.all_reduce_sum(totals).tolist()
    return {k: v / count for k, v in zip(keys, values, strict=True)}
