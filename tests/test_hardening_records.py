"""Audit 13, run records: code stats, metrics and history are validated on reading."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from aekit.errors import AekitError
from aekit.run.readers import (
    read_code_stats,
    read_history,
    read_metrics,
    sample_gaussian,
)


def _write(path, obj) -> None:
    path.write_text(json.dumps(obj))


# -- code_stats.json ----------------------------------------------------------------
def test_good_code_stats_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, 3))
    mean, cov = z.mean(0), np.cov(z.T)
    path = tmp_path / "code_stats.json"
    _write(path, {"mean": mean.tolist(), "cov": cov.tolist(), "n": 200})
    got_mean, got_cov = read_code_stats(path, 3)
    np.testing.assert_allclose(got_mean.numpy(), mean)
    np.testing.assert_allclose(got_cov.numpy(), cov)


@pytest.mark.parametrize(
    ("stats", "message"),
    [
        ([1, 2], "expected an object"),
        ({"mean": [0, 0]}, "expected an object"),
        ({"mean": [0, 0, 0], "cov": np.eye(2).tolist()}, "'mean' has shape"),
        ({"mean": [0, 0], "cov": np.eye(3).tolist()}, "'cov' has shape"),
        ({"mean": [0, 0], "cov": [1, 0, 0, 1]}, "'cov' has shape"),
        ({"mean": [0, 0], "cov": [[1, 0], [0]]}, "not an array of numbers"),
        ({"mean": ["a", 0], "cov": np.eye(2).tolist()}, "not an array of numbers"),
        ({"mean": [0, None], "cov": np.eye(2).tolist()}, "not an array of numbers"),
        ({"mean": [0, True], "cov": np.eye(2).tolist()}, "not an array of numbers"),
        ({"mean": [0, 0], "cov": [[1, 0.5], [-0.5, 1]]}, "not symmetric"),
        ({"mean": [0, 0], "cov": [[1, 0], [0, 1e309]]}, "NaN or inf"),
    ],
)
def test_bad_code_stats_are_refused(tmp_path, stats, message):
    path = tmp_path / "code_stats.json"
    path.write_text(json.dumps(stats).replace("Infinity", "1e999"))
    with pytest.raises(AekitError, match=message) as e:
        read_code_stats(path, 2)
    assert str(path) in str(e.value)


def test_nan_in_code_stats_is_refused(tmp_path):
    path = tmp_path / "code_stats.json"
    path.write_text('{"mean": [0, NaN], "cov": [[1, 0], [0, 1]]}')
    with pytest.raises(AekitError, match="NaN or inf"):
        read_code_stats(path, 2)


def test_a_covariance_that_is_not_positive_definite_is_made_usable(tmp_path):
    # symmetric, eigenvalues 3 and -1: Cholesky fails; the PSD part is kept
    cov = [[1.0, 2.0], [2.0, 1.0]]
    path = tmp_path / "code_stats.json"
    _write(path, {"mean": [0.0, 0.0], "cov": cov})
    with pytest.raises(torch.linalg.LinAlgError):
        torch.linalg.cholesky(torch.tensor(cov))
    _, fixed = read_code_stats(path, 2)
    assert torch.linalg.eigvalsh(fixed).min() >= -1e-12
    np.testing.assert_allclose(fixed.numpy(), [[1.5, 1.5], [1.5, 1.5]], atol=1e-12)
    z = sample_gaussian(torch.zeros(2), fixed, 1000, torch.Generator().manual_seed(0))
    assert torch.isfinite(z).all()


# -- sample_gaussian -------------------------------------------------------------------
def _rotation(d: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def test_sampling_with_eigenvalues_spanning_eleven_orders_of_magnitude():
    d = 6
    eigenvalues = np.array([1e8, 1e5, 1e2, 1.0, 1e-2, 1e-3])
    q = _rotation(d, 1)
    cov = torch.from_numpy((q * eigenvalues) @ q.T)
    with pytest.raises(torch.linalg.LinAlgError):  # what the old sampler used
        torch.linalg.cholesky(cov.float())
    mean = torch.arange(d, dtype=torch.float64)
    z = sample_gaussian(mean, cov, 200_000, torch.Generator().manual_seed(0))
    assert z.dtype == torch.float32 and z.shape == (200_000, d)
    assert torch.isfinite(z).all()
    # variance along each eigenvector matches its eigenvalue
    projected = (z.double() - mean) @ torch.from_numpy(q)
    np.testing.assert_allclose(projected.var(0).numpy(), eigenvalues, rtol=0.05)


def test_sampling_from_a_singular_covariance_stays_in_its_support():
    # the third code never varies: exactly singular
    cov = torch.tensor([[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    mean = torch.tensor([1.0, -1.0, 5.0])
    z = sample_gaussian(mean, cov, 50_000, torch.Generator().manual_seed(1))
    assert torch.isfinite(z).all()
    assert torch.all(z[:, 2] == 5.0)
    np.testing.assert_allclose(torch.cov(z.double().T).numpy(), cov.numpy(), atol=0.06)


def test_sampling_is_seeded_and_refuses_bad_requests():
    cov, mean = torch.eye(2), torch.zeros(2)
    a = sample_gaussian(mean, cov, 5, torch.Generator().manual_seed(3))
    b = sample_gaussian(mean, cov, 5, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert sample_gaussian(mean, cov, 0).shape == (0, 2)
    with pytest.raises(AekitError, match="shape"):
        sample_gaussian(mean, torch.eye(3), 5)
    with pytest.raises(AekitError, match="NaN or inf"):
        sample_gaussian(mean, torch.tensor([[1.0, 0], [0, float("nan")]]), 5)
    with pytest.raises(AekitError, match="whole number"):
        sample_gaussian(mean, cov, -1)


# -- metrics.json --------------------------------------------------------------------
def test_metrics_must_be_an_object(tmp_path):
    path = tmp_path / "metrics.json"
    _write(path, {"val_mse": 0.1, "best_epoch": 3})
    assert read_metrics(path) == {"val_mse": 0.1, "best_epoch": 3}
    assert read_metrics(tmp_path / "absent.json") == {}
    for bad, kind in (([1, 2], "list"), ("x", "string"), (3, "number"), (None, "null")):
        _write(path, bad)
        with pytest.raises(AekitError, match=f"not a {kind}"):
            read_metrics(path)


# -- history.csv -----------------------------------------------------------------------
def test_a_good_history_reads_back(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,train_loss,val_loss,kl\n1,0.5,0.6,\n2,0.4,0.45,0.1\n")
    rows = read_history(path)
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[1] == {"epoch": 2, "train_loss": 0.4, "val_loss": 0.45, "kl": 0.1}
    assert np.isnan(rows[0]["kl"])  # a column that appeared later


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"epoch,val_loss\n", "no epochs"),
        (b"1,0.5\n2,0.4\n", "name the columns"),
        (b"epoch,loss,loss\n1,2,3\n", "name the columns"),
        (b"epoch,val_loss\n1,0.5,7\n", "line 2 has 3 fields"),
        (b"epoch,val_loss\n1,lots\n", "'lots' is not a number"),
        (b"epoch,val_loss\n1.5,0.2\n", "epoch"),
        (b"epoch,val_loss\n2,0.2\n1,0.3\n", "count 1, 2, 3"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8|not a training history"),
        (b"epoch,val_loss\n1,0\x002\n", "is not a number"),
    ],
)
def test_garbage_histories_are_refused(tmp_path, content, message):
    path = tmp_path / "history.csv"
    path.write_bytes(content)
    with pytest.raises(AekitError, match=message) as e:
        read_history(path)
    assert str(path) in str(e.value)


def test_a_missing_history_is_refused(tmp_path):
    with pytest.raises(AekitError, match="no such file"):
        read_history(tmp_path / "history.csv")
