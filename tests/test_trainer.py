"""The training loop learns, stops early, survives NaN and Ctrl-C, resumes exactly."""

from __future__ import annotations

import csv

import pytest
import torch

from aekit.data import Dataset, Scaling
from aekit.models import build_model
from aekit.training.checkpoint import load_training_state, load_weights
from aekit.training.loop import (
    CHECKPOINT,
    HISTORY,
    WEIGHTS,
    TrainConfig,
    TrainingDiverged,
    fit,
    make_optimizer,
)


def blobs(n=96, d=12, seed=0):
    """Vectors on a 2-D subspace squashed into [0, 1]: they compress to 2 numbers."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 2, generator=g)
    x = torch.sigmoid(z @ torch.randn(2, d, generator=g))
    return Dataset(x, scaling=Scaling(layout="d"), name="blobs").split(0.25, seed=0)


def small(name="mlp", **kw):
    torch.manual_seed(0)
    return build_model(name, (12,), latent_dim=2, hidden=(16,), **kw)


def test_fit_lowers_the_validation_loss_and_writes_history(tmp_path):
    train, val = blobs()
    model = small()
    history = fit(
        model,
        train,
        val,
        TrainConfig(epochs=15, batch_size=8, lr=1e-2, patience=0),
        out=tmp_path,
    )
    assert len(history.rows) == 15 and history.stop_reason == "completed"
    assert history.rows[-1]["val_loss"] < 0.5 * history.rows[0]["val_loss"]
    with open(tmp_path / HISTORY) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 15 and {"train_loss", "val_loss", "lr"} <= set(rows[0])
    # model.safetensors holds the best epoch's weights
    best = small()
    load_weights(tmp_path / WEIGHTS, best)
    best_loss = min(r["val_loss"] for r in history.rows)
    assert history.best_val_loss == best_loss


def test_cosine_schedule_ends_near_zero_and_constant_stays():
    train, val = blobs()
    config = TrainConfig(epochs=3, lr=1e-2, patience=0, schedule="cosine")
    cosine = fit(small(), train, val, config)
    assert cosine.rows[-1]["lr"] < 1e-6
    constant = fit(
        small(), train, val, TrainConfig(epochs=3, lr=1e-2, schedule="constant")
    )
    assert constant.rows[-1]["lr"] == pytest.approx(1e-2)


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    train, val = blobs()
    # a learning rate of ~0 means validation never improves after the first epoch
    history = fit(small(), train, val, TrainConfig(epochs=50, lr=1e-12, patience=3))
    assert history.stop_reason == "early-stopped"
    assert len(history.rows) == history.best_epoch + 3


class NaNAfter(torch.nn.Module):
    """Wraps a model; its loss turns NaN at a chosen global step."""

    def __init__(self, inner, at_step):
        super().__init__()
        self.inner, self.at_step, self.steps = inner, at_step, 0
        self.config = inner.config

    def loss(self, x, target):
        terms = self.inner.loss(x, target)
        self.steps += self.training
        if self.training and self.steps > self.at_step:
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    def set_epoch(self, epoch):
        pass


def test_nan_loss_stops_naming_epoch_and_step_and_keeps_last_good_checkpoint(tmp_path):
    train, val = blobs()  # 72 training rows, batch 24: 3 steps per epoch
    model = NaNAfter(small(), at_step=7)  # step 8 overall is epoch 3, step 2
    with pytest.raises(TrainingDiverged, match="epoch 3, step 2") as info:
        fit(model, train, val, TrainConfig(epochs=5, batch_size=24), out=tmp_path)
    assert "checkpoint of epoch 2 is kept" in str(info.value)
    weights_before = {k: v.clone() for k, v in model.state_dict().items()}
    state = load_training_state(
        tmp_path / CHECKPOINT, model, make_optimizer(model, TrainConfig())
    )
    assert len(state["rows"]) == 2
    # the NaN step never reached the optimiser: the weights in memory are finite
    assert all(torch.isfinite(v).all() for v in weights_before.values())


def test_interrupt_keeps_completed_epochs(tmp_path):
    train, val = blobs()

    def press_ctrl_c(event, info):
        if event == "step" and info["epoch"] == 3 and info["step"] == 2:
            raise KeyboardInterrupt

    history = fit(
        small(),
        train,
        val,
        TrainConfig(epochs=6, batch_size=24),
        out=tmp_path,
        progress=press_ctrl_c,
    )
    assert history.stop_reason == "interrupted" and len(history.rows) == 2
    assert (tmp_path / CHECKPOINT).is_file() and (tmp_path / WEIGHTS).is_file()


@pytest.mark.parametrize("name", ["mlp", "vae"])
def test_resume_ends_with_the_same_weights_as_an_uninterrupted_run(tmp_path, name):
    train, val = blobs()
    config = TrainConfig(epochs=5, batch_size=16, noise="gaussian:0.1", patience=0)
    straight = small(name)
    fit(straight, train, val, config, out=tmp_path / "a")

    def stop_in_epoch_4(event, info):
        if event == "step" and info["epoch"] == 4 and info["step"] == 2:
            raise KeyboardInterrupt

    first = small(name)
    fit(first, train, val, config, out=tmp_path / "b", progress=stop_in_epoch_4)
    resumed = small(name)  # a fresh process would rebuild the model like this
    history = fit(resumed, train, val, config, out=tmp_path / "b", resume=True)
    assert [r["epoch"] for r in history.rows] == [1, 2, 3, 4, 5]
    for (key, a), b in zip(
        straight.state_dict().items(), resumed.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0, msg=key)


def test_denoising_feeds_corrupted_inputs_and_scores_clean_targets():
    train, val = blobs()
    seen = []

    class Spy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = small()
            self.config = self.inner.config

        def loss(self, x, target):
            seen.append((x.clone(), target.clone()))
            return self.inner.loss(x, target)

        def set_epoch(self, epoch):
            pass

    fit(Spy(), train, val, TrainConfig(epochs=1, batch_size=72, noise="mask:0.5"))
    x, target = seen[0]
    assert not torch.equal(x, target)
    assert torch.all((x == 0) | (x == target))  # masking noise only zeroes values
    assert 0.3 < float((x == 0).float().mean()) < 0.7


def test_bf16_autocast_trains_to_a_finite_lower_loss():
    train, val = blobs()
    history = fit(
        small(),
        train,
        val,
        TrainConfig(epochs=8, lr=3e-3, precision="bf16", batch_size=16),
    )
    assert history.rows[-1]["val_loss"] < history.rows[0]["val_loss"]


def test_user_rng_state_is_left_alone():
    train, val = blobs()
    model = small()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    fit(model, train, val, TrainConfig(epochs=1))
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"epochs": 0}, "epochs"),
        ({"lr": -1}, "lr"),
        ({"noise": "blur:1"}, "unknown noise"),
        ({"noise": "gaussian"}, "KIND:AMOUNT"),
        ({"precision": "fp8"}, "precision"),
        ({"val_fraction": 1.5}, "fraction"),
    ],
)
def test_bad_training_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**options)
