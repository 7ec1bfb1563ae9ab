"""Series end to end through the CLI: train on windows, detect per step, evaluate the
ranking of labelled steps; and the bad inputs of issue 15, one line and exit 2."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from aekit.interfaces.cli import main

WINDOW, STRIDE = 32, 4
ANOMALY = slice(600, 630)  # steps of the test series that are anomalous


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def sine(n, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.sin(2 * np.pi * t / 40) + 0.05 * rng.standard_normal(n)


def write_series(path, values, labels=None):
    with open(path, "w") as f:
        f.write("time,value" + (",is_anomaly" if labels is not None else "") + "\n")
        for i, v in enumerate(values):
            tail = f",{labels[i]}" if labels is not None else ""
            f.write(f"{i},{v:.6f}{tail}\n")
    return path


def cli(*args):
    return main([*map(str, args), "--threads", "1"])


@pytest.fixture(scope="module")
def series_run(tmp_path_factory):
    """conv1d trained 3 epochs on a clean sine; a test series with a burst of
    three times the amplitude at ANOMALY, labelled per step."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("series")
    train = write_series(root / "train.csv", sine(600, 0))
    values, labels = sine(800, 1), np.zeros(800, dtype=int)
    values[ANOMALY] *= 3.0
    labels[ANOMALY] = 1
    test = write_series(root / "test.csv", values, labels)
    run = root / "run"
    code = cli(
        "train", "--data", train, "--window", WINDOW, "--stride", STRIDE,
        "--model", "conv1d", "--channels", "8,16", "--latent-dim", "8",
        "--epochs", 3, "--batch-size", 16, "--out", run, "--quiet", "--no-report",
    )  # fmt: skip
    assert code == 0
    return root, run, test


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_run_records_windows_and_draws_sequence_pictures(series_run):
    _, run, _ = series_run
    record = json.loads((run / "config.json").read_text())
    assert record["data"]["kind"] == "sequence"
    assert record["data"]["options"] == {"window": WINDOW, "stride": STRIDE}
    assert record["data"]["sample_shape"] == [1, WINDOW]
    for picture in ("history", "reconstructions", "latent"):
        assert (run / f"{picture}.png").stat().st_size > 0
    assert not (run / "samples.png").exists()  # a plain AE: samples are for VAEs
    # split in time: 143 windows, the last 14 validate, 7 overlapping them are left
    assert (record["data"]["n_train"], record["data"]["n_val"]) == (122, 14)


def test_detect_scores_every_step_and_the_anomaly_highest(series_run, capsys):
    root, run, test = series_run
    out = root / "scores.csv"
    assert cli("detect", run, test, "--out", out) == 0
    rows = read_rows(out)
    assert len(rows) == 800
    assert list(rows[0]) == ["series", "step", "time", "label", "score", "anomaly"]
    assert [r["step"] for r in rows[:3]] == ["1", "2", "3"]
    scores = np.array([float(r["score"]) for r in rows])
    top = np.argsort(scores)[-20:]
    assert all(ANOMALY.start - WINDOW <= i < ANOMALY.stop + WINDOW for i in top)
    flagged = np.array([int(r["anomaly"]) for r in rows])
    assert flagged[ANOMALY].all()  # the burst is flagged
    assert (root / "scores.png").stat().st_size > 0
    said = capsys.readouterr().out
    assert "of 800 time step(s)" in said and "scores.png" in said


def test_detect_honours_the_threshold(series_run, capsys):
    root, run, test = series_run
    out = root / "max.csv"
    assert cli("detect", run, test, "--out", out, "--threshold", "max") == 0
    limit = float(capsys.readouterr().out.split()[1])
    rows = read_rows(out)
    for r in rows:
        assert int(r["anomaly"]) == (float(r["score"]) > limit)
    flagged = sum(int(r["anomaly"]) for r in rows)
    assert 0 < flagged < 200


def test_evaluate_ranks_the_labelled_steps(series_run, capsys):
    root, run, test = series_run
    out = root / "evaluation.json"
    assert cli("evaluate", run, "--data", test, "--out", out, "--no-probes") == 0
    steps = json.loads(out.read_text())["anomaly_steps"]
    assert steps["n_steps"] == 800 and steps["n_anomalous_steps"] == 30
    assert steps["auroc"] > 0.9
    assert steps["auprc"] > steps["auprc_chance"]
    assert (steps["ucr_series"], steps["ucr_top1_hits"]) == (1, 1)
    said = capsys.readouterr().out
    assert "anomalous steps (30 of 800)" in said and "UCR top-1: 1 of 1" in said


