"""Semantic segmentation: palettes, mask PNGs, overlays, class weights and scores.

Scores come from one confusion matrix over every labelled pixel (pixels holding the
ignore index are skipped): pixel accuracy = correct / labelled; the IoU of class c is
TP / (TP + FP + FN); mIoU averages the IoU of the classes that occur in the truth or
the prediction (a class in neither has no IoU). Median-frequency class weights are
those SegNet trains with (Eigen & Fergus 2015, https://arxiv.org/abs/1411.4734):
w_c = median(f) / f_c, f_c = pixels of class c / pixels of the images holding c.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

from ..errors import AekitError

LAYER = "data"  # lower than its folder: data code imports it


def default_palette(n: int) -> np.ndarray:
    """(n, 3) uint8 colours of the PASCAL VOC colour map: 0 black, 1 dark red, ..."""
    palette = np.zeros((n, 3), np.uint8)
    for i in range(n):
        c, r, g, b = i, 0, 0, 0
        for shift in range(7, -1, -1):  # the bits of i, spread over R, G and B
            r |= ((c >> 0) & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        palette[i] = (r, g, b)
    return palette


def class_palette(n: int, masks_palette: np.ndarray | None = None) -> np.ndarray:
    """The masks' own palette when they had one, else the VOC colour map."""
    if masks_palette is not None and len(masks_palette) >= n:
        return np.asarray(masks_palette[:n], dtype=np.uint8)
    return default_palette(n)


def mask_png_bytes(ids: np.ndarray, palette: np.ndarray) -> bytes:
    """(H, W) class ids -> a palette PNG whose pixel values are the class ids."""
    from PIL import Image

    if ids.min(initial=0) < 0 or ids.max(initial=0) > 255:
        raise AekitError("a palette PNG holds class ids 0-255 only")
    image = Image.fromarray(ids.astype(np.uint8), mode="P")
    flat = np.zeros((256, 3), np.uint8)
    flat[: len(palette)] = palette[:256]
    image.putpalette(flat.reshape(-1).tolist())
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def overlay(
    image: np.ndarray, ids: np.ndarray, palette: np.ndarray, *, alpha: float = 0.5
) -> np.ndarray:
    """(H, W, 3) uint8 photo tinted by class colour; black classes leave it as is."""
    if not 0.0 <= alpha <= 1.0:
        raise AekitError(f"overlay alpha must be in [0, 1], got {alpha}")
    rgb = np.asarray(image, dtype=np.float32)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=-1)
    colours = palette[np.clip(ids, 0, len(palette) - 1)].astype(np.float32)
    tinted = (ids < len(palette)) & (colours.sum(-1) > 0)  # VOC: background is black
    out = np.where(tinted[..., None], (1 - alpha) * rgb + alpha * colours, rgb)
    return (out + 0.5).clip(0, 255).astype(np.uint8)


def confusion_matrix(
    predicted: np.ndarray, truth: np.ndarray, n_classes: int, ignore_index: int = 255
) -> np.ndarray:
    """(K, K) int64 counts, rows the true class and columns the predicted one."""
    p, t = np.asarray(predicted).reshape(-1), np.asarray(truth).reshape(-1)
    if p.shape != t.shape:
        raise AekitError(f"{p.size} predicted pixels for {t.size} true ones")
    keep = t != ignore_index
    p, t = p[keep].astype(np.int64), t[keep].astype(np.int64)
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        raise AekitError(
            f"true class ids must lie in 0-{n_classes - 1} (or be the ignore "
            f"index {ignore_index}); found {int(t.min())}-{int(t.max())}"
        )
    if p.size and (p.min() < 0 or p.max() >= n_classes):
        raise AekitError(f"predicted class ids must lie in 0-{n_classes - 1}")
    return np.bincount(t * n_classes + p, minlength=n_classes**2).reshape(
        n_classes, n_classes
    )


def segmentation_scores(
    confusion: np.ndarray, classes: Sequence[str] | None = None
) -> dict[str, float | None]:
    """pixel_accuracy, miou and iou_<class> (None for a class nowhere to be seen)."""
    conf = np.asarray(confusion, dtype=np.float64)
    total = conf.sum()
    if total == 0:
        raise AekitError("no labelled pixels to score (all hold the ignore index)")
    tp = np.diag(conf)
    union = conf.sum(0) + conf.sum(1) - tp
    names = list(classes) if classes is not None else [str(i) for i in range(len(conf))]
    iou = [float(t / u) if u > 0 else None for t, u in zip(tp, union, strict=True)]
    seen = [v for v in iou if v is not None]
    scores: dict[str, float | None] = {
        "pixel_accuracy": float(tp.sum() / total),
        "miou": float(np.mean(seen)),
    }
    scores |= {f"iou_{name}": v for name, v in zip(names, iou, strict=True)}
    return scores


def median_frequency_weights(
    masks: Sequence[np.ndarray] | np.ndarray, n_classes: int, ignore_index: int = 255
) -> tuple[float, ...]:
    """SegNet's class balancing; a class absent from every mask gets weight 0."""
    pixels = np.zeros(n_classes)
    present = np.zeros(n_classes)  # labelled pixels of the masks holding each class
    for ids in masks:
        ids = np.asarray(ids)
        counts = np.bincount(ids[ids != ignore_index].reshape(-1), minlength=n_classes)
        counts = counts[:n_classes]
        pixels += counts
        present += (counts > 0) * counts.sum()
    seen = pixels > 0
    if not seen.any():
        raise AekitError("no labelled pixels to weight classes by")
    freq = np.where(seen, pixels / np.maximum(present, 1), 0.0)
    median = float(np.median(freq[seen]))
    return tuple(float(median / f) if f > 0 else 0.0 for f in freq)
