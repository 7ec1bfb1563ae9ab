"""Pictures of a sparse autoencoder: the feature-density histogram (log10 firing
frequency per latent, as in Bricken et al. 2023 and Gao et al. 2024), each leading
latent's top inputs beside its decoder direction, and the L0-FVU frontier of runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ...data.pixels import as_numpy, image_grid
from ..sae_metrics import DENSITY_BINS
from .grids import fit_suptitle, show_grid
from .sequences import MAX_CHANNELS

FAMILY_STYLE = {  # colour and marker per family, the same on every frontier
    "relu-l1": ("#1f77b4", "o"),
    "topk": ("#d62728", "s"),
    "batch-topk": ("#2ca02c", "^"),
    "jumprelu": ("#9467bd", "D"),
}


def plot_feature_density(frequency: np.ndarray, *, title: str) -> Figure:
    """Latents counted by log10 of the share of inputs they fire on; the latents
    that never fire (dead) as a bar of their own at the left."""
    f = np.asarray(frequency, dtype=np.float64)
    fired = f[f > 0]
    edges = DENSITY_BINS
    counts, _ = np.histogram(np.log10(fired), bins=edges)
    fig = Figure(figsize=(7.5, 3.6), layout="constrained")
    ax = fig.subplots()
    width = edges[1] - edges[0]
    ax.bar(edges[:-1], counts, width=width, align="edge", color="#3b6ea8")
    dead = int((f == 0).sum())
    ax.bar(edges[0] - 1.5 * width, dead, width=width, color="#a33", label="dead")
    ticks = [edges[0] - 1.5 * width, *edges[::2]]
    ax.set_xticks(ticks, ["dead", *(f"{e:g}" for e in edges[::2])])
    ax.set_xlabel("log10 feature density (share of inputs a latent fires on)")
    ax.set_ylabel("latents")
    ax.set_title(
        f"{title}: {len(f)} latents, {dead} dead, median density "
        f"{np.median(fired) if len(fired) else 0:.2g}",
        fontsize=11,
    )
    return fig


def plot_image_features(
    directions: np.ndarray,
    tops: Sequence[np.ndarray],
    labels: Sequence[str],
    *,
    title: str,
) -> Figure:
    """One row per latent: its decoder direction (grey is 0, lighter positive, as
    given in [0, 1]) then its top inputs (K, C, H, W) in [0, 1], strongest first."""
    k = max(1, max(len(t) for t in tops))
    shape = directions.shape[1:]
    rows = []
    for d, t in zip(directions, tops, strict=True):
        blank = np.ones((k - len(t), *shape), np.float32)
        gap = np.ones((1, *shape), np.float32)
        cells = [d[None], gap, as_numpy(t).reshape(-1, *shape), blank]
        rows.append(image_grid(np.concatenate(cells), ncol=k + 2))
    sep = np.ones((2, *rows[0].shape[1:]), np.float32)
    stacked = np.concatenate([p for r in rows for p in (r, sep)][:-1])
    width = 0.55 * (k + 2) + 2.2  # inches; the axes take 78% of it
    height = 0.78 * width * stacked.shape[0] / stacked.shape[1]  # the grid's aspect
    fig = Figure(figsize=(width, height + 0.9))
    ax = fig.add_axes((0.2, 0.02, 0.78, height / (height + 0.9)))
    show_grid(ax, stacked)
    step = rows[0].shape[0] + len(sep)
    ax.set_yticks([step * r + rows[0].shape[0] / 2 for r in range(len(rows))])
    ax.set_yticklabels(list(labels), fontsize=8)
    ax.set_xticks([stacked.shape[1] / (k + 2) * 0.5], ["direction"], fontsize=8)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    fit_suptitle(fig, title, fontsize=11)
    return fig


def plot_sequence_features(
    directions: np.ndarray,
    tops: Sequence[np.ndarray],
    labels: Sequence[str],
    *,
    title: str,
) -> Figure:
    """One row per latent: its top windows (K, C, T) overlaid, the strongest
    darkest, then its decoder direction (C, T) as curves."""
    fig = Figure(figsize=(8.0, 1.3 * len(labels) + 0.8), layout="constrained")
    axes = fig.subplots(len(labels), 2, squeeze=False, width_ratios=(2, 1))
    for r, (d, t, label) in enumerate(zip(directions, tops, labels, strict=True)):
        windows = as_numpy(t)
        for j, w in enumerate(windows):
            alpha = 1.0 - 0.8 * j / max(1, len(windows))
            for ch in w[:MAX_CHANNELS]:
                axes[r, 0].plot(ch, color="#3b6ea8", alpha=alpha, lw=0.9)
        for ch in np.asarray(d)[:MAX_CHANNELS]:
            axes[r, 1].plot(ch, color="#a33", lw=1.2)
        axes[r, 1].axhline(0, color="#bbb", lw=0.6)
        axes[r, 0].set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
        for ax in axes[r]:
            ax.tick_params(labelsize=7)
    axes[0, 0].set_title("top windows (model units)", fontsize=9)
    axes[0, 1].set_title("decoder direction", fontsize=9)
    fit_suptitle(fig, title, fontsize=11)
    return fig


def plot_l0_fvu(points: Sequence[Mapping[str, object]], *, title: str) -> Figure:
    """Each run's (L0, FVU) point, coloured by family, a family's runs joined in
    order of L0; lower and further left is better (the sparsity-fidelity frontier)."""
    fig = Figure(figsize=(7.0, 4.6), layout="constrained")
    ax = fig.subplots()
    families = list(dict.fromkeys(str(p["family"]) for p in points))
    for family in families:
        mine = sorted(
            (p for p in points if p["family"] == family),
            key=lambda p: float(p["l0"]),  # type: ignore[arg-type]
        )
        colour, marker = FAMILY_STYLE.get(family, ("#555", "x"))
        l0 = [float(p["l0"]) for p in mine]  # type: ignore[arg-type]
        fvu = [float(p["fvu"]) for p in mine]  # type: ignore[arg-type]
        ax.plot(l0, fvu, color=colour, marker=marker, label=family, lw=1.2)
        for p, u, v in zip(mine, l0, fvu, strict=True):
            ax.annotate(
                str(p["name"]), (u, v), fontsize=7, xytext=(4, 3),
                textcoords="offset points",
            )  # fmt: skip
    if all(float(p["l0"]) > 0 for p in points):  # type: ignore[arg-type]
        ax.set_xscale("log")
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(plain)
        ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.set_xlabel("L0 (mean active latents per input)")
    ax.set_ylabel("fraction of variance unexplained")
    ax.grid(alpha=0.3)
    ax.legend(title="family", fontsize=8)
    ax.set_title(title, fontsize=11)
    return fig
