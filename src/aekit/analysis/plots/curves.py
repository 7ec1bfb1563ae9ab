"""Line plots: training curves per loss term, and interpolation smoothness."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

PER_ROW = 3  # loss-term panels per row
FIRST = ("loss", "recon", "kl")  # panels in this order, other terms after them


def plot_history(
    columns: Mapping[str, Sequence[float]],
    *,
    title: str,
    terms: Mapping[str, str] | None = None,
    best_epoch: int | None = None,
    ylabel: str = "loss",
) -> Figure:
    """One panel per loss term with its train_* and val_* columns against `epoch`;
    `terms` maps a term to its panel title, in the order to draw them."""
    epochs = np.asarray(columns["epoch"], dtype=float)
    names = list(terms) if terms else history_terms(columns)
    ncol = min(PER_ROW, len(names))
    nrow = -(-len(names) // ncol)
    fig = Figure(figsize=(4.3 * ncol + 0.4, 3.4 * nrow + 0.6), layout="constrained")
    axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
    marker = "o" if len(epochs) <= 30 else None
    for ax, name in zip(axes, names, strict=False):
        for split, style in (("train", "-"), ("val", "--")):
            if f"{split}_{name}" in columns:
                y = np.asarray(columns[f"{split}_{name}"], dtype=float)
                label = "training" if split == "train" else "validation"
                ax.plot(epochs, y, style, marker=marker, markersize=3, label=label)
        if best_epoch is not None:
            ax.axvline(best_epoch, color="grey", ls=":", lw=1, label="best epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title((terms or {}).get(name, name), fontsize=11)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=12)
    return fig


def history_terms(columns: Mapping[str, Sequence[float]]) -> list[str]:
    """Loss terms logged with a train_ or val_ prefix: the total, reconstruction and KL
    first, then the rest in column order; a term equal to the total loss in every row
    (a plain AE's reconstruction) is left out."""
    terms: list[str] = []
    for key in columns:
        split, _, term = key.partition("_")
        if split in ("train", "val") and term and term not in terms:
            terms.append(term)
    terms.sort(key=lambda t: FIRST.index(t) if t in FIRST else len(FIRST))
    return [t for t in terms if t == "loss" or not _same_as_loss(columns, t)]


def _same_as_loss(columns: Mapping[str, Sequence[float]], term: str) -> bool:
    return all(
        list(columns.get(f"{s}_{term}", [])) == list(columns.get(f"{s}_loss", []))
        for s in ("train", "val")
    )


def plot_smoothness(
    changes: Mapping[str, Mapping[str, np.ndarray]], *, title: str, ylabel: str
) -> Figure:
    """Mean change between neighbouring frames at each step of a path: one colour per
    entry (a run), one line style per path kind. A smooth path is flat, a jump is a
    spike; the legend gives the mean and the largest step over the mean (1 is even)."""
    fig = Figure(figsize=(8.5, 4.6), layout="constrained")
    ax = fig.subplots()
    for k, (name, paths) in enumerate(changes.items()):
        styles = ("-", "--", ":")
        for (method, change), style in zip(paths.items(), styles, strict=False):
            c = np.asarray(change, dtype=float)
            even = c.max() / c.mean() if c.mean() > 0 else float("nan")
            ax.plot(
                np.arange(1, len(c) + 1),
                c,
                style,
                color=f"C{k}",
                marker="o",
                markersize=4,
                label=f"{name}, {method}: mean {c.mean():.3g}, max/mean {even:.2f}",
            )
    ax.set_xlabel("step between neighbouring frames")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="lower right")
    ax.set_title(title, fontsize=12)
    return fig
