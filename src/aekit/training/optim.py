"""The optimiser (AdamW, fused) and its learning rate (warm-up, then constant or
cosine)."""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn

from .config import COSINE_FLOOR, TrainConfig


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    # weight decay on matrices and kernels only, as in nanoGPT: decaying biases,
    # norms and a learned noise scale only pulls them off their optimum
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {
            "params": [p for p in params if p.ndim >= 2],
            "weight_decay": config.weight_decay,
        },
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    try:  # one fused kernel instead of a Python loop over tensors: measured faster
        return torch.optim.AdamW(groups, lr=config.lr, fused=True)
    except (RuntimeError, TypeError):  # an older torch, or an unsupported device
        return torch.optim.AdamW(groups, lr=config.lr)


def default_schedule(model: nn.Module) -> str:
    """What schedule="auto" means for this model: a constant rate for models with a
    posterior (their NLL measured 3-6 nats better than cosine-floor at 10 epochs and
    no worse at 30), cosine-floor (to a tenth of lr) for the rest (BENCHMARKS.md,
    the learning-rate schedule section)."""
    return "constant" if hasattr(model, "encode_distribution") else "cosine-floor"


def resolve_schedule(config: TrainConfig, model: nn.Module) -> TrainConfig:
    if config.schedule != "auto":
        return config
    return dataclasses.replace(config, schedule=default_schedule(model))


def make_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """A linear warm-up over `warmup_steps` (capped at a third of the run), then the
    rate `schedule` names: constant, cosine to 0 over the remaining steps, or
    cosine-floor: cosine from lr down to COSINE_FLOOR * lr."""
    total = max(1, config.epochs * steps_per_epoch)
    warmup = min(config.warmup_steps, total // 3)
    decay = max(1, total - warmup)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if config.schedule == "constant":
            return 1.0
        t = min(step - warmup, decay) / decay
        cosine = 0.5 * (1.0 + math.cos(math.pi * t))
        if config.schedule == "cosine-floor":
            return COSINE_FLOOR + (1.0 - COSINE_FLOOR) * cosine
        return cosine

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
