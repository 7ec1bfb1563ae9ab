"""Figures rendered to pixels and composed into one: pictures side by side, stacked."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 100  # what save_figure writes; composed figures keep every source pixel
GAP = 24  # pixels between composed pictures
TITLE_PX = 48  # height of a composed figure's title band


def figure_pixels(fig: Figure, dpi: int = DPI) -> np.ndarray:
    """The figure as an (H, W, 3) uint8 array, exactly as a PNG at `dpi` holds it."""
    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def figure_png(fig: Figure, dpi: int = DPI) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, dpi=dpi, format="png")
    return buf.getvalue()


def compose(rows: Sequence[Sequence[Figure]], *, title: str) -> Figure:
    """Figures in rows under one title, kept at 1:1 pixels, each row centred.

    The rows with the most figures align their columns; a row with fewer figures
    (one wide picture above two maps) sets no column's width, else the wide picture
    would push the second map off to the right and leave a gap between the maps."""
    cells = [[figure_pixels(f) for f in row] for row in rows]
    ncol = max(len(r) for r in cells)
    full = [r for r in cells if len(r) == ncol]
    widths = [max(r[k].shape[1] for r in full) for k in range(ncol)]
    strips = []
    for row in cells:
        height = max(a.shape[0] for a in row)
        parts = []
        for k, a in enumerate(row):
            width = widths[k] if len(row) == ncol else a.shape[1]
            parts += [_pad(a, height, width), _blank(height, GAP)]
        strips += [np.concatenate(parts[:-1], axis=1)]
    width = max(s.shape[1] for s in strips)
    parts = []
    for s in strips:
        parts += [_centre(s, width), _blank(GAP, width)]
    canvas = np.concatenate(parts[:-1])
    h, w = canvas.shape[:2]
    fig = Figure(figsize=(w / DPI, (h + TITLE_PX) / DPI), dpi=DPI)
    ax = fig.add_axes((0.0, 0.0, 1.0, h / (h + TITLE_PX)))
    ax.imshow(canvas, interpolation="none")
    ax.set_axis_off()
    top = 1 - 0.5 * TITLE_PX / (h + TITLE_PX)
    fig.text(0.5, top, title, ha="center", va="center", fontsize=15)
    return fig


def _pad(a: np.ndarray, height: int, width: int) -> np.ndarray:
    out = np.full((height, width, 3), 255, np.uint8)
    out[: a.shape[0], : a.shape[1]] = a
    return out


def _centre(a: np.ndarray, width: int) -> np.ndarray:
    out = np.full((a.shape[0], width, 3), 255, np.uint8)
    left = (width - a.shape[1]) // 2
    out[:, left : left + a.shape[1]] = a
    return out


def _blank(height: int, width: int) -> np.ndarray:
    return np.full((height, width, 3), 255, np.uint8)
