"""Pictures of clusters: the clusters on a 2-D map with decoded prototypes, and the
confusion of classes by matched clusters."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from ...data.pixels import as_numpy, image_grid
from ...errors import AekitError
from ..clustering import cluster_accuracy, cluster_matching, contingency


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
    classes, clusters, counts = contingency(labels_true, labels_pred)
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
