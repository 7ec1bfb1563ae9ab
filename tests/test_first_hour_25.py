"""What a new user hit in the first hour (issue 25.10): encode --stats writes CSV
too, and a run trained with --no-report stays without one when resumed."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

import aekit
from aekit.interfaces.cli import main


def cli(*args):
    return main([*map(str, args), "--threads", "1"])


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_encode_stats_writes_a_csv_of_mu_and_logvar(tmp_path):
    run = tmp_path / "vae"
    assert cli("train", "--data", "digits", "--model", "vae", "--latent-dim", 3,
               "--epochs", 1, "--out", run, "--quiet", "--no-report",
               "--no-pictures") == 0  # fmt: skip
    out = tmp_path / "stats.csv"
    assert cli("encode", run, "digits", "--stats", "--out", out) == 0
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["mu0", "mu1", "mu2", "logvar0", "logvar1", "logvar2"]
    table = np.array(rows[1:], dtype=np.float64)
    mu, logvar = aekit.interfaces.api.encode_stats(run, "digits")
    assert table.shape == (1797, 6)
    np.testing.assert_allclose(table, np.hstack([mu, logvar]), rtol=1e-5, atol=1e-6)


def test_a_no_report_run_resumed_writes_no_report(tmp_path):
    run = tmp_path / "mlp"
    quiet = ("--quiet", "--no-report", "--no-pictures")
    assert cli("train", "--data", "digits", "--model", "mlp", "--epochs", 1,
               "--out", run, *quiet) == 0  # fmt: skip
    assert cli("train", "--resume", run, "--epochs", 2, "--quiet") == 0
    assert not (run / "report.html").exists()
    assert not list(run.glob("*.png"))
    assert cli("report", run) == 0  # asked for by name, it is written
    assert (run / "report.html").is_file()


def test_edit_pictures_spread_their_examples_over_the_inputs():
    from aekit.interfaces.cli.plot import MAX_EDIT_ROWS, spread_rows

    shown = spread_rows(5000)  # mnist-5k is sorted by label: 32 zeros at the head
    assert len(shown) == MAX_EDIT_ROWS and shown[0] == 0 and shown[-1] == 4999
    assert np.all(np.diff(shown) > 100)  # every label of the sorted set is drawn
    assert list(spread_rows(7)) == list(range(7))
