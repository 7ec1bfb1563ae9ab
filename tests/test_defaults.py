"""Defaults that follow the data (issue 22): the model per kind, series read right,
the step budget, code sizes below the input, the PCA start and the PCA warning."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from aekit.data import load_dataset
from aekit.data.series_shape import (
    default_stride,
    default_window,
    dominant_period,
    time_columns,
)
from aekit.interfaces.cli import main
from aekit.models.choice import choose_model, default_hidden, default_latent
from aekit.training.budget import FLOOR_STEPS, budget
from aekit.training.config import TrainConfig


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def cli(*args):
    return main([*map(str, args), "--threads", "1"])


def train(data, out, *options, pictures=False, report=False):
    """`aekit train --data DATA --out OUT OPTIONS`, quiet about outputs unless asked."""
    quiet = [
        *([] if pictures else ["--no-pictures"]),
        *([] if report else ["--no-report"]),
    ]
    return cli("train", "--data", data, "--out", out, *options, *quiet)


def table_csv(path, n=120, d=12, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3))
    x = np.tanh(z @ rng.normal(size=(3, d))) + 0.05 * rng.normal(size=(n, d))
    header = ",".join(f"f{i}" for i in range(d))
    np.savetxt(path, x, delimiter=",", header=header, comments="", fmt="%.6f")
    return path


def series_csv(path, n=600, period=25, time="year", labels=False):
    t = np.arange(n)
    v = np.sin(2 * np.pi * t / period) + 0.05 * np.random.default_rng(0).normal(size=n)
    head = [time, "value"] + (["is_anomaly"] if labels else [])
    rows = [
        [f"{1900 + i / 12:.4f}", f"{v[i]:.6f}"] + (["0"] if labels else [])
        for i in range(n)
    ]
    path.write_text("\n".join(",".join(r) for r in [head, *rows]) + "\n")
    return path


# -- the model follows the data ------------------------------------------------------
def test_the_model_follows_the_kind_of_data(tmp_path):
    table = load_dataset(table_csv(tmp_path / "t.csv"))
    series = load_dataset(series_csv(tmp_path / "s.csv"))
    images = load_dataset("digits")
    assert choose_model(table)[0] == "mlp"
    assert choose_model(series)[0] == "conv1d"
    assert choose_model(images)[0] == "conv"


def test_train_without_a_model_records_the_choice_and_why(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(series_csv(tmp_path / "s.csv"), out, "--epochs", "1") == 0
    said = capsys.readouterr().out
    chosen = json.loads((out / "config.json").read_text())["data"]["chosen"]
    assert chosen["model"]["name"] == "conv1d" and "series" in chosen["model"]["reason"]
    assert "chosen for the data" in said and "'year' read as time" in said
    assert json.loads((out / "config.json").read_text())["model"]["name"] == "conv1d"


# -- series read right ---------------------------------------------------------------
def test_time_columns_by_name_by_type_and_by_steady_rise():
    data = [
        [f"2024-01-0{i + 1}", str(10 + 5 * i), f"{i * 0.37 % 1:.3f}", str(1990 + i)]
        for i in range(6)
    ]
    assert time_columns(["when", "t0", "x", "year"], data) == [0, 1, 3]
    # a name alone is not enough when the values go back: a feature called year
    back = [[str(2000 - i % 3), "1.5"] for i in range(6)]
    assert time_columns(["year", "x"], back) == []


def test_a_series_csv_keeps_its_time_column_out_of_the_channels(tmp_path):
    data = load_dataset(series_csv(tmp_path / "s.csv", labels=True))
    assert data.kind == "sequence" and data.x.shape[1] == 1  # one channel: value
    assert any("'year' read as time" in n for n in data.series.chosen)


def test_columns_name_the_channels(tmp_path):
    path = tmp_path / "two.csv"
    t = np.arange(300)
    rows = ["time,a,b"] + [f"{i},{np.sin(i / 5):.5f},{np.cos(i / 7):.5f}" for i in t]
    path.write_text("\n".join(rows) + "\n")
    assert load_dataset(path).x.shape[1] == 2
    assert load_dataset(path, columns=("b",)).x.shape[1] == 1
    assert (
        cli("train", "--data", path, "--columns", "nope", "--out", tmp_path / "r") == 2
    )
    assert not (tmp_path / "r").exists()


def test_the_window_is_the_dominant_period_and_the_stride_one_step(tmp_path):
    t = np.arange(3000)
    assert dominant_period(np.sin(2 * np.pi * t / 37)) == 37
    noise = np.random.default_rng(0).normal(size=3000)
    assert dominant_period(noise) is None or dominant_period(noise) >= 3
    data = load_dataset(series_csv(tmp_path / "s.csv", n=900, period=30))
    assert data.series.window == 30 and data.series.stride == 1
    # a short series gets a window that leaves it enough windows
    window, _ = default_window([np.sin(2 * np.pi * np.arange(150) / 125)[:, None]])
    assert 150 - window + 1 >= 32
    assert default_stride([10_000_000], 100) > 1  # long series stay within budget


def test_a_run_records_the_window_it_chose_and_detect_uses_it(tmp_path):
    src = series_csv(tmp_path / "s.csv", n=500, labels=True)
    out = tmp_path / "run"
    assert train(src, out, "--epochs", "1") == 0
    options = json.loads((out / "config.json").read_text())["data"]["options"]
    assert options["window"] == 25 and options["stride"] == 1
    assert cli("detect", out, src, "--out", tmp_path / "d.csv") == 0


def test_a_nan_in_a_series_csv_is_refused_with_its_place(tmp_path, capsys):
    path = series_csv(tmp_path / "s.csv", n=300)
    lines = path.read_text().splitlines()
    lines[100] = lines[100].split(",")[0] + ",nan"
    path.write_text("\n".join(lines) + "\n")
    assert cli("train", "--data", path, "--out", tmp_path / "r") == 2
    err = capsys.readouterr().err
    assert "line 101" in err and "NaN" in err
    assert not (tmp_path / "r").exists()


# -- sizes and budget ----------------------------------------------------------------
@pytest.mark.parametrize("d", [1, 2, 4, 10, 30, 64, 784])
def test_the_default_code_is_narrower_than_the_input(d):
    latent = default_latent(d)
    assert 1 <= latent <= 16 and (latent < d or d == 1)
    hidden = default_hidden(d, latent)
    assert all(a > b for a, b in zip(hidden, hidden[1:], strict=False))
    assert hidden[-1] >= 4 * latent or len(hidden) == 1


def test_small_data_get_the_step_floor_large_data_the_ceiling():
    small = budget(TrainConfig(), n_train=100)
    assert small.epochs * 2 >= FLOOR_STEPS  # 2 steps an epoch
    assert small.min_steps == FLOOR_STEPS
    large = budget(TrainConfig(), n_train=1_000_000)
    assert large.epochs * (1_000_000 // 64) <= 20_000 + 1_000_000 // 64
    given = budget(TrainConfig(epochs=3, patience=2), n_train=100)
    assert (given.epochs, given.patience) == (3, 2)


def test_early_stopping_waits_for_the_step_floor(tmp_path):
    from aekit.data import Dataset
    from aekit.models import build_model
    from aekit.training.loop import fit

    x = torch.rand(24, 6)
    net = build_model("mlp", (6,), latent_dim=2, hidden=(8,))
    config = TrainConfig(epochs=80, patience=1, min_steps=40, batch_size=64, lr=1e-9)
    history = fit(net, Dataset(x[:16]), Dataset(x[16:]), config)
    assert len(history.rows) >= 40  # one step an epoch, no gain: stops at the floor
    assert history.stop_reason == "early-stopped"


def test_a_time_limit_stops_between_epochs(tmp_path):
    from aekit.data import Dataset
    from aekit.models import build_model
    from aekit.training.loop import fit

    x = torch.rand(64, 6)
    net = build_model("mlp", (6,), latent_dim=2, hidden=(8,))
    history = fit(
        net,
        Dataset(x[:48]),
        Dataset(x[48:]),
        TrainConfig(epochs=10_000, time_limit=0.5),
    )
    assert history.stop_reason == "time-limit" and 1 <= len(history.rows) < 10_000


# -- never silently worse than PCA ---------------------------------------------------
def test_the_pca_start_is_pca_and_training_keeps_it_or_improves(tmp_path):
    from aekit.analysis.metrics import mse, pca_reconstruction_mse
    from aekit.models import build_model

    x = torch.from_numpy(
        np.loadtxt(table_csv(tmp_path / "t.csv"), delimiter=",", skiprows=1)
    ).float()
    x = (x - x.mean(0)) / x.std(0)
    net = build_model("mlp", (12,), latent_dim=3, start="pca", output="identity")
    net.init_from_data(x[:90])
    with torch.no_grad():
        mine = mse(x[90:], net(x[90:]))
    assert mine == pytest.approx(pca_reconstruction_mse(x[:90], x[90:], 3), rel=1e-4)


def test_a_run_worse_than_pca_says_so(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        train(
            table_csv(tmp_path / "t.csv"),
            out,
            "--start",
            "random",
            "--epochs",
            "1",
            report=True,
        )
        == 0
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["mse_ratio_to_pca"] > 1
    assert "worse than PCA" in metrics["warnings"][0]
    assert "warning: worse than PCA" in capsys.readouterr().out
    assert "worse than PCA" in (out / "report.html").read_text()


def test_the_default_table_model_is_not_worse_than_pca(tmp_path):
    out = tmp_path / "run"
    assert train(table_csv(tmp_path / "t.csv"), out, "--epochs", "3") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["mse_ratio_to_pca"] <= 1.0 + 1e-6
    record = json.loads((out / "config.json").read_text())
    assert record["model"]["config"]["start"] == "pca"
    assert record["model"]["config"]["latent_dim"] == 3  # 12 features // 4


def test_the_linear_autoencoder_is_linear_and_lands_on_pca(tmp_path):
    """--activation linear --hidden '' on [0, 1] images: identity output and MSE,
    so that it spans PCA's subspace: within 1 % of PCA's error on held-out data."""
    from aekit.analysis.metrics import mse, pca_reconstruction_mse
    from aekit.run import load_run, run_splits

    out = tmp_path / "run"
    assert (
        train(
            "digits",
            out,
            "--model",
            "mlp",
            "--activation",
            "linear",
            "--hidden",
            "",
            "--latent-dim",
            "8",
        )
        == 0
    )
    run = load_run(out)
    assert run.model.config.output == "identity" and run.model.config.hidden == ()
    fitted, val = run_splits(run)
    with torch.no_grad():
        ratio = mse(val.x, run.model(val.x)) / pca_reconstruction_mse(
            fitted.x, val.x, 8
        )
    assert 0.99 <= ratio <= 1.01


def test_vae_families_default_to_a_constant_rate_the_rest_to_cosine_floor(tmp_path):
    from aekit.interfaces import api

    x = np.random.default_rng(0).random((60, 16)).astype(np.float32)
    schedules = {}
    for model in ("vae", "mlp"):
        run = api.train(
            x, model, out=tmp_path / model, epochs=1, pictures=False, report=False
        )
        schedules[model] = run.train_config.schedule
        recorded = json.loads((run.path / "config.json").read_text())
        assert recorded["training"]["schedule"] == schedules[model]
    assert schedules == {"vae": "constant", "mlp": "cosine-floor"}
    given = api.train(
        x,
        "vae",
        out=tmp_path / "given",
        epochs=1,
        schedule="cosine",
        pictures=False,
        report=False,
    )
    assert given.train_config.schedule == "cosine"
