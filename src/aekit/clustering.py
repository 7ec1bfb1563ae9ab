"""Clustering codes: k-means, Gaussian mixtures, N2D (McConville et al. 2019,
https://arxiv.org/abs/1908.05968) and DEC / IDEC fine-tuning (Xie et al. 2016,
https://arxiv.org/abs/1511.06335; Guo et al. 2017, IJCAI, "Improved Deep Embedded
Clustering with Local Structure Preservation").

Numpy in, numpy out, except `dec_fine_tune`, which trains the encoder it is given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.figure import Figure

from .errors import AekitError
from .images import as_numpy, image_grid
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

    gmm = GaussianMixture(k, covariance_type="full", n_init=1, random_state=seed)
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
    Hungarian algorithm, aekit.metrics.clustering_accuracy); k may differ from the
    number of classes, and unmatched clusters count as wrong."""
    return clustering_accuracy(labels_true, labels_pred)


def cluster_matching(labels_true, labels_pred) -> dict[int, int]:
    """The best one-to-one matching {cluster: class}, as cluster_accuracy uses."""
    from scipy.optimize import linear_sum_assignment

    classes, clusters, counts = _contingency(labels_true, labels_pred)
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


def _contingency(labels_true, labels_pred):
    a, b = np.asarray(labels_true).reshape(-1), np.asarray(labels_pred).reshape(-1)
    if len(a) != len(b) or len(a) == 0:
        raise AekitError(f"{len(a)} labels but {len(b)} predictions")
    classes, ia = np.unique(a, return_inverse=True)
    clusters, ib = np.unique(b, return_inverse=True)
    counts = np.zeros((len(clusters), len(classes)), dtype=np.int64)
    np.add.at(counts, (ib, ia), 1)
    return classes, clusters, counts