def _one_error_line(capsys, *needles):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
    return err


def test_window_longer_than_the_series(tmp_path, capsys):
    data = write_series(tmp_path / "short.csv", sine(20, 0))
    code = cli("train", "--data", data, "--window", 50, "--model", "conv1d")
    assert code == 2
    _one_error_line(capsys, "window (50 steps) is longer than the series (20 steps)")
    assert not (tmp_path / "runs").exists()


def test_nan_in_a_series_names_the_row(tmp_path, capsys):
    data = tmp_path / "gap.csv"
    data.write_text("time,value\n0,1.0\n1,nan\n2,0.5\n" + "3,0.1\n" * 10)
    assert cli("train", "--data", data, "--window", 4, "--model", "conv1d") == 2
    _one_error_line(capsys, "gap.csv", "line 3")


def test_series_run_refuses_images_and_image_models_refuse_series(
    series_run, tmp_path, capsys
):
    from PIL import Image

    _, run, test = series_run
    png = tmp_path / "a.png"
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(png)
    assert cli("reconstruct", run, png, "--out", tmp_path / "r.npy") == 2
    _one_error_line(capsys, "a.png holds images", "trained on sequences")
    assert cli("detect", run, tmp_path, "--out", tmp_path / "s.csv") == 2
    _one_error_line(capsys, "holds images")
    assert cli("sample", run, "--out", tmp_path / "s.mid") == 2
    _one_error_line(capsys, "not trained on music")
    code = cli("train", "--data", test, "--window", 16, "--model", "conv")
    assert code == 2
    _one_error_line(capsys, "model 'conv' takes image data", "holds sequences")
    assert cli("train", "--data", tmp_path, "--model", "conv1d") == 2
    _one_error_line(capsys, "model 'conv1d' takes sequence data", "holds images")


def test_image_run_refuses_series(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        pixels = rng.integers(0, 255, (8, 8), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i}.png")
    run = tmp_path / "run"
    code = cli(
        "train", "--data", folder, "--model", "mlp", "--hidden", "8",
        "--latent-dim", "2", "--epochs", 1, "--out", run, "--quiet",
        "--no-pictures", "--no-report",
    )  # fmt: skip
    assert code == 0
    ts = tmp_path / "toy.ts"
    ts.write_text(
        "@problemName Toy\n@timeStamps false\n@univariate true\n"
        "@classLabel true a b\n@data\n1,2,3,4:a\n4,3,2,1:b\n"
    )
    assert cli("reconstruct", run, ts, "--out", tmp_path / "r.npy") == 2
    _one_error_line(capsys, "holds sequences", "trained on images")
    out = tmp_path / "s.csv"
    assert cli("detect", run, folder, "--out", out, "--score", "encdec") == 2
    _one_error_line(capsys, "--score and --json are for runs trained on series")
    assert not out.exists()


@pytest.mark.parametrize("score", ["mse", "encdec", "spe-t2", None])
def test_detect_json_carries_the_series_scores(series_run, capsys, score):
    root, run, test = series_run
    out = root / f"{score}.csv"
    chosen = () if score is None else ("--score", score)
    assert cli("detect", run, test, "--out", out, *chosen, "--json") == 0
    said = json.loads(capsys.readouterr().out)
    ranking = said["ranking"]
    assert said["score"] == (score or "spe-t2")  # the default: error + code T^2
    assert ranking["n_anomalous_steps"] == 30
    assert (ranking["ucr_series"], ranking["ucr_top1_hits"]) == (1, 1)
    for key in ("vus_pr", "range_auc_pr", "pa_f1"):
        assert 0.3 < ranking[key] <= 1.0, (key, ranking)
    rows = read_rows(out)
    flagged = np.array([int(r["anomaly"]) for r in rows], bool)
    assert flagged[ANOMALY].mean() > 0.5


def test_report_draws_the_series_with_its_anomaly(series_run):
    from aekit.analysis.plots.pictures import plot

    root, run, test = series_run
    fig = plot(run, "series", data=str(test))
    assert len(fig.axes) >= 2  # the series and its scores
    assert cli("report", run, "--data", test, "--out", root / "r.html") == 0
    assert 'id="series"' in (root / "r.html").read_text()
