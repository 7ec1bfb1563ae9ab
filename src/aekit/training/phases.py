"""The optimisers a model states (aekit.models.optimisation), built and stepped.

Each batch runs the model's rounds in order; a round is one phase, or phases that
step together on one forward pass. A round with `steps` k takes k forward passes
(the first round's first pass is the one the loop logs), each followed by every
phase's backward into its own parameter group and then every phase's optimiser step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import AekitError
from ..models.base import Model
from ..models.optimisation import Phase, rounds
from .config import TrainConfig

Terms = dict[str, torch.Tensor]


@dataclass
class Stage:
    """One phase with the parameters it steps and its optimiser."""

    phase: Phase
    params: list[nn.Parameter]
    optimizer: torch.optim.Optimizer


def plan(model: nn.Module) -> tuple[dict[str, list[nn.Parameter]], tuple[Phase, ...]]:
    """The model's parameter groups and phases, checked against each other."""
    if not isinstance(model, Model):  # any nn.Module with a loss() trains
        return {"model": [p for p in model.parameters() if p.requires_grad]}, (
            Phase("model"),
        )
    groups, phases = model.parameter_groups(), model.optimisation()
    named = [p.group for p in phases]
    if sorted(named) != sorted(groups):
        raise AekitError(
            f"{model.name or type(model).__name__} states phases for "
            f"{', '.join(named)} but has parameter groups {', '.join(groups)}"
        )
    return groups, phases


def build(
    model: nn.Module,
    config: TrainConfig,
    make_optimizer: Callable[..., torch.optim.Optimizer],
) -> list[list[Stage]]:
    """An optimiser per phase (lr scaled as the phase states), in rounds. A model
    with one plain phase gets today's single AdamW over all its parameters."""
    groups, phases = plan(model)
    if len(phases) == 1 and phases[0].lr_scale == 1.0:
        only = phases[0]
        return [[Stage(only, groups[only.group], make_optimizer(model, config))]]
    return [
        [
            Stage(
                p,
                groups[p.group],
                make_optimizer(
                    model,
                    dataclasses.replace(config, lr=config.lr * p.lr_scale),
                    groups[p.group],
                ),
            )
            for p in round_
        ]
        for round_ in rounds(phases)
    ]


def step(
    stages: list[list[Stage]],
    terms: Terms,
    forward: Callable[[], Terms],
    weight: float,
    grad_clip: float,
) -> None:
    """One batch: every round, as many times as it steps (see the module note)."""
    only = len(stages) == 1 and len(stages[0]) == 1
    for r, round_ in enumerate(stages):
        for s in range(round_[0].phase.steps):
            if r or s:
                terms = forward()
            for stage in round_:
                stage.optimizer.zero_grad(set_to_none=True)
            for i, stage in enumerate(round_):
                loss = terms[stage.phase.loss]
                if only:
                    (loss * weight if weight != 1.0 else loss).backward()
                else:
                    last = i == len(round_) - 1
                    (loss * weight).backward(inputs=stage.params, retain_graph=not last)
            if grad_clip > 0:
                params = [p for stage in round_ for p in stage.params]
                nn.utils.clip_grad_norm_(params, grad_clip)
            for stage in round_:
                stage.optimizer.step()