# -- DEC / IDEC ------------------------------------------------------------------
def soft_assignment(z: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """DEC's Student-t kernel, one degree of freedom: q_ij ∝ 1/(1 + |z_i - mu_j|²)."""
    q = 1.0 / (1.0 + torch.cdist(z, centers).pow(2))  # (N, k)
    return q / q.sum(1, keepdim=True)


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """DEC's sharpened target: p_ij ∝ q_ij² / f_j, f_j = sum_i q_ij."""
    p = q.pow(2) / q.sum(0)
    return p / p.sum(1, keepdim=True)


def dec_fine_tune(
    encoder: Callable[[torch.Tensor], torch.Tensor],
    decoder: Callable[[torch.Tensor], torch.Tensor] | None,
    x: torch.Tensor,
    *,
    k: int,
    centers_init: np.ndarray | None = None,
    epochs: int = 20,
    batch_size: int = 256,
    lr: float = 1e-3,
    gamma: float = 0.0,
    update_interval: int | None = None,
    tol: float = 0.001,
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fine-tune `encoder` (e.g. model.encode) in place by DEC; returns the labels (N,)
    and soft assignments q (N, k).

    The centres start at `centers_init` or k-means of the codes and are learned with
    the encoder by minimising KL(P || Q); the target P is recomputed from all of x
    every `update_interval` steps (default: once an epoch), and training stops early
    when fewer than `tol` of the labels change between updates. gamma > 0 is IDEC:
    gamma * MSE(decoder(z), x) is added, so the decoder (e.g. model.decode) keeps
    the codes able to reconstruct. Adam without weight decay, seeded batch order.
    """
    _check_dec(x, k, epochs, batch_size, lr, gamma, decoder)
    modules = _modules(encoder, decoder if gamma > 0 else None)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        z = _encode_all(encoder, x, batch_size)
    if centers_init is None:
        centers_init = cluster_codes(z.numpy(), k=k, method="kmeans", seed=seed).centers
    centers = torch.nn.Parameter(_centers(centers_init, k, z.shape[1]))
    params = {id(p): p for m in modules for p in m.parameters()}
    optimizer = torch.optim.Adam([*params.values(), centers], lr=lr)
    n, steps = len(x), math.ceil(len(x) / batch_size)
    interval = update_interval or steps
    p, labels, step = None, None, 0
    for epoch in range(epochs):
        order = torch.randperm(n, generator=generator)
        for b in range(steps):
            if step % interval == 0:
                p, changed, labels = _update_target(
                    encoder, x, centers, batch_size, labels
                )
                if progress:
                    progress(
                        "update", {"epoch": epoch, "step": step, "changed": changed}
                    )
                if changed is not None and changed < tol:
                    return _finish(encoder, x, centers, batch_size)
            i = order[b * batch_size : (b + 1) * batch_size]
            loss = _dec_loss(encoder, decoder, x[i], p[i], centers, gamma)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
        if progress:
            progress("epoch_end", {"epoch": epoch, "loss": float(loss)})
    return _finish(encoder, x, centers, batch_size)


def _dec_loss(encoder, decoder, xb, pb, centers, gamma) -> torch.Tensor:
    z = encoder(xb)
    q = soft_assignment(z.float(), centers)
    loss = torch.nn.functional.kl_div(q.log(), pb, reduction="batchmean")
    if gamma > 0:
        loss = loss + gamma * torch.nn.functional.mse_loss(decoder(z), xb)
    return loss


def _update_target(encoder, x, centers, batch_size, previous):
    with torch.no_grad():
        q = soft_assignment(_encode_all(encoder, x, batch_size), centers)
    labels = q.argmax(1)
    changed = None if previous is None else float((labels != previous).float().mean())
    return target_distribution(q), changed, labels


def _finish(encoder, x, centers, batch_size) -> tuple[np.ndarray, np.ndarray]:
    with torch.no_grad():
        q = soft_assignment(_encode_all(encoder, x, batch_size), centers)
    return q.argmax(1).numpy().astype(np.int64), q.numpy()


def _encode_all(encoder, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    parts = [encoder(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    return torch.cat(parts).float()


def _modules(*fns) -> list[torch.nn.Module]:
    """The modules whose parameters DEC trains: each callable, or a bound method's
    owner (model.encode -> model)."""
    found = []
    for f in fns:
        owner = f if isinstance(f, torch.nn.Module) else getattr(f, "__self__", None)
        if isinstance(owner, torch.nn.Module) and owner not in found:
            found.append(owner)
    if fns[0] is not None and not found:
        raise AekitError("DEC needs an encoder that is a torch module or its method")
    return found


def _centers(init: Any, k: int, d: int) -> torch.Tensor:
    c = torch.as_tensor(np.asarray(init, dtype=np.float32))
    if tuple(c.shape) != (k, d):
        raise AekitError(
            f"centers_init must have shape ({k}, {d}), got {tuple(c.shape)}"
        )
    if not torch.isfinite(c).all():
        raise AekitError("centers_init holds NaN or infinite values")
    return c.clone()


def _check_dec(x, k, epochs, batch_size, lr, gamma, decoder) -> None:
    if not isinstance(x, torch.Tensor) or len(x) == 0:
        raise AekitError("DEC needs the inputs as a non-empty tensor")
    if not torch.isfinite(x).all():
        raise AekitError("DEC inputs hold NaN or infinite values")
    _check_k(k, len(x))
    if epochs < 1 or batch_size < 1:
        raise AekitError(
            f"epochs and batch_size must be >= 1, got {epochs}, {batch_size}"
        )
    if not (lr > 0 and math.isfinite(lr)):
        raise AekitError(f"lr must be positive, got {lr}")
    if gamma < 0:
        raise AekitError(f"gamma must be >= 0, got {gamma}")
    if gamma > 0 and decoder is None:
        raise AekitError("IDEC (gamma > 0) needs a decoder")


# -- pictures --------------------------------------------------------------------
def plot_cluster_map(
    xy: np.ndarray,
    labels: np.ndarray,
    *,
    prototypes: Any = None,
    true_labels: np.ndarray | None = None,
    title: str = "clusters",
) -> Figure:
    """Clusters on a 2-D map (N, 2), numbered at their medians; with `true_labels`, a
    second map coloured by class; with `prototypes` (k images (k, C, H, W) in [0, 1]
    or k vectors (k, D), e.g. decoded centres), one thumbnail per cluster alongside."""
    xy, labels = np.asarray(xy, dtype=np.float64), np.asarray(labels).reshape(-1)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) != len(labels):
        raise AekitError(f"the map needs (N, 2) points and N labels, got {xy.shape}")
    protos = None if prototypes is None else as_numpy(prototypes)
    k = int(labels.max()) + 1 if len(labels) else 0
    if protos is not None and len(protos) < k:
        raise AekitError(f"{len(protos)} prototypes for {k} clusters")
    maps = 2 if true_labels is not None else 1
    thumbs = 0 if protos is None else len(protos)
    rows = max(1, math.ceil(thumbs / 2))
    fig = Figure(
        figsize=(6.0 * maps + (2.6 if thumbs else 0), 5.6), layout="constrained"
    )
    grid = fig.add_gridspec(rows, maps * 3 + (2 if thumbs else 0))
    ax = fig.add_subplot(grid[:, 0:3])
    cmap = colormaps["tab10" if k <= 10 else "tab20"]
    _scatter(ax, xy, labels, f"{title}: {k} clusters", lambda j: cmap(j % cmap.N))
    if true_labels is not None:  # each class in the colour of its matched cluster
        truth = np.asarray(true_labels).reshape(-1)
        to_cluster = {c: m for m, c in cluster_matching(truth, labels).items()}
        _scatter(
            fig.add_subplot(grid[:, 3:6]),
            xy,
            truth,
            "classes (in their matched cluster's colour)",
            lambda c: cmap(to_cluster[c] % cmap.N) if c in to_cluster else "0.6",
            numbered=False,
        )
    for j in range(thumbs):
        tax = fig.add_subplot(grid[j // 2, maps * 3 + j % 2])
        _prototype(tax, protos[j], cmap(j % cmap.N))
        tax.set_title(f"{j} ({int((labels == j).sum())})", fontsize=8, pad=2)
    return fig


def _scatter(ax, xy, labels, title, color, *, numbered=True) -> None:
    size = float(np.clip(4000 / max(len(xy), 1), 3, 30))
    for label in np.unique(labels):
        at = labels == label
        ax.scatter(*xy[at].T, s=size, alpha=0.6, color=color(label), linewidths=0)
        if numbered:
            ax.text(
                *np.median(xy[at], 0),
                str(label),
                fontsize=11,
                weight="bold",
                ha="center",
                va="center",
            )
    ax.set_title(title, fontsize=12)
    ax.set_xticks([])
    ax.set_yticks([])


def _prototype(ax, proto: np.ndarray, color) -> None:
    if proto.ndim == 3:  # (C, H, W) image
        grid = image_grid(proto[None], ncol=1, pad=0)
        ax.imshow(
            grid if grid.shape[-1] == 3 else grid[..., 0],
            cmap="gray",
            vmin=0,
            vmax=1,
            interpolation="nearest",
        )
    else:
        ax.plot(proto.reshape(-1), color=color, linewidth=1)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_color(color)
        side.set_linewidth(2)


def plot_confusion(
    labels_true, labels_pred, class_names: Sequence[str] | None = None
) -> Figure:
    """Counts of class (rows) by cluster (columns), each cluster in the column of the
    class it was matched to; unmatched clusters follow on the right."""
    classes, clusters, counts = _contingency(labels_true, labels_pred)
    matching = cluster_matching(labels_true, labels_pred)
    by_class = {c: m for m, c in matching.items()}
    order = [by_class[c] for c in classes if c in by_class]
    order += [m for m in clusters if m not in matching]
    where = {m: i for i, m in enumerate(clusters)}
    table = counts[[where[m] for m in order]].T  # (classes, clusters)
    fig = Figure(
        figsize=(1.0 + 0.55 * len(order), 0.8 + 0.5 * len(classes)),
        layout="constrained",
    )
    ax = fig.subplots()
    ax.imshow(table, cmap="Blues", aspect="auto")
    big = table.max() / 2 if table.size else 0
    for (r, c), v in np.ndenumerate(table):
        ax.text(
            c,
            r,
            str(v),
            ha="center",
            va="center",
            fontsize=8,
            color="white" if v > big else "black",
        )
    names = [
        class_names[int(c)] if class_names is not None else str(c) for c in classes
    ]
    ax.set_yticks(range(len(classes)), names)
    ax.set_xticks(range(len(order)), [str(m) for m in order])
    ax.set_ylabel("class")
    ax.set_xlabel("cluster (matched)")
    acc = cluster_accuracy(labels_true, labels_pred)
    ax.set_title(f"accuracy {acc:.3f} after matching", fontsize=12)
    return fig
