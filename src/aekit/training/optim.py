"""The optimiser (AdamW, fused) and its learning rate (warm-up, then constant or
cosine)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch
from torch import nn

from .config import COSINE_FLOOR, TrainConfig


def make_optimizer(
    model: nn.Module, config: TrainConfig, params: list[nn.Parameter] | None = None
) -> torch.optim.AdamW:
    """AdamW over `params` (every trainable parameter of `model` by default)."""
    # weight decay on matrices and kernels only, as in nanoGPT: decaying biases,
    # norms and a learned noise scale only pulls them off their optimum
    if params is None:
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


class Optimisers:
    """Several optimisers read and written as one: the checkpoint stores their
    states side by side (parameter indices run on from one optimiser to the next),
    so a resumed run restores every one of them exactly."""

    def __init__(self, optimizers: list[torch.optim.Optimizer]):
        self.optimizers = optimizers

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return [g for o in self.optimizers for g in o.param_groups]

    @property
    def state(self) -> dict[Any, Any]:
        return {p: s for o in self.optimizers for p, s in o.state.items()}

    def state_dict(self) -> dict[str, Any]:
        state: dict[int, Any] = {}
        groups: list[dict[str, Any]] = []
        offset = 0
        for opt in self.optimizers:
            sd = opt.state_dict()
            state |= {offset + int(i): v for i, v in sd["state"].items()}
            for g in sd["param_groups"]:
                groups.append({**g, "params": [offset + i for i in g["params"]]})
            offset += sum(len(g["params"]) for g in opt.param_groups)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        groups = list(sd["param_groups"])
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"{len(groups)} parameter groups saved, {len(self.param_groups)} here"
            )
        offset = 0
        for opt in self.optimizers:
            mine, groups = (
                groups[: len(opt.param_groups)],
                groups[len(opt.param_groups) :],
            )
            n = sum(len(g["params"]) for g in opt.param_groups)
            state = {
                int(i) - offset: v
                for i, v in sd["state"].items()
                if offset <= int(i) < offset + n
            }
            shifted = [
                {**g, "params": [int(i) - offset for i in g["params"]]} for g in mine
            ]
            opt.load_state_dict({"state": state, "param_groups": shifted})
            offset += n


class Schedulers:
    """One learning-rate schedule per optimiser, stepped and stored together."""

    def __init__(self, schedulers: list[torch.optim.lr_scheduler.LRScheduler]):
        self.schedulers = schedulers

    def step(self) -> None:
        for s in self.schedulers:
            s.step()

    def get_last_lr(self) -> list[float]:
        return [lr for s in self.schedulers for lr in s.get_last_lr()]

    def state_dict(self) -> dict[str, Any]:
        return {"schedulers": [s.state_dict() for s in self.schedulers]}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        saved = sd["schedulers"]
        if len(saved) != len(self.schedulers):
            raise KeyError(f"{len(saved)} schedules saved, {len(self.schedulers)} here")
        for s, state in zip(self.schedulers, saved, strict=True):
            s.load_state_dict(state)
