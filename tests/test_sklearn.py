"""The scikit-learn estimators: the common checks, pipelines, pandas, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from aekit.interfaces.sklearn import (
    AutoencoderClusterer,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
)

FAST = {"epochs": 3, "hidden": (8,), "random_state": 0}  # the checks fit ~100 times


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    x, y = load_digits(return_X_y=True)
    return x[:600], y[:600]


@pytest.mark.parametrize(
    "estimator",
    [
        AutoencoderTransformer(**FAST),
        AutoencoderOutlierDetector(**FAST),
        AutoencoderClusterer(3, n_components=2, **FAST),
    ],
    ids=lambda e: type(e).__name__,
)
def test_passes_check_estimator(estimator):
    check_estimator(estimator)


def test_transformer_is_a_drop_in_for_pca(digits):
    x, _ = digits
    for est in (PCA(4), AutoencoderTransformer(4, epochs=30, random_state=0)):
        codes = est.fit(x).transform(x)
        assert codes.shape == (len(x), 4)
        assert est.inverse_transform(codes).shape == x.shape
        assert len(est.get_feature_names_out()) == 4
    names = AutoencoderTransformer(3, **FAST).fit(x)
    assert list(names.get_feature_names_out()) == [
        f"autoencodertransformer{i}" for i in range(3)
    ]


def test_score_is_negative_reconstruction_mse_and_beats_the_mean(digits):
    x, _ = digits
    ae = AutoencoderTransformer(8, epochs=30, random_state=0).fit(x)
    x_hat = ae.inverse_transform(ae.transform(x))
    assert ae.score(x) == pytest.approx(-np.mean((x - x_hat) ** 2), rel=1e-6)
    # predicting every pixel's mean scores -(mean variance); the codes carry more
    assert ae.score(x) > -0.5 * np.mean(x.var(axis=0))


def test_pipeline_and_grid_search(digits):
    x, y = digits
    pipe = Pipeline(
        [
            ("ae", AutoencoderTransformer(epochs=30, hidden=(32,), random_state=0)),
            ("clf", LogisticRegression(max_iter=300)),
        ]
    )
    search = GridSearchCV(pipe, {"ae__n_components": [2, 8]}, cv=2).fit(x, y)
    assert search.best_params_ == {"ae__n_components": 8}
    assert search.best_score_ > 0.5  # ten classes: chance is 0.1
    unsupervised = GridSearchCV(
        AutoencoderTransformer(epochs=30, hidden=(32,), random_state=0),
        {"n_components": [1, 8]},
        cv=2,
    ).fit(x[:300])
    assert unsupervised.best_params_ == {"n_components": 8}  # score: more is better


def test_pandas_in_and_out(digits):
    x, _ = digits
    frame = pd.DataFrame(x[:, :10], columns=[f"f{i}" for i in range(10)])
    ae = AutoencoderTransformer(2, **FAST).set_output(transform="pandas")
    out = ae.fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["autoencodertransformer0", "autoencodertransformer1"]
    assert list(ae.feature_names_in_) == list(frame.columns)
    with pytest.raises(ValueError, match="feature names"):
        ae.transform(frame.rename(columns={"f0": "other"}))
    scaled = Pipeline([("scale", StandardScaler()), ("ae", AutoencoderTransformer(2))])
    assert scaled.set_params(ae__epochs=2).fit(frame).transform(frame).shape == (600, 2)


def test_random_state_makes_fits_repeatable(digits):
    x, _ = digits
    a = AutoencoderTransformer(3, epochs=4, random_state=1).fit_transform(x)
    b = AutoencoderTransformer(3, epochs=4, random_state=1).fit_transform(x)
    c = AutoencoderTransformer(3, epochs=4, random_state=2).fit_transform(x)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_vae_transform_gives_posterior_means(digits):
    x, _ = digits
    vae = AutoencoderTransformer(2, model="vae", epochs=4, random_state=0).fit(x)
    np.testing.assert_array_equal(vae.transform(x), vae.transform(x))
    assert np.isfinite(vae.score(x))


def test_float32_in_float32_out(digits):
    x = digits[0].astype(np.float32)
    ae = AutoencoderTransformer(2, **FAST).fit(x)
    assert ae.transform(x).dtype == np.float32
    assert ae.transform(x.astype(np.float64)).dtype == np.float64


def test_outlier_detector_flags_noise_and_its_contamination(digits):
    x, _ = digits
    noise = np.random.default_rng(0).uniform(0, 16, (40, x.shape[1]))
    det = AutoencoderOutlierDetector(8, contamination=0.05, epochs=20, random_state=0)
    det.fit(x)
    assert np.mean(det.predict(x) == -1) == pytest.approx(0.05, abs=0.01)
    assert np.mean(det.predict(noise) == -1) > 0.9
    both = np.vstack([x[:50], noise])
    np.testing.assert_allclose(
        det.decision_function(both), det.score_samples(both) - det.offset_
    )
    assert det.score_samples(noise).mean() < det.score_samples(x).mean()


def test_outlier_detector_has_pyods_attributes_and_signs(digits):
    x, _ = digits
    noise = np.random.default_rng(1).uniform(0, 16, (30, x.shape[1]))
    both = np.vstack([x[:300], noise])
    det = AutoencoderOutlierDetector(8, contamination=0.1, epochs=20, random_state=0)
    det.fit(both)
    scores = det.decision_scores_
    assert scores.shape == (len(both),)
    # pyod: higher is more abnormal, the negative of scikit-learn's score_samples
    np.testing.assert_allclose(scores, -det.score_samples(both), rtol=1e-6)
    assert scores[300:].min() > np.median(scores[:300])  # noise scores higher
    assert set(np.unique(det.labels_)) == {0, 1}
    assert det.labels_.dtype.kind == "i"
    np.testing.assert_array_equal(det.labels_ == 1, scores > det.threshold_)
    # the same call as predict's -1, with pyod's labels
    np.testing.assert_array_equal(det.labels_ == 1, det.predict(both) == -1)
    assert det.labels_.mean() == pytest.approx(0.1, abs=0.01)
    assert det.labels_[300:].mean() > 0.9  # the noise rows are the outliers


@pytest.mark.parametrize(
    ("estimator", "message"),
    [
        (AutoencoderTransformer(model="conv"), "model must be one of"),
        (AutoencoderTransformer(n_components=0), "n_components must be"),
        (AutoencoderTransformer(learning_rate=-1.0), "lr must be positive"),
        (AutoencoderOutlierDetector(contamination=0.7), "contamination must be"),
    ],
)
def test_bad_parameters_fail_at_fit_with_a_message(estimator, message, digits):
    with pytest.raises(ValueError, match=message):
        estimator.fit(digits[0][:20])


def test_inverse_transform_checks_the_code_size(digits):
    ae = AutoencoderTransformer(3, **FAST).fit(digits[0])
    with pytest.raises(ValueError, match="code size is 3"):
        ae.inverse_transform(np.zeros((2, 4)))
