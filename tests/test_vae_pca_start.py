"""The sequence VAE's start at probabilistic PCA (aekit.models.vae_pca_start)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from aekit.errors import AekitError
from aekit.interfaces.cli import main
from aekit.models.pca_start import principal_directions
from aekit.models.sequence.config import LSTMVAEConfig
from aekit.models.sequence.model import LSTMVAE


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def windows(n=96, c=2, t=16, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    phase = torch.rand(n, c, 1, generator=g) * 6.28
    freq = 0.2 + 0.3 * torch.rand(n, c, 1, generator=g)
    noise = 0.05 * torch.randn(n, c, t, generator=g)
    return torch.sin(freq * torch.arange(t) + phase) + noise  # (N, C, T)


def pca_model(x: torch.Tensor, latent: int = 4) -> LSTMVAE:
    config = LSTMVAEConfig(
        input_shape=tuple(x.shape[1:]), latent_dim=latent, hidden_size=16, start="pca"
    )
    model = LSTMVAE(config)
    model.init_from_data(x)
    return model.eval()


def test_the_untrained_vae_rebuilds_as_pca_does():
    x = windows()
    model = pca_model(x)
    mean, basis = principal_directions(x.flatten(1), 4)
    centred = x.flatten(1) - mean
    pca = (centred @ basis.T @ basis + mean).view_as(x)
    with torch.no_grad():
        rebuilt = model(x)
    assert torch.allclose(rebuilt, pca, atol=1e-4)
    assert model.starts_at_solution


def test_the_start_codes_match_the_prior_and_the_posterior_is_ppcas():
    x = windows()
    model = pca_model(x)
    with torch.no_grad():
        mu, logvar = model.encode_distribution(x)
    # whitened: each code unit has unit variance over the training windows
    assert torch.allclose(mu.pow(2).mean(0), torch.ones(4), atol=1e-3)
    # pPCA's posterior variance sigma^2 / lambda: below 1 where PCA explains much
    assert bool((logvar < 0).all()) and torch.allclose(logvar, logvar[0:1])
    # the decoder's noise starts at what PCA leaves out
    left = float(model.pca.noise)
    assert float(model._log_sigma().exp()) == pytest.approx(left**0.5, rel=1e-4)
    loss = model.train().loss(x, x)
    assert torch.isfinite(loss["loss"]) and float(loss["kl"]) > 0


def test_a_pca_start_needs_the_gaussian_decoder():
    with pytest.raises(AekitError, match="gaussian"):
        LSTMVAEConfig(input_shape=(1, 8), likelihood="bernoulli", start="pca")


def test_lstm_vae_on_series_windows_starts_at_pca_and_is_no_worse(tmp_path):
    """At the defaults a randomly started lstm-vae measured 75x-2,000x PCA's
    validation MSE on the series panel; from the pPCA start it is kept at most at
    PCA's error (a VAE selects on the ELBO, so within a small margin)."""
    rng = np.random.default_rng(0)
    t = np.arange(500)
    values = np.sin(2 * np.pi * t / 25) + 0.05 * rng.standard_normal(len(t))
    path = tmp_path / "series.csv"
    path.write_text("value\n" + "\n".join(f"{v:.6f}" for v in values) + "\n")
    run = tmp_path / "run"
    code = main(
        ["train", "--data", str(path), "--window", "32", "--model", "lstm-vae",
         "--hidden-size", "16", "--epochs", "2", "--out", str(run), "--quiet",
         "--no-report", "--no-pictures", "--threads", "1"]
    )  # fmt: skip
    assert code == 0
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["config"]["start"] == "pca"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["mse_ratio_to_pca"] <= 1.05
