"""How much class structure a representation holds: linear probe, k-NN, k-means.

Each representation (a model's codes, PCA codes of the same size, the raw inputs)
is scored the same way: a logistic-regression probe and a k-NN classifier trained on
the training split and scored on the evaluation data, and k-means with one cluster
per class on the evaluation data, scored by Hungarian-matched accuracy, NMI and ARI
against the labels. Sizes are capped (seeded subsets) so the probes stay fast.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..errors import AekitError
from .metrics import ari, clustering_accuracy, nmi

MAX_TRAIN = 5000  # training examples the probes are fitted on
MAX_TEST = 5000  # evaluation examples they are scored on (and k-means clusters)
N_NEIGHBORS = 5


def capped(n: int, limit: int, *, seed: int = 0) -> np.ndarray:
    """Indices of all n examples, or of a seeded random `limit` of them, in order."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


def probe_scores(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    *,
    seed: int = 0,
    n_neighbors: int = N_NEIGHBORS,
) -> dict[str, float]:
    """Logistic and k-NN test accuracy, k-means accuracy, NMI and ARI of one
    representation (rows are examples; features are flattened)."""
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    a, b = _features(train_x), _features(test_x)
    train_y, test_y = np.asarray(train_y).reshape(-1), np.asarray(test_y).reshape(-1)
    if len(a) != len(train_y) or len(b) != len(test_y):
        raise AekitError("probes need one label per example")
    if a.shape[1] != b.shape[1]:
        raise AekitError(f"train has {a.shape[1]} features but test {b.shape[1]}")
    if len(np.unique(train_y)) < 2 or len(np.unique(test_y)) < 2:
        raise AekitError("probes need at least two classes in train and test")
    # one thread: OpenMP workers crawl when other work shares the cores
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a capped solver is fair
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
        probe.fit(a, train_y)
        knn = KNeighborsClassifier(n_neighbors=min(n_neighbors, len(a))).fit(a, train_y)
        n_clusters = min(len(np.unique(test_y)), len(b))
        clusters = KMeans(n_clusters, n_init=10, random_state=seed).fit_predict(b)
        logistic, nearest = probe.predict(b), knn.predict(b)
    return {
        "logistic_accuracy": float((logistic == test_y).mean()),
        "knn_accuracy": float((nearest == test_y).mean()),
        "kmeans_accuracy": clustering_accuracy(test_y, clusters),
        "kmeans_nmi": nmi(test_y, clusters),
        "kmeans_ari": ari(test_y, clusters),
    }


def compare_representations(
    representations: dict[str, tuple[np.ndarray, np.ndarray]],
    train_y: np.ndarray,
    test_y: np.ndarray,
    *,
    seed: int = 0,
    max_train: int = MAX_TRAIN,
    max_test: int = MAX_TEST,
) -> dict[str, Any]:
    """Score each named (train, test) pair on the same capped subsets."""
    train_y, test_y = np.asarray(train_y), np.asarray(test_y)
    i = capped(len(train_y), max_train, seed=seed)
    j = capped(len(test_y), max_test, seed=seed + 1)
    scores: dict[str, Any] = {"n_train": len(i), "n_test": len(j)}
    for name, (train, test) in representations.items():
        scores[name] = probe_scores(
            np.asarray(train)[i], train_y[i], np.asarray(test)[j], test_y[j], seed=seed
        )
    return scores


def _features(x: np.ndarray) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim < 2 or len(a) == 0:
        raise AekitError(f"probes need examples in rows, got shape {a.shape}")
    return a.reshape(len(a), -1)
