"""Image arrays to grids and PNG files, with numpy and Pillow alone (no torchvision)."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np
import torch

from .io import write_bytes

LAYER = "base"  # below every layer: any layer may import it


def as_numpy(images: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(images, torch.Tensor):
        return images.detach().float().cpu().numpy()
    return np.asarray(images, dtype=np.float32)


def image_grid(
    images: torch.Tensor | np.ndarray,
    ncol: int | None = None,
    pad: int = 1,
    pad_value: float = 1.0,
) -> np.ndarray:
    """(N, C, H, W) values in [0, 1] -> one (H', W', C) array, row-major, padded."""
    a = np.clip(as_numpy(images), 0.0, 1.0)
    n, c, h, w = a.shape
    ncol = ncol or math.ceil(math.sqrt(n))
    nrow = math.ceil(n / ncol)
    grid = np.full(
        (nrow * (h + pad) + pad, ncol * (w + pad) + pad, c), pad_value, np.float32
    )
    for i in range(n):
        r, k = divmod(i, ncol)
        top, left = pad + r * (h + pad), pad + k * (w + pad)
        grid[top : top + h, left : left + w] = a[i].transpose(1, 2, 0)
    return grid


def to_uint8(image: np.ndarray) -> np.ndarray:
    """(H, W, C) or (C, H, W) in [0, 1] -> uint8, (H, W) or (H, W, 3)."""
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[-1] not in (1, 3, 4):
        a = a.transpose(1, 2, 0)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    return (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def png_bytes(image: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buf, format="PNG")
    return buf.getvalue()


def save_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    return write_bytes(path, png_bytes(image))
