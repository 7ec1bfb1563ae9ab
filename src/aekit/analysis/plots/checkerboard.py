"""Checkerboard artefacts of transposed convolutions (Odena, Dumoulin & Olah 2016,
Distill, "Deconvolution and Checkerboard Artifacts", https://distill.pub/2016/deconv-checkerboard/).

A constant input through a transposed convolution with constant weights shows how
many kernel taps land on each output pixel: with kernel 3 and stride 2 the overlap
is uneven (1, 2, 4 taps in a checkerboard), with kernel 4 and stride 2 it is even,
and nearest-neighbour upsampling followed by a convolution is even by construction.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from ...errors import AekitError

CASES = (  # (title, kernel, padding, output_padding), stride 2; None: nearest + conv
    ("transposed conv, kernel 3, stride 2", 3, 1, 1),
    ("transposed conv, kernel 4, stride 2", 4, 1, 0),
    ("nearest x2, then conv 3x3", None, 1, 0),
)


def overlap_counts(
    size: int, kernel: int | None, padding: int, extra: int
) -> np.ndarray:
    """Taps per output pixel when a constant (size, size) input is doubled."""
    x = torch.ones(1, 1, size, size)
    if kernel is None:
        up = F.interpolate(x, scale_factor=2, mode="nearest")
        out = F.conv2d(up, torch.ones(1, 1, 3, 3), padding=padding)
    else:
        w = torch.ones(1, 1, kernel, kernel)
        out = F.conv_transpose2d(x, w, stride=2, padding=padding, output_padding=extra)
    return out[0, 0].numpy()  # (2 * size, 2 * size)


def plot_checkerboard(
    *, size: int = 8, title: str = "checkerboard artefacts"
) -> Figure:
    """Overlap of the three ways to double a constant image, one panel each."""
    if size < 3:
        raise AekitError(f"size must be at least 3, got {size}")
    fig = Figure(figsize=(4.0 * len(CASES), 4.3), layout="constrained")
    for ax, (name, kernel, padding, extra) in zip(
        fig.subplots(1, len(CASES)), CASES, strict=True
    ):
        counts = overlap_counts(size, kernel, padding, extra)
        ax.imshow(counts, cmap="magma", vmin=0, interpolation="nearest")
        inner = counts[2:-2, 2:-2]
        ax.set_title(
            f"{name}\ntaps per pixel {inner.min():g}-{inner.max():g} inside",
            fontsize=10,
        )
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=12)
    return fig
