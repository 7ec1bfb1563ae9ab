"""Plot functions: data in, matplotlib Figure out; the caller saves it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from .images import as_numpy, image_grid


def plot_image_rows(
    rows: Sequence[torch.Tensor | np.ndarray], labels: Sequence[str], *, title: str
) -> Figure:
    """One labelled row of images per entry of `rows`, each (N, C, H, W) in [0, 1]."""
    n = len(as_numpy(rows[0]))
    fig = Figure(
        figsize=(max(6.0, 1.0 * n + 1.5), 1.1 * len(rows) + 0.9), layout="constrained"
    )
    axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
    for ax, images, label in zip(axes, rows, labels, strict=True):
        grid = image_grid(images, ncol=n)
        ax.imshow(
            grid if grid.shape[-1] == 3 else grid[..., 0], cmap="gray", vmin=0, vmax=1
        )
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=11)
    fig.suptitle(title, fontsize=12)
    return fig


def plot_image_grid(
    images: torch.Tensor | np.ndarray, *, title: str, ncol: int = 8
) -> Figure:
    grid = image_grid(images, ncol=ncol)
    nrow = -(-len(as_numpy(images)) // ncol)
    fig = Figure(figsize=(ncol * 0.9 + 0.4, nrow * 0.9 + 0.8), layout="constrained")
    ax = fig.subplots()
    ax.imshow(
        grid if grid.shape[-1] == 3 else grid[..., 0], cmap="gray", vmin=0, vmax=1
    )
    ax.set_axis_off()
    ax.set_title(title, fontsize=12)
    return fig


def plot_vector_rows(
    rows: Sequence[torch.Tensor | np.ndarray], labels: Sequence[str], *, title: str
) -> Figure:
    """Vectors (N, D) as heat-map rows, one panel per entry (e.g. input, output)."""
    arrays = [as_numpy(r) for r in rows]
    lo = min(float(a.min()) for a in arrays)
    hi = max(float(a.max()) for a in arrays)
    fig = Figure(
        figsize=(8, 1.0 + 0.35 * len(arrays[0]) * len(arrays)), layout="constrained"
    )
    axes = fig.subplots(len(arrays), 1, squeeze=False)[:, 0]
    for ax, a, label in zip(axes, arrays, labels, strict=True):
        image = ax.imshow(
            a, aspect="auto", cmap="viridis", vmin=lo, vmax=hi, interpolation="nearest"
        )
        ax.set_ylabel(f"{label}\nexample")
        ax.set_xlabel("feature")
    fig.colorbar(image, ax=list(axes), label="value (model units)")
    fig.suptitle(title, fontsize=12)
    return fig
