"""How long a run trains by default: a budget in optimiser steps that fits the data.

Thirty passes over a large data set are plenty, but thirty passes over 300 samples
are a few dozen steps (a model that draws several versions of each sample on the
fly counts them all: Model.data_views): the budget is thirty epochs' steps, raised
to a floor that small data always reach and cut to a ceiling large data never pass.
Early stopping (best weights restored) waits for the floor (when the epochs are
left to it and the model starts at random; a PCA start is a solution already),
then for PATIENCE_STEPS' worth of epochs without a relative improvement of
TOLERANCE (scikit-learn's MLP stops after 10 epochs without a 1e-4 gain; epochs of
a few steps need more of them); a PCA start waits START_PATIENCE_STEPS, and keeps
its start unless clearly beaten (aekit.training.selection).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from .config import TrainConfig

EPOCHS = 30  # passes over data large enough to need no floor
FLOOR_STEPS = 2_000  # small data train at least this many steps
CEILING_STEPS = 20_000  # large data never train more
PATIENCE_EPOCHS = 10  # the least patience, in epochs
PATIENCE_STEPS = 800  # and in optimiser steps, for data of few steps an epoch
START_PATIENCE_STEPS = 400  # a solution start's (PCA); the start rule guards it
TOLERANCE = 1e-4  # a smaller relative fall of the validation loss is no improvement


def steps_per_epoch(n_train: int, batch_size: int, ranks: int = 1) -> int:
    """Optimiser steps in one pass (the last, short batch kept)."""
    return max(1, math.ceil(n_train / (batch_size * max(ranks, 1))))


def budget(
    config: TrainConfig,
    n_train: int,
    ranks: int = 1,
    views: int = 1,
    *,
    solution_start: bool = False,
) -> TrainConfig:
    """The config with epochs, patience and min_steps set from the data size where
    they were left to it (None); values the user gave are kept. `views`: how many
    versions of each sample the model draws on the fly (Model.data_views), so the
    data it learns from is that many times larger than `n_train`. A model that
    starts at a solution (`solution_start`: a PCA start) may stop before the floor:
    the floor keeps a random start from stopping before it learned anything, but a
    start at PCA is already a solution, so a plateau of START_PATIENCE_STEPS is
    enough (the start rule, aekit.training.selection, keeps it unless beaten)."""
    per_epoch = steps_per_epoch(n_train, config.batch_size, ranks)
    epochs = config.epochs
    if epochs is None:
        steps = min(max(EPOCHS * per_epoch * views, FLOOR_STEPS), CEILING_STEPS)
        epochs = max(1, math.ceil(steps / per_epoch))
    patience = config.patience
    if patience is None:
        wait = START_PATIENCE_STEPS if solution_start else PATIENCE_STEPS
        patience = max(PATIENCE_EPOCHS, math.ceil(wait / per_epoch))
    min_steps = config.min_steps
    if min_steps is None:  # the floor belongs to the automatic budget
        auto = config.epochs is None and not solution_start
        min_steps = min(FLOOR_STEPS, epochs * per_epoch) if auto else 0
    return dataclasses.replace(
        config, epochs=epochs, patience=patience, min_steps=min_steps
    )


def model_budget(
    config: TrainConfig, n_train: int, ranks: int, model: Any
) -> TrainConfig:
    """`budget` with what the model declares: the versions of a sample it draws
    (`data_views`) and whether it starts at a solution (`starts_at_solution`, a PCA
    start); any nn.Module trains, so both have defaults."""
    views = getattr(model, "data_views", 1)
    solution = getattr(model, "starts_at_solution", False)
    return budget(config, n_train, ranks, views, solution_start=solution)


def describe(config: TrainConfig, n_train: int, ranks: int = 1) -> str:
    """One line: the budget a resolved config trains with."""
    per_epoch = steps_per_epoch(n_train, config.batch_size, ranks)
    floor = f", not before step {config.min_steps:,}" if config.min_steps else ""
    stop = (
        f"early stopping after {config.patience} epochs without a gain{floor}"
        if config.patience
        else "no early stopping"
    )
    return (
        f"{config.epochs} epochs of {per_epoch} steps "
        f"({config.epochs * per_epoch:,} steps at most); {stop}"
    )
