"""Series defaults of issues 22 and 24: a PCA start may stop before the step floor."""

from __future__ import annotations

import torch

from aekit.data import Dataset
from aekit.models import build_model
from aekit.training.budget import FLOOR_STEPS, budget, describe
from aekit.training.config import TrainConfig
from aekit.training.loop import fit


def test_a_solution_start_has_no_step_floor_a_random_start_keeps_it():
    config = TrainConfig(batch_size=64)
    random = budget(config, 100, solution_start=False)
    pca = budget(config, 100, solution_start=True)
    assert random.min_steps == FLOOR_STEPS and pca.min_steps == 0
    assert pca.epochs == random.epochs  # the same budget, only the floor differs
    assert "not before" in describe(random, 100) and "not before" not in describe(
        pca, 100
    )
    given = budget(TrainConfig(batch_size=64, min_steps=30), 100, solution_start=True)
    assert given.min_steps == 30  # what the user gave is kept


def test_a_pca_start_that_stops_gaining_stops_before_the_floor():
    torch.manual_seed(0)
    x = torch.rand(24, 6)
    net = build_model(
        "mlp", (6,), latent_dim=2, hidden=(8,), start="pca", output="identity"
    )
    net.init_from_data(x[:16])
    # no gain possible at this rate: patience (5 epochs) ends the run early
    config = TrainConfig(patience=5, batch_size=64, lr=1e-9)
    history = fit(net, Dataset(x[:16]), Dataset(x[16:]), config)
    assert history.stop_reason == "early-stopped"
    assert len(history.rows) < 50 < FLOOR_STEPS  # one step an epoch
