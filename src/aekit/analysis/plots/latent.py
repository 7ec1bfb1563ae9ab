"""Plots of the latent space: codes as a labelled scatter, and a decoded code grid."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from ...data.pixels import image_grid
from .grids import Images, show_grid

MAX_TICKS = 8  # tick labels per manifold axis


def plot_latent_scatter(
    points: np.ndarray,
    labels: np.ndarray | None = None,
    classes: Sequence[str] | None = None,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
) -> Figure:
    """2-D points (N, 2) coloured by integer label, with a legend naming each class
    (a colour bar when there are more than 20); one colour without labels."""
    points = np.asarray(points, dtype=np.float64)
    fig = Figure(figsize=(8.0, 6.4), layout="constrained")
    ax = fig.subplots()
    size = float(np.clip(4000 / max(len(points), 1), 5, 30))
    if labels is None:
        ax.scatter(*points.T, s=size, alpha=0.7, color="tab:blue", linewidths=0)
    else:
        _labelled(fig, ax, points, np.asarray(labels), classes, size)
    ax.set_xlabel(xlabel, fontsize=11)
    ax.set_ylabel(ylabel, fontsize=11)
    ax.set_title(title, fontsize=12)
    ax.grid(alpha=0.3)
    return fig


def _labelled(fig, ax, points, labels, classes, size) -> None:
    present = np.unique(labels)
    if len(present) > 20:
        dots = ax.scatter(
            *points.T, c=labels, cmap="viridis", s=size, alpha=0.7, linewidths=0
        )
        fig.colorbar(dots, ax=ax, label="label")
        return
    cmap = colormaps["tab10" if len(present) <= 10 else "tab20"]
    for k, label in enumerate(present):
        at = labels == label
        name = classes[label] if classes and 0 <= label < len(classes) else label
        ax.scatter(
            *points[at].T, s=size, alpha=0.7, color=cmap(k), linewidths=0, label=name
        )
    ax.legend(
        title="label",
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
        markerscale=max(1.0, 6 / np.sqrt(size)),
        frameon=False,
        fontsize=10,
    )


def plot_manifold(
    images: Images,
    u: np.ndarray,
    v: np.ndarray,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
) -> Figure:
    """An n x n grid of decoded codes, rows top to bottom at v descending and columns
    at u ascending, drawn as one seamless image with the code values on its axes."""
    n = len(u)
    grid = image_grid(images, ncol=n, pad=0)
    h, w = grid.shape[0] // len(v), grid.shape[1] // n
    fig = Figure(figsize=(8.0, 8.4), layout="constrained")
    ax = fig.subplots()
    show_grid(ax, grid)
    every = -(-n // MAX_TICKS)
    cols = range(0, n, every)
    ax.set_xticks([w * (k + 0.5) - 0.5 for k in cols], [f"{u[k]:.2g}" for k in cols])
    rows = range(0, len(v), every)
    ax.set_yticks(
        [h * (r + 0.5) - 0.5 for r in rows], [f"{v[::-1][r]:.2g}" for r in rows]
    )
    ax.set_xlabel(xlabel, fontsize=11)
    ax.set_ylabel(ylabel, fontsize=11)
    ax.set_title(title, fontsize=12)
    return fig
