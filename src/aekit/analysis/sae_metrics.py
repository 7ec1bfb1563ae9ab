"""The numbers every sparse-autoencoder user reads: L0 (mean active latents per
input), the fraction of variance unexplained (FVU), dead latents (never active on
the data) and dense latents (active on more than DENSE of the inputs), the
histogram of log10 feature densities; and, where the true features are known (toy
data in superposition), how well the dictionary recovers them."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .sae_text import DENSE, sae_line, sparsity_lines

__all__ = ["DENSE", "sae_line", "sparsity_lines"]
DENSITY_BINS = np.arange(-6.0, 0.5, 0.5)  # log10 density; silent latents go below


def is_sae(model: Any) -> bool:
    return getattr(model, "name", "") == "sae"


def fvu(x: torch.Tensor, x_hat: torch.Tensor) -> float:
    """sum ||x - x_hat||^2 / sum ||x - mean(x)||^2 over the rows."""
    x, x_hat = x.reshape(len(x), -1).double(), x_hat.reshape(len(x), -1).double()
    centred = (x - x.mean(0)).pow(2).sum()
    return float((x - x_hat).pow(2).sum() / centred.clamp_min(1e-300))


def sparsity_metrics(
    codes: torch.Tensor, x: torch.Tensor, x_hat: torch.Tensor
) -> dict[str, Any]:
    """L0, FVU, dead and dense fractions and the density histogram of codes
    (N, n latents) of inputs x rebuilt as x_hat."""
    active = codes > 0
    density = active.double().mean(0).numpy()  # per latent
    logs = np.log10(np.maximum(density, 1e-12))
    counts, _ = np.histogram(logs[density > 0], bins=DENSITY_BINS)
    return {
        "l0": float(active.double().sum(1).mean()),
        "fvu": fvu(x, x_hat),
        "dead_fraction": float((density == 0).mean()),
        "dense_fraction": float((density > DENSE).mean()),
        "latents": int(codes.shape[1]),
        "density_histogram": {
            "log10_edges": DENSITY_BINS.tolist(),
            "counts": counts.tolist(),
            "dead": int((density == 0).sum()),
        },
    }


def feature_recovery(
    dictionary: torch.Tensor, features: torch.Tensor, threshold: float = 0.9
) -> dict[str, float]:
    """For true unit features (m, D) and a dictionary (D, n): the mean over true
    features of the best cosine any dictionary column reaches, and the fraction
    of true features some column matches at cosine >= threshold."""
    dictionary = dictionary.detach()
    d = dictionary / dictionary.norm(dim=0, keepdim=True).clamp_min(1e-12)
    f = features / features.norm(dim=1, keepdim=True).clamp_min(1e-12)
    best = (f.double() @ d.double()).max(dim=1).values
    return {
        "mean_max_cosine": float(best.mean()),
        "recovered": float((best >= threshold).double().mean()),
    }
