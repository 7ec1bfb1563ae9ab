"""Uploaded or drawn images -> one model input, with the checks an open port needs.

Only common formats are parsed (PNG, JPEG, GIF, BMP, WebP), the pixel count is
checked before any pixel is decoded, and every parser error becomes one
`UploadError`. The image is converted to the run's channels, flattened onto white
where transparent, resized to the run's size, and scaled to [0, 1]; "auto" inverts
it when its border and the training images' border disagree on light or dark
(a dark digit on paper for a model of white digits on black). `fit` crops to the
ink and centres it in a 20/28 box, as MNIST was made.
"""

from __future__ import annotations

import io

import numpy as np

FORMATS = ["PNG", "JPEG", "GIF", "BMP", "WEBP"]
MAX_BYTES = 4 * 1024 * 1024  # an upload larger than this is refused unread
MAX_PIXELS = 4096 * 4096  # checked from the header, before decoding
INVERT = ("auto", "yes", "no")


class UploadError(ValueError):
    """An upload the explorer cannot use; the message is what the page shows."""


def read_image(
    data: bytes,
    shape: tuple[int, int, int],
    *,
    invert: str = "auto",
    fit: bool = False,
    dark_background: bool = True,
) -> tuple[np.ndarray, bool]:
    """Bytes -> (C, H, W) float32 in [0, 1] of `shape`, and whether it was inverted."""
    from PIL import Image, ImageOps

    if not data:
        raise UploadError("the upload is empty")
    if len(data) > MAX_BYTES:
        raise UploadError(f"the upload is larger than {MAX_BYTES // 2**20} MiB")
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
        w, h = image.size
        if w * h > MAX_PIXELS:
            raise UploadError(f"the image is {w}x{h}; at most 4096x4096 is accepted")
        image.seek(0)  # the first frame of an animation
        image = ImageOps.exif_transpose(image)
        image.load()
    except UploadError:
        raise
    except Exception as e:  # PIL raises many types for broken files; all mean bad
        raise UploadError(f"not a readable image ({', '.join(FORMATS)})") from e
    c, height, width = shape
    a = _to_channels(image, c)  # (H0, W0, C) float in [0, 1]
    inverted = _should_invert(a, invert, dark_background)
    if inverted:
        a = 1.0 - a
    if fit:
        a = _fit_ink(a)
    x = _resize(a, width, height)
    return np.ascontiguousarray(x.transpose(2, 0, 1)), inverted


def _resize(a: np.ndarray, width: int, height: int) -> np.ndarray:
    """(H, W, C) floats -> (height, width, C), Lanczos per channel, kept in [0, 1]."""
    from PIL import Image

    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(a[..., k])).resize(
                (width, height), Image.Resampling.LANCZOS
            )
        )
        for k in range(a.shape[-1])
    ]
    return np.clip(np.stack(channels, -1), 0.0, 1.0).astype(np.float32)


def _to_channels(image, c: int) -> np.ndarray:
    from PIL import Image

    rgba = image.convert("RGBA")
    paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat = Image.alpha_composite(paper, rgba)  # transparent -> white paper
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[c]
    a = np.asarray(flat.convert(mode), dtype=np.float32) / 255.0
    return a.reshape(a.shape[0], a.shape[1], c)


def _should_invert(a: np.ndarray, invert: str, dark_background: bool) -> bool:
    if invert not in INVERT:
        raise UploadError(f"invert must be one of {', '.join(INVERT)}")
    if invert != "auto":
        return invert == "yes"
    border = np.concatenate(
        [a[0].ravel(), a[-1].ravel(), a[:, 0].ravel(), a[:, -1].ravel()]
    )
    return bool((border.mean() > 0.5) == dark_background)


def _fit_ink(a: np.ndarray) -> np.ndarray:
    """Crop to the ink (bright on dark), scale it into 20/28 of a square, centred."""
    ink = a.max(-1) > 0.1
    if not ink.any():
        return a
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    crop = a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    side = max(a.shape[0], a.shape[1])
    box = max(1, round(side * 20 / 28))
    scale = box / max(crop.shape[0], crop.shape[1])
    h = max(1, round(crop.shape[0] * scale))
    w = max(1, round(crop.shape[1] * scale))
    out = np.zeros((side, side, a.shape[-1]), np.float32)
    top, left = (side - h) // 2, (side - w) // 2
    out[top : top + h, left : left + w] = _resize(crop, w, h)
    return out
