"""The model owns its optimisation: the phases it states are what the loop runs
(optimisers, learning rates, k steps per batch), resume restores every optimiser,
and the best checkpoint is picked on a metric that is no adversarial term."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open

from aekit.data import Dataset
from aekit.models import MODELS, build_model
from aekit.models.optimisation import Phase, rounds
from aekit.training.loop import CHECKPOINT, TrainConfig, fit


def _data(n: int = 96) -> Dataset:
    g = torch.Generator().manual_seed(1)
    z = torch.randn(n, 2, generator=g)
    return Dataset(torch.sigmoid(z @ torch.randn(2, 12, generator=g)))


def _aae(**options):
    torch.manual_seed(0)
    return build_model("aae", (12,), latent_dim=2, hidden=(16,), **options)


def test_aae_steps_its_discriminator_k_times_at_its_own_learning_rate(tmp_path):
    model = _aae(discriminator_steps=3, discriminator_lr=0.5)
    data = _data()  # 3 batches of 32
    config = TrainConfig(epochs=1, batch_size=32, seed=0, patience=0, lr=1e-3)
    fit(model, data, data, config, out=tmp_path)
    with safe_open(str(tmp_path / CHECKPOINT), "pt") as f:
        steps = {int(f.get_tensor(k).item()) for k in f.keys() if k.endswith(".step")}
        groups = json.loads(f.metadata()["param_groups"])
    assert steps == {3 * 3, 3}  # the discriminator 3 times a batch, the model once
    lrs = sorted({g["lr"] for g in groups})
    assert len(lrs) == 2 and lrs[0] == pytest.approx(0.5 * lrs[1])


def test_aae_resume_ends_with_the_same_weights_as_an_uninterrupted_run(tmp_path):
    data = _data()
    config = TrainConfig(epochs=3, batch_size=32, seed=0, patience=0)
    options = {"discriminator_steps": 2, "discriminator_lr": 0.5}
    straight = _aae(**options)
    fit(straight, data, data, config, out=tmp_path / "a")

    def stop_in_epoch_2(event, info):
        if event == "step" and info["epoch"] == 2 and info["step"] == 2:
            raise KeyboardInterrupt

    first = _aae(**options)
    fit(first, data, data, config, out=tmp_path / "b", progress=stop_in_epoch_2)
    resumed = _aae(**options)
    history = fit(resumed, data, data, config, out=tmp_path / "b", resume=True)
    assert [r["epoch"] for r in history.rows] == [1, 2, 3]
    for (key, a), b in zip(
        straight.state_dict().items(), resumed.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0, msg=key)


def test_a_phase_that_steps_with_the_previous_takes_as_many_steps():
    from aekit.errors import AekitError

    assert len(rounds((Phase("a"), Phase("b", "b_loss", with_previous=True)))) == 1
    with pytest.raises(AekitError, match="as many steps"):
        rounds((Phase("a"), Phase("b", "b_loss", steps=2, with_previous=True)))
    with pytest.raises(AekitError, match="at least once"):
        Phase("a", steps=0)


@pytest.mark.parametrize(
    "name", [n for n, s in MODELS.items() if s.capabilities.optimisers > 1]
)
def test_models_with_a_discriminator_select_on_no_adversarial_term(name):
    model = build_model(name, (12,), latent_dim=2, hidden=(16,))
    x = torch.rand(8, 12)
    terms = model.loss(x, x)
    metric = model.selection_metric
    assert metric in terms and metric != "loss"  # "loss" holds the generator term
    assert "adversarial" not in metric and "generator" not in metric
    assert {p.group for p in model.optimisation()} == set(model.parameter_groups())
