"""Distributed training: ranks split every batch so that their weighted gradients add
up to one process's, and `aekit train --nproc 2` trains what one process trains."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from aekit.data import Dataset, Scaling
from aekit.data.io import read_json
from aekit.run import load_run
from aekit.training.batching import Batches
from aekit.training.distributed import Ranks


@given(n=st.integers(0, 50), size=st.integers(1, 6))
def test_shares_partition_the_rows_in_order(n, size):
    parts = [list(range(n))[Ranks(r, size).share(n)] for r in range(size)]
    assert sum(parts, []) == list(range(n))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


@pytest.mark.parametrize(("n", "batch", "size"), [(21, 8, 2), (10, 4, 3), (5, 1, 2)])
def test_rank_weights_make_the_average_gradient_the_global_one(n, batch, size):
    x = torch.arange(float(n)).reshape(n, 1)
    data = Dataset(x, scaling=Scaling(layout="d"))
    cpu = torch.device("cpu")
    whole = list(Batches(data, batch, Ranks(), cpu).epoch(seed=4))
    parts = [
        list(Batches(data, batch, Ranks(r, size), cpu).epoch(seed=4))
        for r in range(size)
    ]
    assert all(len(p) == len(whole) for p in parts)  # every rank steps in time
    for step, (x_all, _, _, weight) in enumerate(whole):
        assert weight == 1.0
        shares = [p[step] for p in parts]
        real = torch.cat([xb for xb, _, _, w in shares if w > 0])
        assert torch.equal(real, x_all)  # the ranks' rows are the global batch
        # DDP averages gradients over ranks: sum(weight * mean) / size == mean
        mean = sum(w * xb.mean() for xb, _, _, w in shares) / size
        torch.testing.assert_close(mean, x_all.mean())


def aekit_cli(*args, cwd):
    command = [sys.executable, "-m", "aekit", *map(str, args)]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_two_processes_train_the_weights_one_process_trains(tmp_path):
    g = np.random.default_rng(0)
    x = 1 / (1 + np.exp(-g.normal(size=(150, 2)) @ g.normal(size=(2, 12))))
    np.save(tmp_path / "x.npy", x.astype(np.float32))
    common = [
        "--data",
        "x.npy",
        "--model",
        "mlp",
        "--hidden",
        "16",
        "--latent-dim",
        "2",
    ]
    common += ["--epochs", "3", "--batch-size", "16", "--precision", "fp32", "--quiet"]
    common += ["--no-pictures", "--no-report"]
    one = aekit_cli("train", *common, "--out", "one", cwd=tmp_path)
    loud = [a for a in common if a != "--quiet"]  # rank 0 prints the summary
    two = aekit_cli("train", *loud, "--out", "two", "--nproc", "2", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    # how many processes trained: said, and recorded in the run (issue 25.8)
    assert "in 2 processes (world size 2)" in two.stdout
    for name, size in (("one", 1), ("two", 2)):
        assert (
            read_json(tmp_path / name / "config.json")["runtime"]["world_size"] == size
        )
    models = []
    for name in ("one", "two"):
        models.append(load_run(tmp_path / name).model)  # as recorded (PCA start)
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    history = (tmp_path / "two" / "history.csv").read_text().splitlines()
    assert len(history) == 1 + 3  # one writer: no epoch logged twice
    metrics = [
        read_json(tmp_path / n / "metrics.json")["val_mse"] for n in ("one", "two")
    ]
    assert metrics[1] == pytest.approx(metrics[0], rel=1e-4)


@pytest.mark.slow
def test_a_failing_rank_ends_the_launch_with_its_status_and_one_message(tmp_path):
    done = aekit_cli("train", "--data", "missing.npy", "--nproc", "2", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("aekit: error: no such file") == 1
