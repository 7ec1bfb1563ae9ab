"""Plots of sequences: series windows as lines, piano rolls as images, and a long
series with its reconstruction, anomaly scores and flagged spans."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from ...data.pixels import as_numpy

Sequences = torch.Tensor | np.ndarray  # (N, C, T)
MAX_COLUMNS = 10  # cells per row of a grid
MAX_CHANNELS = 8  # lines per cell; more channels are cut for legibility


def plot_sequence_grid(
    rows: Sequence[Sequences],
    labels: Sequence[str],
    *,
    title: str,
    rolls: bool = False,
    overlay: Sequences | None = None,
    column_labels: Sequence[str] | None = None,
    lowest_pitch: int = 0,
) -> Figure:
    """One row per entry of `rows` (K, C, T), one cell per sequence: a piano roll
    (pitch up, time right) when `rolls`, else each channel as a line. `overlay`
    (shaped like rows[0]) is drawn dashed over the first row: reconstructions."""
    arrays = [as_numpy(r)[:MAX_COLUMNS] for r in rows]
    k = max(len(a) for a in arrays)
    fig = Figure(figsize=(1.6 * k + 1.2, 1.5 * len(arrays) + 0.8), layout="constrained")
    axes = fig.subplots(len(arrays), k, squeeze=False)
    lo, hi = _range(arrays + ([as_numpy(overlay)] if overlay is not None else []))
    for r, (a, label) in enumerate(zip(arrays, labels, strict=True)):
        for j in range(k):
            ax = axes[r, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= len(a):
                ax.axis("off")
                continue
            if rolls:
                _roll(ax, a[j], lowest_pitch)
            else:
                _lines(ax, a[j], lo, hi)
                if overlay is not None and r == 0:
                    _lines(ax, as_numpy(overlay)[j], lo, hi, dashed=True)
            if r == 0 and column_labels is not None and j < len(column_labels):
                ax.set_title(column_labels[j], fontsize=8)
        axes[r, 0].set_ylabel(label, fontsize=9)
    fig.suptitle(title, fontsize=11)
    return fig


def _range(arrays: Sequence[np.ndarray]) -> tuple[float, float]:
    lo = min(float(a.min()) for a in arrays)
    hi = max(float(a.max()) for a in arrays)
    pad = 0.05 * (hi - lo or 1.0)
    return lo - pad, hi + pad


def _lines(ax, x: np.ndarray, lo: float, hi: float, *, dashed: bool = False) -> None:
    for c, channel in enumerate(x[:MAX_CHANNELS]):
        ax.plot(
            channel,
            color=f"C{c}",
            linestyle="--" if dashed else "-",
            linewidth=0.9,
            alpha=0.9 if dashed else 0.7,
        )
    ax.set_ylim(lo, hi)


def _roll(ax, roll: np.ndarray, lowest_pitch: int) -> None:
    ax.imshow(
        roll,
        origin="lower",
        aspect="auto",
        cmap="magma",
        vmin=0,
        vmax=1,
        interpolation="nearest",
        extent=(0, roll.shape[1], lowest_pitch, lowest_pitch + roll.shape[0]),
    )


def plot_series_scores(
    series: Sequence[np.ndarray],
    reconstructions: Sequence[np.ndarray],
    scores: Sequence[np.ndarray],
    flags: Sequence[np.ndarray],
    threshold: float,
    *,
    names: Sequence[str],
    title: str,
    labels: Sequence[np.ndarray | None] | None = None,
) -> Figure:
    """Per series: its channels (solid) and reconstruction (dashed) above its step
    scores and the threshold; flagged steps shaded red, labelled anomalies (when
    known) marked along the bottom in black."""
    n = len(series)
    fig = Figure(figsize=(11, 3.6 * n + 0.6), layout="constrained")
    axes = fig.subplots(2 * n, 1, squeeze=False, height_ratios=[2, 1] * n)[:, 0]
    for i in range(n):
        top, bottom = axes[2 * i], axes[2 * i + 1]
        x, x_hat = np.asarray(series[i]), np.asarray(reconstructions[i])
        for c in range(min(x.shape[1], MAX_CHANNELS)):
            top.plot(x[:, c], color=f"C{c}", linewidth=0.8, label=f"channel {c}")
            top.plot(x_hat[:, c], color=f"C{c}", linewidth=0.8, linestyle="--")
        bottom.plot(scores[i], color="black", linewidth=0.8, label="score")
        bottom.axhline(threshold, color="red", linewidth=0.8, label="threshold")
        for ax in (top, bottom):
            for start, end in spans(flags[i]):
                ax.axvspan(start - 0.5, end - 0.5, color="red", alpha=0.2, lw=0)
        truth = None if labels is None else labels[i]
        if truth is not None:
            for start, end in spans(np.asarray(truth) != 0):
                bottom.axvspan(start - 0.5, end - 0.5, ymax=0.06, color="black")
        top.set_title(f"{names[i]}: series (solid) and reconstruction (dashed)")
        top.set_xlim(0, len(x) - 1)
        bottom.set_xlim(0, len(x) - 1)
        bottom.set_ylabel("score")
        bottom.set_xlabel("time step")
        bottom.legend(loc="upper right", fontsize=8)
    fig.suptitle(title, fontsize=11)
    return fig


def spans(flags: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True as (first, one past the last) index pairs."""
    f = np.concatenate([[False], np.asarray(flags, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(f.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))
