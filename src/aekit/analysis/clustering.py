"""Clustering codes: k-means, Gaussian mixtures and N2D (McConville et al. 2019,
https://arxiv.org/abs/1908.05968), and their scores against known labels.

Numpy in, numpy out. DEC / IDEC fine-tuning is in aekit.analysis.clustering_dec,
the pictures in aekit.analysis.plots.clusters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import AekitError
from .metrics import ari, clustering_accuracy, nmi

METHODS = ("kmeans", "gmm", "n2d")
MAX_AUTO_K = 20  # k is chosen in 2..min(MAX_AUTO_K, N - 1) when not given
N2D_NEIGHBORS = 20  # the paper's n_neighbors; min_dist is 0
# n2d chooses k in a 2-D UMAP by silhouette: on 4 and 7 blobs (12 seeded cases) it
# was right 12 times, BIC on the same embedding 10 (in 4-10 dims BIC over-splits)
N2D_AUTO_DIMS = 2
SILHOUETTE_SAMPLE = 2000  # silhouette is O(N^2): score a seeded sample

Progress = Callable[[str, dict[str, Any]], None]  # (event, info), as the trainer's


@dataclass(frozen=True)
class ClusterResult:
    labels: np.ndarray  # (N,) int cluster of each code, in 0..k-1
    probability: np.ndarray | None  # (N,) max posterior (gmm, n2d); None for kmeans
    centers: np.ndarray  # (k, d) in code space; n2d: the mean code of each cluster
    k: int
    k_chosen_by: str | None  # None when k was given, else "bic" or "silhouette"
    scores: dict[int, float] | None  # the criterion for each candidate k


GMM_STARTS = 10  # Gaussian-mixture fits from different starts; the likeliest wins


def cluster_codes(
    codes: np.ndarray, *, k: int | None, method: str = "kmeans", seed: int = 0
) -> ClusterResult:
    """Cluster codes (N, d) into k groups; k=None chooses k in 2..min(20, N-1) by
    BIC (gmm: lowest) or by silhouette (kmeans, and n2d in a 2-D UMAP: highest)."""
    z = _codes(codes)
    n = len(z)
    if method not in METHODS:
        raise AekitError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    if k is not None:
        _check_k(k, n)
        candidates = [int(k)]
    elif n < 3:
        raise AekitError(f"choosing k needs at least 3 codes, got {n}")
    else:
        candidates = list(range(2, min(MAX_AUTO_K, n - 1) + 1))
    from threadpoolctl import threadpool_limits

    by = None if k is not None else ("bic" if method == "gmm" else "silhouette")
    # one thread: 40x faster than OpenMP workers for these small fits on 2 cores
    with threadpool_limits(1):
        space = _n2d_embed(z, candidates, seed) if method == "n2d" else z
        fits = {c: _fit(space, c, method, seed) for c in candidates}
        scores = (
            None
            if by is None
            else {c: _criterion(space, f, by, seed) for c, f in fits.items()}
        )
    best = candidates[0] if scores is None else _best(scores, by)
    labels, probability, centers, _ = fits[best]
    if method == "n2d":
        centers = _mean_codes(z, labels, best)
    return ClusterResult(labels, probability, centers, best, by, scores)


def _codes(codes: Any) -> np.ndarray:
    z = np.asarray(codes, dtype=np.float64)
    if z.ndim != 2 or len(z) == 0:
        raise AekitError(f"codes must be a non-empty (N, d) array, got shape {z.shape}")
    if not np.isfinite(z).all():
        raise AekitError("codes hold NaN or infinite values")
    return z


def _check_k(k: int, n: int) -> None:
    if int(k) != k or k < 2:
        raise AekitError(f"k must be an integer of at least 2, got {k}")
    if k > n:
        raise AekitError(f"k={k} is more clusters than the {n} inputs")


def _fit(space: np.ndarray, k: int, method: str, seed: int):
    if method == "kmeans":
        from sklearn.cluster import KMeans

        km = KMeans(k, n_init=10, random_state=seed).fit(space)
        return km.labels_.astype(np.int64), None, km.cluster_centers_, km
    from sklearn.mixture import GaussianMixture

    # the best of GMM_STARTS fits by likelihood: one start merged two digits in a
    # run of three on mnist-5k (0.80 accuracy); the best of ten found 0.91
    gmm = GaussianMixture(
        k, covariance_type="full", n_init=GMM_STARTS, random_state=seed
    )
    gmm.fit(space)
    posterior = gmm.predict_proba(space)
    labels = posterior.argmax(1).astype(np.int64)
    return labels, posterior.max(1), gmm.means_, gmm


def _criterion(space: np.ndarray, fit, by: str, seed: int) -> float:
    labels, model = fit[0], fit[3]
    if by == "bic":
        return float(model.bic(space))
    from sklearn.metrics import silhouette_score

    if len(np.unique(labels)) < 2:
        return -1.0
    return float(
        silhouette_score(
            space,
            labels,
            sample_size=min(len(space), SILHOUETTE_SAMPLE),
            random_state=seed,
        )
    )


def _best(scores: dict[int, float], by: str) -> int:
    sign = 1.0 if by == "bic" else -1.0  # lowest BIC, highest silhouette
    return min(scores, key=lambda c: (sign * scores[c], c))  # ties: the smaller k


def _n2d_embed(z: np.ndarray, candidates: list[int], seed: int) -> np.ndarray:
    """UMAP of the codes to k dimensions, n_neighbors 20, min_dist 0 (the paper)."""
    try:
        import umap
    except ImportError as e:
        raise AekitError(
            "n2d clustering needs umap-learn: pip install 'aekit[umap]'"
        ) from e
    n = len(z)
    dims = candidates[0] if len(candidates) == 1 else N2D_AUTO_DIMS
    dims = max(2, min(dims, n - 2))  # UMAP's spectral start needs N > dims + 1
    reducer = umap.UMAP(
        n_components=dims,
        n_neighbors=min(N2D_NEIGHBORS, n - 1),
        min_dist=0.0,
        metric="euclidean",
        random_state=seed,
        n_jobs=1,  # a seed makes UMAP single-threaded anyway; say so to silence it
        init="spectral" if n > dims + 2 else "random",
    )
    return np.asarray(reducer.fit_transform(z), dtype=np.float64)


def _mean_codes(z: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    centers = np.full((k, z.shape[1]), np.nan)
    for j in range(k):
        if (labels == j).any():
            centers[j] = z[labels == j].mean(0)
    return centers


# -- scoring against labels ------------------------------------------------------
def cluster_accuracy(labels_true, labels_pred) -> float:
    """Accuracy after the best one-to-one matching of clusters to classes (the
    Hungarian algorithm, aekit.analysis.metrics.clustering_accuracy); k may differ
    from the number of classes, and unmatched clusters count as wrong."""
    return clustering_accuracy(labels_true, labels_pred)


def cluster_matching(labels_true, labels_pred) -> dict[int, int]:
    """The best one-to-one matching {cluster: class}, as cluster_accuracy uses."""
    from scipy.optimize import linear_sum_assignment

    classes, clusters, counts = contingency(labels_true, labels_pred)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return {int(clusters[r]): int(classes[c]) for r, c in zip(rows, cols, strict=True)}


def cluster_scores(labels_true, labels_pred) -> dict[str, Any]:
    """Accuracy (matched), NMI, ARI and the matching {cluster: class}."""
    return {
        "accuracy": cluster_accuracy(labels_true, labels_pred),
        "nmi": nmi(labels_true, labels_pred),
        "ari": ari(labels_true, labels_pred),
        "matching": cluster_matching(labels_true, labels_pred),
    }


def contingency(labels_true, labels_pred):
    """(classes, clusters, counts (clusters, classes)) of two labellings."""
    a, b = np.asarray(labels_true).reshape(-1), np.asarray(labels_pred).reshape(-1)
    if len(a) != len(b) or len(a) == 0:
        raise AekitError(f"{len(a)} labels but {len(b)} predictions")
    classes, ia = np.unique(a, return_inverse=True)
    clusters, ib = np.unique(b, return_inverse=True)
    counts = np.zeros((len(clusters), len(classes)), dtype=np.int64)
    np.add.at(counts, (ib, ia), 1)
    return classes, clusters, counts
