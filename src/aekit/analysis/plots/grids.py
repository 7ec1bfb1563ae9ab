"""Plots of many images or vectors at once: labelled rows, grids, panels."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from ...data.pixels import as_numpy, image_grid

Images = torch.Tensor | np.ndarray  # (N, C, H, W), values in [0, 1]


def fit_suptitle(fig: Figure, title: str, *, fontsize: float = 12) -> None:
    """The figure's title, each line wrapped to the figure's width: a long title (a
    run name, three strengths' worth of explanation) is never clipped at the sides."""
    # ~0.6 em per character: DejaVu Sans averages less, so a wrapped line fits
    chars = max(20, int(fig.get_figwidth() * 72 / (0.6 * fontsize)))
    lines = [
        part
        for line in title.split("\n")
        for part in (textwrap.wrap(line, chars, break_on_hyphens=False) or [""])
    ]
    fig.suptitle("\n".join(lines), fontsize=fontsize)


def show_grid(ax, grid: np.ndarray) -> None:
    """Draw an (H, W, C) grid from image_grid: colour as is, one channel in grey."""
    ax.imshow(
        grid if grid.shape[-1] == 3 else grid[..., 0],
        cmap="gray",
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )


def plot_image_rows(
    rows: Sequence[Images],
    labels: Sequence[str],
    *,
    title: str,
    column_labels: Sequence[str] | None = None,
) -> Figure:
    """One labelled row of images per entry of `rows`, each (N, C, H, W) in [0, 1];
    `column_labels` name the columns under the last row. One image, one axes: cheap
    to draw however many rows there are."""
    n = len(as_numpy(rows[0]))
    grids = [image_grid(images, ncol=n) for images in rows]
    gap = np.ones((max(2, grids[0].shape[0] // 5), *grids[0].shape[1:]), np.float32)
    stacked = np.concatenate([part for g in grids for part in (g, gap)][:-1])
    fig = Figure(
        figsize=(max(6.0, 1.0 * n + 1.5), 1.1 * len(rows) + 0.9), layout="constrained"
    )
    ax = fig.subplots()
    show_grid(ax, stacked)
    step = grids[0].shape[0] + len(gap)
    ax.set_yticks([step * r + grids[0].shape[0] / 2 for r in range(len(rows))])
    ax.set_yticklabels(list(labels), fontsize=11)
    width = (stacked.shape[1] - 1) / n
    ax.set_xticks([width * (k + 0.5) for k in range(n)], list(column_labels or []))
    if column_labels is None:
        ax.set_xticks([])
    ax.tick_params(length=0, labelsize=10)
    for side in ax.spines.values():
        side.set_visible(False)
    fit_suptitle(fig, title)
    return fig


def plot_image_grid(images: Images, *, title: str, ncol: int = 8) -> Figure:
    grid = image_grid(images, ncol=ncol)
    nrow = -(-len(as_numpy(images)) // ncol)
    fig = Figure(figsize=(ncol * 0.9 + 0.4, nrow * 0.9 + 0.8), layout="constrained")
    ax = fig.subplots()
    show_grid(ax, grid)
    ax.set_axis_off()
    ax.set_title(title, fontsize=12)
    return fig


def plot_image_panels(
    panels: Sequence[Images], titles: Sequence[str], *, title: str, ncol: int = 6
) -> Figure:
    """Grids of images side by side, one titled panel per entry (e.g. samplers)."""
    nrow = max(-(-len(as_numpy(p)) // ncol) for p in panels)
    fig = Figure(
        figsize=(len(panels) * (ncol * 0.75 + 0.3), nrow * 0.75 + 1.2),
        layout="constrained",
    )
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, images, name in zip(axes, panels, titles, strict=True):
        show_grid(ax, image_grid(images, ncol=ncol))
        ax.set_axis_off()
        ax.set_title(name, fontsize=11)
    fit_suptitle(fig, title)
    return fig


def plot_vector_rows(
    rows: Sequence[Images],
    labels: Sequence[str],
    *,
    title: str,
    feature_names: Sequence[str] | None = None,
) -> Figure:
    """Vectors (N, D) as heat-map rows, one panel per entry (e.g. input, output);
    `feature_names` (D, e.g. a table's column names) label the feature axis."""
    arrays = [as_numpy(r) for r in rows]
    lo = min(float(a.min()) for a in arrays)
    hi = max(float(a.max()) for a in arrays)
    d = arrays[0].shape[1]
    if feature_names is not None and len(feature_names) != d:
        raise ValueError(f"{len(feature_names)} feature names for {d} features")
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
        if feature_names is not None:
            _name_features(ax, feature_names)
    fig.colorbar(image, ax=list(axes), label="value (model units)")
    fit_suptitle(fig, title)
    return fig


def _name_features(ax, names: Sequence[str], most: int = 40) -> None:
    """Column names under a heat map: all of them up to `most`, else every k-th."""
    step = -(-len(names) // most)
    ticks = list(range(0, len(names), step))
    ax.set_xticks(ticks, [str(names[i]) for i in ticks], rotation=60, ha="right")
    ax.tick_params(axis="x", labelsize=8)


def plot_vector_strips(
    strips: Sequence[Images],
    labels: Sequence[str],
    *,
    title: str,
    row_label: str = "step",
) -> Figure:
    """Compact heat maps, one panel per strip (rows, D): a vector run's interpolations,
    traversals, samples or edits, on one shared colour scale."""
    arrays = [as_numpy(s).reshape(len(s), -1) for s in strips]
    lo = min(float(a.min()) for a in arrays)
    hi = max(float(a.max()) for a in arrays)
    heights = [0.6 + 0.12 * len(a) for a in arrays]
    fig = Figure(figsize=(8, 0.9 + sum(heights)), layout="constrained")
    axes = fig.subplots(len(arrays), 1, squeeze=False, height_ratios=heights)[:, 0]
    for ax, a, label in zip(axes, arrays, labels, strict=True):
        image = ax.imshow(
            a, aspect="auto", cmap="viridis", vmin=lo, vmax=hi, interpolation="nearest"
        )
        ax.set_ylabel(f"{label}\n{row_label}", rotation=0, ha="right", va="center")
        ax.set_yticks([])
    axes[-1].set_xlabel("feature")
    fig.colorbar(image, ax=list(axes), label="value (model units)", shrink=0.8)
    fit_suptitle(fig, title)
    return fig
