"""Sequence models: the model contract on (B, C, T) inputs, overfitting, round trips."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from aekit.errors import AekitError
from aekit.models.sequence.model import (
    SEQUENCE_MODELS,
    Conv1dConfig,
    Conv1dVAE,
    Conv1dVAEConfig,
    LSTMConfig,
    LSTMVAEConfig,
)


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models: one thread is faster than contending for two (conftest restores)."""
    torch.set_num_threads(1)


SMALL = {
    "conv1d": {"channels": (8, 16), "latent_dim": 6},
    "conv1d-vae": {"channels": (8, 16), "latent_dim": 6},
    "lstm": {"hidden_size": 24, "latent_dim": 6},
    "lstm-vae": {"hidden_size": 24, "latent_dim": 6},
}


def build(name, shape, **options):
    cls, config = SEQUENCE_MODELS[name]
    return cls(config(input_shape=shape, **{**SMALL[name], **options}))


def smooth_batch(b=8, c=2, t=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    phase = torch.rand(b, c, 1, generator=g) * 6.28
    freq = 0.2 + 0.3 * torch.rand(b, c, 1, generator=g)
    return torch.sin(freq * torch.arange(t) + phase)  # (B, C, T)


@pytest.mark.parametrize("name", list(SEQUENCE_MODELS))
@pytest.mark.parametrize("length", [7, 16, 25])
def test_shapes_for_odd_lengths(name, length):
    model = build(name, (3, length))
    x = torch.randn(4, 3, length)
    z = model.encode(x)
    assert z.shape == (4, 6)
    assert model.decode(z).shape == (4, 3, length)
    assert model(x).shape == (4, 3, length)
    # the condition keyword is accepted everywhere and ignored
    assert torch.equal(model.eval().encode(x, c=None), model.encode(x))
    assert model.decode(z, c=torch.zeros(4)).shape == (4, 3, length)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        *[
            (name, {"upsample": mode})
            for name in ("conv1d", "conv1d-vae")
            for mode in ("nearest", "linear", "transpose")
        ],
        ("lstm", {"num_layers": 2}),
        ("lstm-vae", {"num_layers": 2}),
        ("lstm-vae", {"sigma": 0.5}),
    ],
)
def test_finite_loss_backpropagates(name, options):
    model = build(name, (2, 13), **options)
    x = torch.randn(5, 2, 13)
    terms = model.loss(x, x, c=None)
    assert torch.isfinite(terms["loss"]) and "recon" in terms
    terms["loss"].backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", list(SEQUENCE_MODELS))
