"""An autoencoder as a lossy codec: bytes per code, bits per pixel, PSNR, and JPEG.

A code is stored at float32, float16 or 8 bits per dimension (uniform quantisation
between each dimension's minimum and maximum over the training codes; those 2 x d
floats belong to the codec, like the decoder's weights, and are not counted per
code). The compression ratio is the source's size (8 bits per value for 8-bit
images, 32 for float data) over the code's. JPEG (Pillow's libjpeg) is the
reference, sized as its image data only (`streamtype=2`): its Huffman and
quantisation tables, like the decoder, are shared by every image.

A conditional model's decoder also needs each example's condition, so the condition
is stored beside the code and counted in its size: ceil(log2 K) bits for one of K
class labels, or one value per attribute column at the code's precision.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import torch

from ..errors import AekitError
from .metrics import psnr_from_mse

PRECISIONS = {"float32": 32, "float16": 16, "uint8": 8}  # bits per code dimension
JPEG_QUALITIES = (1, 3, 5, 10, 20, 30, 50, 70, 90, 95)
JPEG_IMAGES = 256  # images JPEG is measured on


def code_range(codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension (min, max) of training codes: the 8-bit quantiser's range."""
    if codes.ndim != 2 or len(codes) == 0:
        raise AekitError(f"codes must be (N, d) with N >= 1, got {tuple(codes.shape)}")
    return codes.min(0).values, codes.max(0).values


def quantize(
    z: torch.Tensor, precision: str, *, lo: torch.Tensor, hi: torch.Tensor
) -> torch.Tensor:
    """z as the decoder sees it after storage at `precision` (float32 out)."""
    if precision == "float32":
        return z.float()
    if precision == "float16":
        return z.half().float()
    if precision == "uint8":
        step = (hi - lo).clamp(min=1e-12) / 255.0
        levels = torch.round((z.clamp(lo, hi) - lo) / step)  # 0..255
        return lo + levels * step
    raise AekitError(f"unknown precision {precision!r}; choose from {list(PRECISIONS)}")


def source_bits(sample_shape: tuple[int, ...], domain: str) -> int:
    """Bits of one example as the source stores it: 8 per value for 8-bit images."""
    return int(np.prod(sample_shape)) * (8 if domain == "unit" else 32)


def pixels(sample_shape: tuple[int, ...]) -> int:
    """Pixels of an image (H x W, channels together) or values of a vector."""
    return (
        int(np.prod(sample_shape[1:]))
        if len(sample_shape) == 3
        else int(np.prod(sample_shape))
    )


class CompressionAccumulator:
    """Squared errors of the decoded, stored codes, summed over batches."""

    def __init__(
        self,
        model: Any,
        lo: torch.Tensor,
        hi: torch.Tensor,
        *,
        classes: int = 0,
        attributes: int = 0,
    ) -> None:
        """`classes` or `attributes`: the condition a conditional decoder needs."""
        self.model, self.lo, self.hi = model, lo, hi
        self.classes, self.attributes = classes, attributes
        self.se = dict.fromkeys(PRECISIONS, 0.0)
        self.values = 0

    def update(
        self, x: torch.Tensor, z: torch.Tensor, c: torch.Tensor | None = None
    ) -> None:
        with torch.no_grad():
            for precision in PRECISIONS:
                zq = quantize(z, precision, lo=self.lo, hi=self.hi)
                x_hat = self.model.decode(zq) if c is None else self.model.decode(zq, c)
                self.se[precision] += float((x.double() - x_hat.double()).pow(2).sum())
        self.values += x.numel()

    def summary(
        self, sample_shape: tuple[int, ...], latent_dim: int, *, domain: str
    ) -> dict[str, Any]:
        raw = source_bits(sample_shape, domain)
        out: dict[str, Any] = {"source_bytes": raw / 8}
        if self.classes or self.attributes:
            out["condition"] = (
                f"{self.attributes} attribute value(s) at the code's precision"
                if self.attributes
                else f"one of {self.classes} labels, {self._label_bits()} bit(s)"
            )
        for precision, bits in PRECISIONS.items():
            code_bits = bits * (latent_dim + self.attributes) + self._label_bits()
            error = self.se[precision] / self.values
            entry = {
                "bytes": code_bits / 8,
                "ratio": raw / code_bits,
                "bits_per_pixel": code_bits / pixels(sample_shape),
                "mse": error,
            }
            if domain == "unit":
                entry["psnr"] = psnr_from_mse(error)
            out[precision] = entry
        return out

    def _label_bits(self) -> int:
        return math.ceil(math.log2(self.classes)) if self.classes > 1 else 0


def jpeg_curve(
    images: torch.Tensor | np.ndarray, *, qualities: tuple[int, ...] = JPEG_QUALITIES
) -> list[dict[str, float]]:
    """Mean bits per pixel (image data only, and with headers) and PSNR of JPEG at
    each quality, for images (N, C, H, W) in [0, 1] with 1 or 3 channels."""
    from PIL import Image

    a = np.asarray(images, dtype=np.float64)
    if a.ndim != 4 or a.shape[1] not in (1, 3) or len(a) == 0:
        raise AekitError(f"JPEG needs images (N, 1 or 3, H, W), got shape {a.shape}")
    u8 = np.rint(np.clip(a, 0, 1) * 255).astype(np.uint8).transpose(0, 2, 3, 1)
    images = [Image.fromarray(i[..., 0] if i.shape[2] == 1 else i) for i in u8]
    n_pixels = a.shape[2] * a.shape[3]
    curve = []
    for quality in qualities:
        # headers and standard tables are the same for every image of one size
        headers = _jpeg_size(images[0], quality) - _jpeg_size(images[0], quality, 2)
        full_bits = se = 0.0
        for image, original in zip(images, a, strict=True):
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=quality)
            full_bits += 8 * buffer.tell()
            back = np.asarray(Image.open(buffer), dtype=np.float64) / 255.0
            back = back[..., None] if back.ndim == 2 else back
            se += float(((back.transpose(2, 0, 1) - original) ** 2).sum())
        curve.append(
            {
                "quality": quality,
                "bits_per_pixel": (full_bits / len(a) - 8 * headers) / n_pixels,
                "bits_per_pixel_with_headers": full_bits / len(a) / n_pixels,
                "psnr": psnr_from_mse(se / a.size),
            }
        )
    return curve


def _jpeg_size(image: Any, quality: int, streamtype: int = 0) -> int:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, streamtype=streamtype)
    return buffer.tell()


def nearest_jpeg(curve: list[dict[str, float]], bits_per_pixel: float) -> dict:
    """The JPEG setting whose bits per pixel is nearest (in log ratio) the target."""
    if not curve:
        raise AekitError("no JPEG measurements")
    return min(curve, key=lambda e: abs(math.log(e["bits_per_pixel"] / bits_per_pixel)))
