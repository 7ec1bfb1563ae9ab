"""Every metric against hand-computed values or a reference implementation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.metrics import structural_similarity
from sklearn.decomposition import PCA
from sklearn.metrics import (
    adjusted_rand_score,
    average_precision_score,
    normalized_mutual_info_score,
    roc_auc_score,
)

from aekit.analysis.metrics import (
    ari,
    auprc,
    auroc,
    bce,
    clustering_accuracy,
    mae,
    mse,
    nmi,
    pca_reconstruction_mse,
    psnr,
    psnr_from_mse,
    ssim,
)
from aekit.errors import AekitError


def test_errors_by_hand():
    x = np.array([[0.0, 1.0], [0.5, 0.5]])
    x_hat = np.array([[0.5, 0.5], [0.5, 0.0]])
    assert mse(x, x_hat) == pytest.approx((0.25 + 0.25 + 0 + 0.25) / 4)
    assert mae(x, x_hat) == pytest.approx((0.5 + 0.5 + 0 + 0.5) / 4)
    np.testing.assert_allclose(mse(x, x_hat, reduction="none"), [0.25, 0.125])
    np.testing.assert_allclose(mae(x, x_hat, reduction="none"), [0.5, 0.25])
    # torch tensors are accepted alike
    assert mse(torch.tensor(x), torch.tensor(x_hat)) == pytest.approx(0.1875)


def test_bce_by_hand():
    x = np.array([[0.0, 1.0]])
    p = np.array([[0.5, 0.9]])
    assert bce(x, p) == pytest.approx((math.log(2) - math.log(0.9)) / 2)
    # a confident miss is clipped, not infinite
    assert math.isfinite(bce(np.array([1.0]), np.array([0.0])))
    with pytest.raises(AekitError, match=r"\[0, 1\]"):
        bce(np.array([2.0]), np.array([0.5]))


def test_psnr_by_hand():
    x = np.zeros((2, 4))
    assert psnr(x, x + 0.1) == pytest.approx(20.0)
    assert psnr(x, x + 25.5, data_range=255.0) == pytest.approx(20.0)
    assert psnr(x, x) == math.inf
    assert psnr_from_mse(0.001) == pytest.approx(30.0)


@pytest.mark.parametrize(
    "bad", [(np.zeros(3), np.zeros(4)), (np.zeros(0), np.zeros(0))]
)
def test_errors_refuse_bad_input(bad):
    with pytest.raises(AekitError):
        mse(*bad)


def test_unknown_reduction_is_refused():
    with pytest.raises(AekitError, match="reduction"):
        mse(np.zeros((2, 2)), np.ones((2, 2)), reduction="sum")


@pytest.mark.parametrize("shape", [(3, 1, 16, 12), (2, 3, 9, 11), (2, 20, 20), (7, 7)])
def test_ssim_matches_scikit_image(shape):
    rng = np.random.default_rng(0)
    a = rng.random(shape)
    b = np.clip(a + 0.15 * rng.standard_normal(shape), 0, 1)
    ours = ssim(a, b, reduction="none")
    if len(shape) == 2:
        reference = structural_similarity(a, b, data_range=1.0)
        assert ours == pytest.approx(reference, abs=1e-10)
        return
    images = a if len(shape) == 4 else a[:, None]
    recons = b if len(shape) == 4 else b[:, None]
    reference = [
        structural_similarity(i, r, data_range=1.0, channel_axis=0)
        for i, r in zip(images, recons, strict=True)
    ]
    np.testing.assert_allclose(ours, reference, atol=1e-10)
    assert ssim(a, b) == pytest.approx(np.mean(reference), abs=1e-10)


def test_ssim_of_identical_images_is_one():
    a = np.random.default_rng(1).random((2, 1, 8, 8))
    assert ssim(a, a) == pytest.approx(1.0)


def test_ssim_refuses_images_smaller_than_its_window():
    with pytest.raises(AekitError, match="smaller than"):
        ssim(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 5, 5)))


def test_pca_baseline_matches_scikit_learn():
    rng = np.random.default_rng(0)
    train, test = rng.random((50, 10)), rng.random((20, 10))
    pca = PCA(3).fit(train)
    expected = np.mean((test - pca.inverse_transform(pca.transform(test))) ** 2)
    assert pca_reconstruction_mse(train, test, 3) == pytest.approx(expected, rel=1e-5)


def test_clustering_accuracy_is_one_for_permuted_labels():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 200)
    permutation = np.array([3, 0, 4, 1, 2])
    assert clustering_accuracy(y, permutation[y]) == 1.0
    assert clustering_accuracy(y, permutation[y] + 10) == 1.0  # names don't matter


def test_clustering_accuracy_by_hand():
    y_true = [0, 0, 0, 1, 1, 1]
    y_pred = [1, 1, 0, 0, 0, 0]  # best match: cluster 1 -> class 0, cluster 0 -> 1
    assert clustering_accuracy(y_true, y_pred) == pytest.approx(5 / 6)
    # more clusters than classes: the extra cluster matches nothing
    assert clustering_accuracy([0, 0, 1, 1], [0, 2, 1, 1]) == pytest.approx(3 / 4)


def test_clustering_accuracy_needs_one_prediction_per_label():
    with pytest.raises(AekitError, match="labels"):
        clustering_accuracy([0, 1], [0])


def test_nmi_and_ari_agree_with_scikit_learn():
    rng = np.random.default_rng(0)
    y, c = rng.integers(0, 4, 100), rng.integers(0, 3, 100)
    assert nmi(y, c) == pytest.approx(normalized_mutual_info_score(y, c))
    assert ari(y, c) == pytest.approx(adjusted_rand_score(y, c))
    assert nmi(y, (y + 1) % 4) == pytest.approx(1.0)
    assert ari(y, (y + 1) % 4) == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 6)), min_size=2, max_size=60))
def test_auroc_and_auprc_match_scikit_learn(pairs):
    labels = np.array([p[0] for p in pairs], dtype=int)
    scores = np.array([p[1] for p in pairs], dtype=float) / 3.0  # many ties
    if labels.all() or not labels.any():
        with pytest.raises(AekitError, match="both"):
            auroc(labels, scores)
        return
    assert auroc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))
    assert auprc(labels, scores) == pytest.approx(
        average_precision_score(labels, scores)
    )


def test_auroc_by_hand():
    assert auroc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert auroc([0, 0, 1, 1], [0.4, 0.3, 0.2, 0.1]) == 0.0
    assert auroc([0, 1], [0.5, 0.5]) == 0.5


def test_anomaly_labels_must_be_binary():
    with pytest.raises(AekitError, match="0 .normal. or 1"):
        auroc([0, 2], [0.1, 0.2])
