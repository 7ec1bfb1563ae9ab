"""Reconstruction metrics as plain functions: arrays in, float out."""

from __future__ import annotations

import math

import numpy as np
import torch

from .errors import AekitError


def _pair(x, x_hat) -> tuple[np.ndarray, np.ndarray]:
    a = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    b = (
        x_hat.detach().cpu().numpy()
        if isinstance(x_hat, torch.Tensor)
        else np.asarray(x_hat)
    )
    if a.shape != b.shape:
        raise AekitError(f"shapes differ: {a.shape} and {b.shape}")
    if a.size == 0:
        raise AekitError("no values to compare")
    return a.astype(np.float64), b.astype(np.float64)


def mse(x, x_hat) -> float:
    """Mean squared error over every value."""
    a, b = _pair(x, x_hat)
    return float(np.mean((a - b) ** 2))


def mae(x, x_hat) -> float:
    a, b = _pair(x, x_hat)
    return float(np.mean(np.abs(a - b)))


def psnr(x, x_hat, *, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: 10 log10(range^2 / MSE), over all values."""
    error = mse(x, x_hat)
    return math.inf if error == 0 else 10.0 * math.log10(data_range**2 / error)


def pca_reconstruction_mse(
    train: np.ndarray | torch.Tensor,
    test: np.ndarray | torch.Tensor,
    n_components: int,
    *,
    seed: int = 0,
) -> float:
    """MSE of PCA with `n_components`, fitted on `train`, reconstructing `test`."""
    from sklearn.decomposition import PCA

    a = np.asarray(train, dtype=np.float32).reshape(len(train), -1)
    b = np.asarray(test, dtype=np.float32).reshape(len(test), -1)
    k = min(n_components, a.shape[0], a.shape[1])
    pca = PCA(n_components=k, random_state=seed).fit(a)
    return mse(b, pca.inverse_transform(pca.transform(b)))
