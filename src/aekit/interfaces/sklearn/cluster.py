"""`AutoencoderClusterer`: deep clustering as a scikit-learn estimator. An autoencoder
is trained on the data and its codes clustered by k-means, a Gaussian mixture or N2D
(UMAP of the codes, then a Gaussian mixture; McConville et al. 2019,
https://arxiv.org/abs/1908.05968)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ...errors import AekitError
from .base import _AutoencoderBase, _validate

METHODS = ("kmeans", "gmm", "n2d")


class AutoencoderClusterer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, _AutoencoderBase
):
    """Clusters of the codes of an autoencoder trained on X.

    `n_clusters=None` chooses k in 2..20 by BIC (gmm) or silhouette (kmeans, n2d);
    `n_clusters_` is the k used and `k_chosen_by_` how it was chosen (None when
    given). `labels_` are the training clusters; `probability_` each training
    sample's largest posterior (gmm, n2d; None for kmeans); `cluster_centers_` the
    centres in code space. `predict` encodes new samples and gives each the cluster
    with the nearest centre (k-means's rule; for gmm and n2d it can differ from
    `labels_` near a boundary). `transform` gives the codes.
    """

    def __init__(
        self,
        n_clusters: int | None = 8,
        *,
        method: str = "kmeans",
        n_components: int = 10,
        model: str = "mlp",
        hidden: tuple[int, ...] = (64,),
        activation: str = "relu",
        epochs: int = 50,
        batch_size: int = 64,
        learning_rate: float = 2e-3,
        random_state: int | np.random.RandomState | None = None,
        device: str = "cpu",
        n_jobs: int | None = None,
    ):
        self.n_clusters = n_clusters
        self.method = method
        self.n_components = n_components  # the code size, as PCA names it
        self.model = model
        self.hidden = hidden
        self.activation = activation
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.device = device
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any = None) -> AutoencoderClusterer:
        from ...analysis.clustering import cluster_codes

        if self.method not in METHODS:
            raise AekitError(f"method must be one of {METHODS}, got {self.method!r}")
        k = self.n_clusters
        n = len(X) if hasattr(X, "__len__") else None
        if k is not None and (not isinstance(k, int | np.integer) or k < 1):
            raise AekitError(
                f"n_clusters must be a positive integer or None, got {k!r}"
            )
        if n is not None and n < (k or 3):
            raise ValueError(f"n_samples={n} should be >= n_clusters={k or 3}")
        self._fit(X)
        self._n_features_out = int(self.n_components)
        codes = self._model_call("encode", self._standardise(_validate_in(self, X)))
        seed = 0 if self.random_state is None else _seed(self.random_state)
        if k == 1:  # one cluster, as KMeans(1) allows: every sample in it
            result = _one_cluster(codes)
        else:
            result = cluster_codes(codes, k=k, method=self.method, seed=seed)
        self.labels_ = result.labels.astype(np.int64)
        self.probability_ = result.probability
        self.cluster_centers_ = result.centers
        self.n_clusters_ = result.k
        self.k_chosen_by_ = result.k_chosen_by
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The codes (n_samples, n_components)."""
        check_is_fitted(self)
        return self._model_call("encode", self._standardise(_validate_in(self, X)))

    def predict(self, X: Any) -> np.ndarray:
        """The cluster of the nearest centre to each sample's code."""
        z = self.transform(X)
        d = ((z[:, None, :] - self.cluster_centers_[None]) ** 2).sum(-1)
        return np.nan_to_num(d, nan=np.inf).argmin(1).astype(np.int64)


def _one_cluster(codes: np.ndarray) -> Any:
    from ...analysis.clustering import ClusterResult

    centers = codes.mean(0, keepdims=True).astype(np.float64)
    return ClusterResult(np.zeros(len(codes), np.int64), None, centers, 1, None, None)


def _validate_in(est: AutoencoderClusterer, X: Any) -> np.ndarray:
    return _validate(est, X, reset=False)


def _seed(random_state: Any) -> int:
    from sklearn.utils import check_random_state

    if isinstance(random_state, int | np.integer):
        return int(random_state)
    return int(check_random_state(random_state).randint(2**31 - 1))
