"""Attacks on the commands added with sequences, music, clustering and the generative
families (issue 25.13): each hole found has its test here."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from aekit.interfaces.cli import main

fcntl = pytest.importorskip("fcntl")


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def cli(*args):
    return main([*map(str, args), "--threads", "1"])


def series(path):
    t = np.arange(200)
    rows = [f"{i},{np.sin(i / 5):.4f},{np.cos(i / 7):.4f}" for i in t]
    path.write_text("time,a,b\n" + "\n".join(rows) + "\n")
    return path


TRAIN = ("--model", "conv1d", "--window", 20, "--epochs", 1, "--latent-dim", 3)
QUIET = ("--quiet", "--no-report", "--no-pictures")


def test_a_second_train_into_a_run_being_written_is_refused(tmp_path, capsys):
    """Two `aekit train --out RUN` at once both wrote RUN (exit 0 twice, one run's
    files over the other's); the one that comes second is refused now."""
    data, out = series(tmp_path / "s.csv"), tmp_path / "run"
    out.mkdir()
    fd = os.open(out, os.O_RDONLY)  # another process's claim on the folder
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert cli("train", "--data", data, *TRAIN, "--out", out, *QUIET) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "another aekit process" in err, err
        assert list(out.iterdir()) == []  # nothing written beside the other run
    finally:
        os.close(fd)
    assert cli("train", "--data", data, *TRAIN, "--out", out, *QUIET) == 0
    # the lock goes with the training: the same process may train there again
    assert cli("train", "--data", data, *TRAIN, "--out", out, "--force", *QUIET) == 0


def test_codes_csv_with_no_rows_is_one_line(tmp_path, capsys):
    """An empty codes CSV leaked numpy's UserWarning (two more stderr lines)."""
    data, run = series(tmp_path / "s.csv"), tmp_path / "run"
    assert cli("train", "--data", data, *TRAIN, "--out", run, *QUIET) == 0
    capsys.readouterr()
    for text in ("", "z0,z1,z2\n"):
        codes = tmp_path / "codes.csv"
        codes.write_text(text)
        assert cli("decode", run, codes, "--out", tmp_path / "x.npy") == 2
        err = capsys.readouterr().err.strip()
        assert err.splitlines() == [f"aekit: error: {codes}: no codes (an empty file "
                                    "or a header only)"], err  # fmt: skip
    # a sequence run's samples cannot be a PNG, and the message says sequences
    assert cli("sample", run, "-n", 2, "--out", tmp_path / "s.png") == 2
    assert "data are sequences, not images" in capsys.readouterr().err
