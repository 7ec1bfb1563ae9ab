"""Probes tell a representation that holds the classes from one that does not."""

from __future__ import annotations

import numpy as np
import pytest

from aekit.analysis.probes import capped, compare_representations, probe_scores
from aekit.errors import AekitError


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Well-separated classes in 3-D codes, and 20-D noise that ignores the class."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    centres = np.array([[0, 0, 0], [8, 0, 0], [0, 8, 0], [0, 0, 8]], dtype=float)
    codes = centres[y] + 0.5 * rng.standard_normal((n, 3))
    return codes, rng.standard_normal((n, 20)), y


def test_separated_codes_score_perfectly_and_noise_at_chance():
    train_codes, train_noise, train_y = blobs(300, 0)
    test_codes, test_noise, test_y = blobs(200, 1)
    scores = compare_representations(
        {"model": (train_codes, test_codes), "raw": (train_noise, test_noise)},
        train_y,
        test_y,
    )
    assert scores["n_train"] == 300 and scores["n_test"] == 200
    model, raw = scores["model"], scores["raw"]
    for key in ("logistic_accuracy", "knn_accuracy", "kmeans_accuracy"):
        assert model[key] == 1.0
        assert raw[key] < 0.5  # four classes: chance is about 0.25
    assert model["kmeans_nmi"] == pytest.approx(1.0)
    assert model["kmeans_ari"] == pytest.approx(1.0)
    assert abs(raw["kmeans_ari"]) < 0.1


def test_kmeans_accuracy_ignores_how_classes_are_numbered():
    codes, _, y = blobs(200, 2)
    relabelled = np.array([7, 3, 5, 1])[y]
    a = probe_scores(codes, y, codes, y)
    b = probe_scores(codes, relabelled, codes, relabelled)
    assert a["kmeans_accuracy"] == b["kmeans_accuracy"] == 1.0


def test_capped_is_a_seeded_sorted_subset():
    assert list(capped(5, 10)) == [0, 1, 2, 3, 4]
    picked = capped(1000, 50, seed=3)
    assert len(picked) == len(set(picked)) == 50
    assert list(picked) == sorted(picked)
    assert list(picked) == list(capped(1000, 50, seed=3))
    assert list(picked) != list(capped(1000, 50, seed=4))


def test_compare_caps_both_splits():
    codes, _, y = blobs(120, 3)
    scores = compare_representations(
        {"model": (codes, codes)}, y, y, max_train=50, max_test=40
    )
    assert (scores["n_train"], scores["n_test"]) == (50, 40)


def test_probes_need_two_classes_and_matching_rows():
    codes, _, y = blobs(50, 4)
    with pytest.raises(AekitError, match="two classes"):
        probe_scores(codes, np.zeros(50), codes, y)
    with pytest.raises(AekitError, match="one label per example"):
        probe_scores(codes, y[:10], codes, y)
    with pytest.raises(AekitError, match="features"):
        probe_scores(codes, y, codes[:, :2], y)
