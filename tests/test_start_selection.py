"""The start rule (issue 22): a PCA start is kept unless training beats it clearly
on the validation units (aekit.training.selection)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from aekit.data import Dataset
from aekit.data.series import SeriesInfo, SeriesPart
from aekit.interfaces.cli import main
from aekit.models import build_model
from aekit.training import selection
from aekit.training.checkpoint import load_weights
from aekit.training.config import TrainConfig
from aekit.training.loop import START, WEIGHTS, fit


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


# -- the rule --------------------------------------------------------------------------
def test_a_gain_within_noise_keeps_the_start():
    # 2 % better on average, but units scatter both ways: no clear gain
    d = torch.from_numpy(np.random.default_rng(0).normal(-0.02, 0.2, size=12))
    decision = selection.decide(1.0, 0.98, 40, d)
    assert decision.kept == "start"
    assert abs(decision.t) < selection.KEEP_START_Z and decision.units == 12


def test_a_clear_gain_takes_the_trained_weights():
    # 3 % better on every unit alike: small, but no accident
    d = torch.from_numpy(np.random.default_rng(0).normal(-0.03, 0.005, size=12))
    assert selection.decide(1.0, 0.97, 40, d).kept == "trained"
    # 12 % lower loss counts whatever the scatter
    noisy = torch.from_numpy(np.random.default_rng(1).normal(0.0, 1.0, size=4))
    assert selection.decide(1.0, 0.88, 40, noisy).kept == "trained"


def test_one_unit_is_no_evidence():
    assert selection.decide(1.0, 0.95, 3, torch.tensor([-0.05])).kept == "start"


# -- units -----------------------------------------------------------------------------
def test_windows_of_a_series_validate_in_spans_not_one_by_one():
    window, stride = 8, 1
    info = SeriesInfo(window, stride, (SeriesPart("a", 120, 0, 113),))
    x = torch.randn(113, 1, window)
    train, val = Dataset(x, series=info).split(0.2)
    units = val.units.numpy()
    assert len(val) == 23 and len(np.unique(units)) == 3  # ceil(23 / 8) spans
    assert (np.diff(units) >= 0).all()  # consecutive windows, consecutive units
    starts = np.arange(113)[-23:]
    for u in np.unique(units):  # a span's windows start within one window
        assert np.ptp(starts[units == u]) < window
    net = build_model("conv1d", (1, window), latent_dim=2, start="pca")
    errors = selection.unit_errors(
        net, val, TrainConfig(), None, None, selection.Ranks()
    )
    assert errors.shape == (3,)  # one error per span
    assert Dataset(torch.randn(10, 4)).split(0.3)[1].units is None  # samples


# -- in the loop -----------------------------------------------------------------------
def _pca_net(x: torch.Tensor, fit_on: torch.Tensor | None = None):
    torch.manual_seed(0)
    net = build_model(
        "mlp", (x.shape[1],), latent_dim=2, hidden=(8,), start="pca", output="identity"
    )
    net.init_from_data(x if fit_on is None else fit_on)
    return net


def _noise(seed=1):
    """Unrelated data to fit a poor PCA start on (its own generator: the result
    must not depend on which tests ran before)."""
    return torch.randn(45, 6, generator=torch.Generator().manual_seed(seed))


def _low_rank(n=60, d=6, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    x = z @ rng.normal(size=(2, d)) + 0.3 * rng.normal(size=(n, d))
    return torch.from_numpy(x).float()


def _same_weights(a: torch.nn.Module, path) -> bool:
    other = build_model(
        "mlp", (6,), latent_dim=2, hidden=(8,), start="pca", output="identity"
    )
    load_weights(path, other)
    return all(torch.equal(v, other.state_dict()[k]) for k, v in a.state_dict().items())


def test_a_poor_start_clearly_beaten_gives_way_to_the_trained_weights(tmp_path):
    x = _low_rank()
    # PCA of unrelated noise: a "solution" start that training beats by far
    net = _pca_net(x[:45], fit_on=_noise())
    config = TrainConfig(epochs=15, batch_size=16, lr=1e-2, patience=0)
    history = fit(net, Dataset(x[:45]), Dataset(x[45:]), config, out=tmp_path)
    assert history.selection["kept"] == "trained"
    assert history.best_epoch > 0 and history.selection["gain"] >= 0.10
    assert (tmp_path / START).is_file() and not _same_weights(net, tmp_path / START)


def test_a_start_not_clearly_beaten_is_what_the_run_keeps(tmp_path, monkeypatch):
    monkeypatch.setattr(selection, "MIN_GAIN", 1.0)  # no gain is ever clear
    monkeypatch.setattr(selection, "KEEP_START_Z", float("inf"))
    x = _low_rank()
    net = _pca_net(x[:45], fit_on=_noise())
    config = TrainConfig(epochs=10, batch_size=16, lr=1e-2, patience=0)
    history = fit(net, Dataset(x[:45]), Dataset(x[45:]), config, out=tmp_path)
    s = history.selection
    assert (
        s["kept"] == "start"
        and s["best_epoch"] > 0
        and s["best_loss"] < 1.0 * (s["start_loss"])
    )
    assert history.best_epoch == 0 and history.best_val_loss == s["start_loss"]
    assert _same_weights(net, tmp_path / WEIGHTS)  # the start's weights, kept
    assert _same_weights(net, tmp_path / START)


def test_a_resumed_run_still_compares_with_its_start(tmp_path):
    x = _low_rank()
    config = TrainConfig(epochs=4, batch_size=16, lr=1e-2, patience=0)
    net = _pca_net(x[:45], fit_on=_noise())
    first = fit(net, Dataset(x[:45]), Dataset(x[45:]), config, out=tmp_path)
    longer = TrainConfig(epochs=8, batch_size=16, lr=1e-2, patience=0)
    net = _pca_net(x[:45], fit_on=_noise())
    resumed = fit(
        net, Dataset(x[:45]), Dataset(x[45:]), longer, out=tmp_path, resume=True
    )
    assert len(resumed.rows) == 8
    assert resumed.selection["start_loss"] == first.selection["start_loss"]
    assert resumed.start_val_loss == first.start_val_loss


def test_metrics_json_records_the_selection(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 2)) @ rng.normal(size=(2, 8)) + 0.1 * rng.normal(
        size=(80, 8)
    )
    path = tmp_path / "t.csv"
    header = ",".join(f"f{i}" for i in range(8))
    np.savetxt(path, x, delimiter=",", header=header, comments="", fmt="%.6f")
    out = tmp_path / "run"
    args = ["train", "--data", path, "--out", out, "--epochs", "3", "--no-pictures"]
    assert main([*map(str, args), "--no-report", "--threads", "1"]) == 0
    s = json.loads((out / "metrics.json").read_text())["selection"]
    assert {"start_loss", "best_loss", "t", "kept"} <= set(s)
    assert s["kept"] in ("start", "trained")
    assert "start rule:" in capsys.readouterr().out
