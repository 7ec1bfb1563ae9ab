"""Colorization scores: PSNR and SSIM of the RGB result against the true colour image,
beside the grayscale copy (the input's L with a = b = 0), the baseline any
colorization has to beat. SSIM is Wang et al. 2004, "Image Quality Assessment: From
Error Visibility to Structural Similarity", https://doi.org/10.1109/TIP.2003.819861,
with its 11x11 Gaussian window (sigma 1.5); aekit.analysis.metrics.ssim is the
uniform-window SSIM of reconstructions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..data.color import L_SCALE, gray_copy, rgb_to_lab
from ..errors import AekitError
from .metrics import psnr


def ssim(x: np.ndarray, y: np.ndarray, *, data_range: float = 1.0) -> float:
    """Mean SSIM of two (H, W, C) or (H, W) images, Gaussian window (sigma 1.5).

    The window is 11x11, or the largest odd size that fits a smaller image; only
    positions where it fits wholly are averaged.
    """
    a, b = (torch.as_tensor(np.asarray(v, dtype=np.float64)) for v in (x, y))
    if a.shape != b.shape:
        raise AekitError(f"shapes differ: {tuple(a.shape)} and {tuple(b.shape)}")
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    a, b = a.permute(2, 0, 1)[:, None], b.permute(2, 0, 1)[:, None]  # (C, 1, H, W)
    side = min(11, *a.shape[-2:])
    side -= 1 - side % 2
    t = torch.arange(side, dtype=torch.float64) - (side - 1) / 2
    g = torch.exp(-(t**2) / (2 * 1.5**2))
    g = g / g.sum()

    def blur(v: torch.Tensor) -> torch.Tensor:
        v = F.conv2d(v, g.view(1, 1, -1, 1))
        return F.conv2d(v, g.view(1, 1, 1, -1))

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    )
    return float(s.mean())


def color_scores(
    truth: Sequence[np.ndarray], predicted: Sequence[np.ndarray]
) -> dict[str, float]:
    """Mean per-image PSNR (dB) and SSIM of predictions and of the grayscale copy.

    `truth` and `predicted` are (H, W, 3) RGB images in [0, 1].
    """
    if not truth:
        raise AekitError("no images to score")
    rows = []
    for t, p in zip(truth, predicted, strict=True):
        baseline = gray_copy(rgb_to_lab(t)[..., 0] / L_SCALE)
        rows.append([psnr(t, p), ssim(t, p), psnr(t, baseline), ssim(t, baseline)])
    psnr_, ssim_, base_psnr, base_ssim = np.mean(np.asarray(rows), axis=0).tolist()
    return {
        "psnr": psnr_,
        "ssim": ssim_,
        "gray_copy_psnr": base_psnr,
        "gray_copy_ssim": base_ssim,
        "psnr_gain_over_gray_copy": psnr_ - base_psnr,
    }
