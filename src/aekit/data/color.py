"""Colorization data: sRGB <-> CIE Lab, and (L -> a/b or RGB) training pairs.

The model sees the lightness L of CIE Lab (D65 white), scaled to [0, 1], and predicts
either the two chroma channels a/b (scaled by 1/128; the output keeps the input's
own L) or RGB in [0, 1] directly. `gray_copy` is the grayscale copy (the input's L
with a = b = 0), the baseline any colorization has to beat; its scores are in
aekit.analysis.colorization.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import AekitError
from .dataset import Dataset, Scaling

COLOR_SPACES = ("lab", "rgb")
AB_SCALE = 128.0  # a and b lie within about +-110 for sRGB colours
L_SCALE = 100.0

# sRGB primaries to CIE XYZ, and the D65 reference white (IEC 61966-2-1)
_RGB_TO_XYZ = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
_WHITE = np.array([0.95047, 1.0, 1.08883])
_EPS = (6 / 29) ** 3  # the CIE's linear-segment threshold, 0.008856


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) sRGB in [0, 1] -> (..., 3) L in [0, 100], a and b."""
    c = np.asarray(rgb, dtype=np.float64)
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > _EPS, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return np.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], axis=-1)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """(..., 3) Lab -> (..., 3) sRGB, clipped to [0, 1] (out-of-gamut colours)."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f > 6 / 29, f**3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * _WHITE
    linear = np.clip(xyz @ _XYZ_TO_RGB.T, 0.0, None)
    c = np.where(
        linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055
    )
    return np.clip(c, 0.0, 1.0)


def lightness(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) or (H, W) uint8 -> (H, W) float32 L / 100 in [0, 1]."""
    a = np.asarray(image, dtype=np.float64) / 255.0
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=-1)
    return (rgb_to_lab(a)[..., 0] / L_SCALE).astype(np.float32)


def colorization_dataset(patches: np.ndarray, color_space: str, name: str) -> Dataset:
    """(N, P, P, 3) uint8 colour patches -> x = L (N, 1, P, P), target a/b or RGB."""
    check_color_space(color_space)
    rgb = patches.astype(np.float64) / 255.0
    lab = rgb_to_lab(rgb)
    x = lab[..., 0] / L_SCALE  # (N, P, P)
    if color_space == "lab":
        target = lab[..., 1:] / AB_SCALE  # (N, P, P, 2)
    else:
        target = rgb
    return Dataset(
        x=torch.from_numpy(x[:, None].astype(np.float32)),
        # L / 100 is close to gray / 255, so L inputs read back as a grayscale image
        scaling=Scaling(scale=255.0, domain="unit", layout="hw"),
        name=name,
        target=torch.from_numpy(
            np.ascontiguousarray(target.transpose(0, 3, 1, 2), dtype=np.float32)
        ),
    )


def to_rgb(
    light: torch.Tensor | np.ndarray,
    output: torch.Tensor | np.ndarray,
    color_space: str,
) -> np.ndarray:
    """L / 100 (1, H, W) and a model's output (C, H, W) -> (H, W, 3) RGB in [0, 1]."""
    out = np.asarray(output, dtype=np.float64).transpose(1, 2, 0)
    if color_space == "rgb":
        return np.clip(out, 0.0, 1.0)
    l_channel = np.asarray(light, dtype=np.float64)[0, ..., None] * L_SCALE
    return lab_to_rgb(np.concatenate([l_channel, out * AB_SCALE], axis=-1))


def gray_copy(light: np.ndarray) -> np.ndarray:
    """The grayscale-copy baseline: L with a = b = 0, as (H, W, 3) RGB."""
    l_channel = np.asarray(light, dtype=np.float64)[..., None] * L_SCALE
    return lab_to_rgb(
        np.concatenate([l_channel, np.zeros_like(l_channel).repeat(2, -1)], -1)
    )


def check_color_space(color_space: str) -> None:
    if color_space not in COLOR_SPACES:
        raise AekitError(
            f"color space must be one of {', '.join(COLOR_SPACES)}, not {color_space!r}"
        )