def test_overfits_one_batch(name):
    torch.manual_seed(0)
    options = {"beta": 0.01} if name.endswith("vae") else {}
    model = build(name, (2, 24), **options)
    x = smooth_batch()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.eval()
    with torch.no_grad():
        before = F.mse_loss(model(x), x).item()
    model.train()
    for i in range(120):
        model.set_epoch(i // 15)  # as the trainer does: lstm's teacher forcing fades
        opt.zero_grad()
        model.loss(x, x)["loss"].backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        after = F.mse_loss(model(x), x).item()
    assert after < 0.1 * before, (before, after)


@pytest.mark.parametrize("name", ["conv1d-vae", "lstm-vae"])
def test_piano_roll_vae_with_bernoulli_likelihood(name):
    torch.manual_seed(0)
    model = build(name, (6, 16), output="sigmoid", likelihood="bernoulli")
    roll = (torch.rand(4, 6, 16) < 0.2).float()
    terms = model.loss(roll, roll)
    assert torch.isfinite(terms["loss"]) and "sigma" not in terms
    assert model.decode(model.encode(roll)).min() >= 0


@pytest.mark.parametrize("name", list(SEQUENCE_MODELS))
def test_config_round_trip_rebuilds_identical_model(name):
    torch.manual_seed(1)
    model = build(name, (2, 11)).eval()
    cls, config_cls = SEQUENCE_MODELS[name]
    record = json.loads(json.dumps(dataclasses.asdict(model.config)))
    record = {k: tuple(v) if isinstance(v, list) else v for k, v in record.items()}
    config = config_cls(**record)
    assert config == model.config
    again = cls(config).eval()
    again.load_state_dict(model.state_dict())
    x = torch.randn(3, 2, 11)
    assert torch.equal(again(x), model(x))
    assert torch.equal(again.encode(x), model.encode(x))


def test_vae_kl_matches_torch_distributions():
    model = build("conv1d-vae", (2, 12))
    mu, logvar = model.encode_distribution(torch.randn(4, 2, 12))
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expect = torch.distributions.kl_divergence(q, p).sum(1)
    torch.testing.assert_close(model.kl(mu, logvar), expect, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["conv1d-vae", "lstm-vae"])
def test_vae_samples_from_the_prior(name):
    model = build(name, (2, 9)).eval()
    a = model.sample(3, generator=torch.Generator().manual_seed(0))
    b = model.sample(3, generator=torch.Generator().manual_seed(0))
    assert a.shape == (3, 2, 9) and torch.equal(a, b)


def test_kl_warmup():
    model = Conv1dVAE(Conv1dVAEConfig((1, 8), beta=2.0, kl_warmup_epochs=4))
    assert model.kl_weight == 0.0
    model.set_epoch(2)
    assert model.kl_weight == 1.0


@pytest.mark.parametrize(
    ("config", "options", "match"),
    [
        (Conv1dConfig, {"input_shape": (28,)}, r"needs samples \(C, T\)"),
        (Conv1dConfig, {"input_shape": (1, 28, 28)}, r"needs samples \(C, T\)"),
        (Conv1dConfig, {"input_shape": (1, 8), "kernel_size": 4}, "odd"),
        (Conv1dConfig, {"input_shape": (1, 8), "upsample": "bilinear"}, "upsampling"),
        (Conv1dConfig, {"input_shape": (1, 8), "recon_loss": "bce"}, "sigmoid"),
        (LSTMConfig, {"input_shape": (1, 8), "num_layers": 0}, "at least 1"),
        (LSTMVAEConfig, {"input_shape": (1, 8), "likelihood": "bernoulli"}, "[0, 1]"),
        (LSTMVAEConfig, {"input_shape": (1, 8), "beta": -1}, "beta"),
    ],
)
def test_bad_configs(config, options, match):
    with pytest.raises(AekitError, match=match):
        config(**options)


def test_window_errors_find_an_injected_anomaly(tmp_path):
    """Series -> windows -> conv1d -> per-window errors -> per-step scores."""
    from aekit.data import load_dataset

    t = np.arange(400)
    a, b = np.sin(t / 5.0), np.cos(t / 7.0)
    a[250:254] += 4.0
    label = ((t >= 250) & (t < 254)).astype(int)
    path = tmp_path / "spike.csv"
    rows = np.c_[t, a, b, label]
    fmt = ["%d", "%.6f", "%.6f", "%d"]
    np.savetxt(path, rows, delimiter=",", header="time,a,b,label", comments="", fmt=fmt)
    ds = load_dataset(path, window=32, stride=4)
    torch.manual_seed(0)
    model = build("conv1d", ds.sample_shape, latent_dim=4)
    normal = ds.x[ds.y == 0]
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(150):
        batch = normal[torch.randint(len(normal), (32,))]
        opt.zero_grad()
        model.loss(batch, batch)["loss"].backward()
        opt.step()
    with torch.no_grad():
        per_step = ((model.eval()(ds.x) - ds.x) ** 2).mean(dim=1)  # (N, W)
    for errors in (per_step.mean(dim=1), per_step):
        scores = ds.series.step_scores(errors)[0]
        assert 240 <= int(np.argmax(scores)) < 264
        assert scores[label == 1].mean() > 3 * np.median(scores)
