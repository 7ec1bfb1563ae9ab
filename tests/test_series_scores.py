"""The series scores (VUS-PR, range-AUC-PR, point-adjusted F1), EncDec-AD's Gaussian
error score, and the EncDec-AD recurrent autoencoder's options."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit.analysis.encdec_score import ErrorGaussian
from aekit.analysis.series_scores import (
    point_adjusted_f1,
    range_auc_pr,
    series_scores,
    spans,
    vus_pr,
    widened_labels,
)
from aekit.errors import AekitError
from aekit.models.sequence.config import LSTMConfig
from aekit.models.sequence.model import LSTMAutoencoder

N = 1000


def labelled(start=500, end=520):
    truth = np.zeros(N, dtype=bool)
    truth[start:end] = True
    return truth


def test_spans_are_half_open_runs_of_labels():
    t = np.zeros(10, bool)
    t[[0, 1, 5, 9]] = True
    assert spans(t) == [(0, 2), (5, 6), (9, 10)]


def test_a_perfect_score_gets_one_and_noise_gets_little():
    truth = labelled()
    perfect = truth.astype(float)
    noise = np.random.default_rng(0).random(N)
    assert range_auc_pr(perfect, truth, 0) == pytest.approx(1.0)
    assert point_adjusted_f1(perfect, truth) == pytest.approx(1.0)
    # wide buffers widen the label mass beyond what exact flags collect: < 1
    assert 0.75 < vus_pr(perfect, truth, 64) < vus_pr(perfect, truth, 8) <= 1.0
    assert vus_pr(noise, truth, 64) < 0.15
    assert range_auc_pr(noise, truth, 0) < 0.15


def test_point_adjustment_credits_the_whole_span_from_one_step():
    truth = labelled()
    one_step = np.zeros(N)
    one_step[505] = 1.0  # only one step of the 20 scores high
    assert point_adjusted_f1(one_step, truth) == pytest.approx(1.0)
    assert range_auc_pr(one_step, truth, 0) < 0.6  # range PR is not fooled


def test_a_buffer_credits_a_detection_just_beside_the_span():
    truth = labelled()
    beside = np.zeros(N)
    beside[522:526] = 1.0  # just after the span
    far = np.zeros(N)
    far[900:904] = 1.0
    assert range_auc_pr(beside, truth, 0) < 0.05
    assert range_auc_pr(beside, truth, 16) > range_auc_pr(beside, truth, 0) + 0.1
    assert vus_pr(beside, truth, 32) > vus_pr(far, truth, 32)
    w = widened_labels(truth, 4)
    assert w[500:520].min() == 1 and 0 < w[523] < w[520] < 1 and w[525] == 0


def test_series_scores_average_over_labelled_series():
    truth = [labelled(), np.zeros(N, bool), labelled(100, 110)]
    scores = [truth[0].astype(float), np.ones(N), np.random.default_rng(1).random(N)]
    out = series_scores(scores, truth, window=32)
    assert out["ucr_series"] == 2 and out["ucr_top1_hits"] == 1
    perfect = vus_pr(scores[0], truth[0], 32)
    assert out["vus_pr"] == pytest.approx(
        (perfect + vus_pr(scores[2], truth[2], 32)) / 2
    )
    assert out["vus_pr"] < perfect
    assert series_scores([np.ones(N)], [np.zeros(N, bool)], 32)["ucr_series"] == 0


def test_error_gaussian_scores_are_mahalanobis_distances():
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.8], [0.8, 1.0]])
    errors = rng.multivariate_normal([1.0, 2.0], cov, size=(400, 32))  # (N, W, C)
    model = ErrorGaussian.fit(errors)
    a = model.score(errors)
    assert a.shape == (400, 32)
    assert a.mean() == pytest.approx(2.0, rel=0.02)  # chi-square with C = 2
    # against the correlation: far by Mahalanobis, near by Euclid
    odd = np.array([[[2.0, 1.0]]])
    usual = np.array([[[2.5, 3.5]]])
    assert model.score(odd)[0, 0] > model.score(usual)[0, 0]


def build(**kw):
    torch.manual_seed(0)
    return LSTMAutoencoder(
        LSTMConfig(input_shape=(2, 12), latent_dim=3, hidden_size=8, **kw)
    )


@pytest.mark.parametrize(
    "options",
    [{}, {"cell": "gru"}, {"bidirectional": True}, {"order": "forward"},
     {"cell": "gru", "bidirectional": True, "num_layers": 2}],
)  # fmt: skip
def test_teacher_forcing_feeds_the_truth_in_training_only(options):
    model = build(**options)
    x = torch.randn(4, 2, 12)
    other = x.clone()
    other[:, :, 6] += 5.0  # a different step 6 in the target only
    model.train()
    model.set_epoch(0)  # fully teacher forced
    with torch.no_grad():
        a = model._logits(model.encode(x), x)
        b = model._logits(model.encode(x), other)
    assert not torch.allclose(a, b)  # the fed values steer the decoder
    model.set_epoch(model.config.teacher_forcing)  # free running from here on
    with torch.no_grad():
        c = model._logits(model.encode(x), x)
        d = model._logits(model.encode(x), other)
    assert torch.allclose(c, d)
    model.eval()
    assert model(x).shape == x.shape


def test_reverse_order_writes_the_last_step_first():
    x = torch.randn(3, 2, 12)
    model = build(order="reverse")
    model.train()
    model.set_epoch(0)
    changed = x.clone()
    changed[:, :, 0] += 5.0  # the first step in time is the last one written
    with torch.no_grad():
        a = model._logits(model.encode(x), x)
        b = model._logits(model.encode(x), changed)
    # a fed value steers only the steps written after it: none, for step 0
    assert torch.allclose(a, b)
    forward = build(order="forward")
    forward.train()
    forward.set_epoch(0)
    with torch.no_grad():
        c = forward._logits(forward.encode(x), x)
        d = forward._logits(forward.encode(x), changed)
    assert torch.allclose(c[..., 0], d[..., 0]) and not torch.allclose(c, d)


def test_a_pca_start_lstm_starts_at_pca_and_the_schedule_keeps_it():
    x = torch.randn(64, 2, 12)
    model = build(start="pca")
    model.init_from_data(x)
    model.train()
    model.set_epoch(0)
    with torch.no_grad():
        taught = model._logits(model.encode(x), x)
    model.eval()
    with torch.no_grad():
        free = model(x)
    assert torch.allclose(taught, free, atol=1e-5)  # the gates start at zero


@pytest.mark.parametrize(
    ("options", "needle"),
    [({"cell": "rnn"}, "cell"), ({"order": "sideways"}, "order"),
     ({"teacher_forcing": -1}, "teacher_forcing")],
)  # fmt: skip
def test_bad_recurrent_options_are_one_clear_error(options, needle):
    with pytest.raises(AekitError, match=needle):
        LSTMConfig(input_shape=(1, 8), **options)
