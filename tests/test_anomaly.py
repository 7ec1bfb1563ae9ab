"""Anomaly scores, thresholds, class specs and label files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit.analysis.anomaly import (
    labels_from_classes,
    parse_classes,
    read_anomaly_labels,
    reconstruction_errors,
    threshold,
    write_scores,
)
from aekit.errors import AekitError


class Halve(torch.nn.Module):
    """A 'model' whose reconstruction is half its input: error = mean(x^2) / 4."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / 2


def test_reconstruction_errors_are_per_example_mse_in_batches():
    x = torch.arange(24, dtype=torch.float32).reshape(6, 2, 2)
    errors = reconstruction_errors(Halve(), x, batch_size=4)
    expected = (x.double() ** 2).flatten(1).mean(1) / 4
    np.testing.assert_allclose(errors, expected.numpy())


def test_thresholds_by_hand():
    scores = np.arange(101, dtype=float)  # 0 .. 100
    assert threshold(scores, method="percentile", contamination=0.1) == 90.0
    assert threshold(scores, method="percentile", contamination=0.0) == 100.0
    assert threshold(scores, method="max") == 100.0
    assert threshold(scores, method="sigma", sigmas=2) == pytest.approx(
        50 + 2 * scores.std()
    )


@pytest.mark.parametrize(
    "options, message",
    [
        ({"method": "median"}, "unknown threshold"),
        ({"contamination": 1.0}, "contamination"),
        ({"method": "sigma", "sigmas": -1}, "sigmas"),
    ],
)
def test_bad_thresholds_are_refused(options, message):
    with pytest.raises(AekitError, match=message):
        threshold(np.ones(5), **options)


def test_threshold_needs_finite_scores():
    with pytest.raises(AekitError, match="finite"):
        threshold(np.array([1.0, np.nan]))


def test_parse_classes():
    assert parse_classes("0-8", None) == list(range(9))
    assert parse_classes("0, 3,5-7", None) == [0, 3, 5, 6, 7]
    assert parse_classes("cat,bird", ("bird", "cat", "dog")) == [0, 1]
    for bad in ("x", "3-1", "1-"):
        with pytest.raises(AekitError):
            parse_classes(bad, None)


def test_labels_from_classes_marks_the_others():
    assert list(labels_from_classes(np.array([0, 9, 3, 9]), [0, 3])) == [0, 1, 0, 1]


@pytest.mark.parametrize(
    "text", ["0\n1\n1\n", "anomaly\n0\n1\n1\n", "index,label\n0,0\n1,1\n2,1\n"]
)
def test_read_anomaly_labels(tmp_path, text):
    path = tmp_path / "labels.csv"
    path.write_text(text)
    assert list(read_anomaly_labels(path, 3)) == [0, 1, 1]


def test_read_anomaly_labels_refuses_a_wrong_count_or_values(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("0\n1\n")
    with pytest.raises(AekitError, match="2 anomaly labels for 3"):
        read_anomaly_labels(path, 3)
    path.write_text("0\n2\n")
    with pytest.raises(AekitError, match="0 .normal. or 1"):
        read_anomaly_labels(path, 2)
    with pytest.raises(AekitError, match="cannot read"):
        read_anomaly_labels(tmp_path / "missing.csv", 2)


def test_write_scores_keeps_input_order(tmp_path):
    path = write_scores(tmp_path / "s.csv", np.array([0.5, 2.0]), np.array([0, 1]))
    assert path.read_text().splitlines() == ["index,score,anomaly", "0,0.5,0", "1,2,1"]
