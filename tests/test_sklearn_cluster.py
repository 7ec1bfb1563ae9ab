"""AutoencoderClusterer: deep clustering with scikit-learn's conventions."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from aekit.analysis.clustering import cluster_accuracy
from aekit.errors import AekitError
from aekit.interfaces.sklearn import AutoencoderClusterer


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def blobs():
    return make_blobs(300, n_features=10, centers=4, cluster_std=0.5, random_state=0)


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_fit_predict_finds_blobs(blobs, method):
    x, y = blobs
    est = AutoencoderClusterer(
        4, method=method, n_components=3, epochs=40, hidden=(32,), random_state=0
    )
    labels = est.fit_predict(x)
    assert labels.shape == (300,) and labels.dtype == np.int64
    assert cluster_accuracy(y, labels) > 0.95
    assert np.array_equal(labels, est.labels_)
    assert (est.predict(x) == labels).mean() > 0.95
    assert est.cluster_centers_.shape == (4, 3) and est.n_clusters_ == 4
    assert est.transform(x).shape == (300, 3)
    assert (est.probability_ is None) == (method == "kmeans")


def test_k_is_chosen_when_not_given(blobs):
    x, _ = blobs
    est = AutoencoderClusterer(
        None, method="gmm", n_components=3, epochs=40, hidden=(32,), random_state=0
    ).fit(x)
    assert est.k_chosen_by_ == "bic" and 2 <= est.n_clusters_ <= 20


def test_n2d(blobs):
    pytest.importorskip("umap")
    x, y = blobs
    est = AutoencoderClusterer(
        4, method="n2d", n_components=3, epochs=40, hidden=(32,), random_state=0
    )
    assert cluster_accuracy(y, est.fit_predict(x)) > 0.95


@pytest.mark.parametrize(
    ("params", "message"),
    [({"n_clusters": 0}, "n_clusters"), ({"method": "dbscan"}, "method")],
)
def test_bad_parameters(blobs, params, message):
    with pytest.raises(AekitError, match=message):
        AutoencoderClusterer(**params, epochs=1).fit(blobs[0])


def test_more_clusters_than_samples():
    with pytest.raises(ValueError, match="n_samples=3"):
        AutoencoderClusterer(5, epochs=1).fit(np.random.rand(3, 4))


def test_code_size_is_n_components_everywhere():
    """scikit-learn's name for the code size, on the clusterer as on the others;
    the torch-side name is refused in one line that gives the right one."""
    from aekit.interfaces.sklearn import AutoencoderTransformer

    est = AutoencoderClusterer(3, n_components=2, epochs=1, random_state=0)
    params = est.get_params()
    assert params["n_components"] == 2 and "latent_dim" not in params
    x = np.random.default_rng(0).random((30, 4))
    assert est.fit(x).transform(x).shape == (30, 2)
    for cls in (AutoencoderClusterer, AutoencoderTransformer):
        with pytest.raises(AekitError, match="takes n_components .* not latent_dim"):
            cls(latent_dim=2)
        # what scikit-learn's common checks read: __init__'s real parameters only
        assert set(inspect.signature(cls).parameters) == set(cls().get_params())
