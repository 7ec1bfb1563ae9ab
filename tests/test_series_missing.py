"""Non-finite values in a series: refused with their place (train and detect), or,
with --missing interpolate|drop, filled and recorded in the run (issue 25.12)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from aekit.data import load_dataset
from aekit.interfaces.cli import main


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def cli(*args):
    return main([*map(str, args), "--threads", "1"])


def write(path, values, gaps=()):
    """A time column and two channels; `gaps` are (row, column, text) cells."""
    cells = [[f"{v:.5f}", f"{-v:.5f}"] for v in values]
    for i, j, text in gaps:
        cells[i][j] = text
    lines = [f"{i},{a},{b}" for i, (a, b) in enumerate(cells)]
    path.write_text("time,a,b\n" + "\n".join(lines) + "\n")
    return path


def wave(n=240):
    return np.sin(2 * np.pi * np.arange(n) / 24)


def one_line(capsys, *needles):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


TRAIN = ("--model", "conv1d", "--window", 24, "--stride", 4, "--epochs", 1)
QUIET = ("--quiet", "--no-report", "--no-pictures")


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", ""])
def test_train_refuses_a_gap_naming_row_and_column(tmp_path, capsys, text):
    data = write(tmp_path / "gap.csv", wave(), [(30, 1, text)])
    out = tmp_path / "run"
    assert cli("train", "--data", data, *TRAIN, "--out", out, *QUIET) == 2
    one_line(capsys, "gap.csv", "line 32", "'b'")
    assert not out.exists()


def test_detect_refuses_a_gap_in_new_series(tmp_path, capsys):
    run = tmp_path / "run"
    clean = write(tmp_path / "clean.csv", wave())
    assert cli("train", "--data", clean, *TRAIN, "--out", run, *QUIET) == 0
    gap = write(tmp_path / "gap.csv", wave(), [(7, 0, "nan")])
    out = tmp_path / "scores.csv"
    assert cli("detect", run, gap, "--out", out) == 2
    one_line(capsys, "gap.csv", "line 9", "'a'")
    assert not out.exists()


def test_interpolate_fills_linearly_and_the_run_records_it(tmp_path, capsys):
    values = wave()
    data = write(tmp_path / "gap.csv", values, [(30, 1, "nan"), (31, 1, "")])
    ds = load_dataset(data, window=24, stride=4, missing="interpolate")
    filled = np.asarray(ds.scaling.to_source(ds.x))  # (N, C, W), source units
    # step 30 is in window 7 (starts 28) at offset 2: a third of the way from 29 to 32
    expect = -(values[29] + (values[32] - values[29]) / 3)
    assert filled[7, 1, 2] == pytest.approx(expect, abs=1e-4)
    assert any("2 missing" in n and "interpolation" in n for n in ds.series.chosen)
    run = tmp_path / "run"
    code = cli(
        "train", "--data", data, *TRAIN, "--missing", "interpolate", "--out", run,
        *QUIET,
    )  # fmt: skip
    assert code == 0
    config = json.loads((run / "config.json").read_text())
    assert "interpolate" in json.dumps(config) and "2 missing" in json.dumps(config)
    out = tmp_path / "scores.csv"
    assert cli("detect", run, data, "--out", out) == 0  # the run's policy applies
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(values)
    assert all(np.isfinite(float(r["score"])) for r in rows)


def test_drop_removes_the_steps_and_their_time_stamps(tmp_path):
    data = write(tmp_path / "gap.csv", wave(), [(5, 0, "inf"), (9, 1, "nan")])
    ds = load_dataset(data, window=24, stride=4, missing="drop")
    part = ds.series.parts[0]
    assert part.n_steps == 238 and "5" not in part.index and "9" not in part.index
    assert any("2 time steps dropped" in n for n in ds.series.chosen)


def test_missing_refuses_text_and_channels_with_nothing_to_fill(tmp_path):
    from aekit.errors import AekitError

    data = write(tmp_path / "gap.csv", wave(), [(3, 0, "oops")])
    with pytest.raises(AekitError, match="line 5.*'oops' is not a number"):
        load_dataset(data, window=24, missing="interpolate")
    empty = write(tmp_path / "void.csv", wave(30), [(i, 1, "nan") for i in range(30)])
    with pytest.raises(AekitError, match="channel 2 .* no finite value"):
        load_dataset(empty, window=24, missing="interpolate")


def test_missing_fills_npy_series_and_is_refused_for_tables(tmp_path):
    from aekit.errors import AekitError

    x = np.stack([wave(), wave()], 1)
    x[10, 0] = np.nan
    np.save(tmp_path / "s.npy", x)
    with pytest.raises(AekitError, match="row 11"):
        load_dataset(tmp_path / "s.npy", window=24)
    ds = load_dataset(tmp_path / "s.npy", window=24, missing="drop")
    assert ds.series.parts[0].n_steps == 239
    table = tmp_path / "t.csv"
    table.write_text("a,b,c\n" + "1,2,3\n4,5,6\n" * 5)
    with pytest.raises(AekitError, match="--missing drop fills time series"):
        load_dataset(table, missing="drop")
