"""The architectures the speed benchmarks time (issue 7's four, and the MLP VAE).

Imports aekit.models alone, so pythae's virtual environment can build them too.
"""

from __future__ import annotations

from typing import Any

import torch

from aekit.models import build_model

SHAPE = (1, 28, 28)
# name -> (registry name, options, what it is)
MODELS: dict[str, tuple[str, dict[str, Any], str]] = {
    "mlp": ("mlp", {"latent_dim": 16}, "MLP AE 784-512-256-128-16"),
    "deep": (
        "mlp",
        {"hidden": (512, 256, 128, 32), "latent_dim": 2},
        "deep AE 784-512-256-128-32-2",
    ),
    "conv": ("conv", {"latent_dim": 16}, "conv AE 32,64 / 16"),
    "vae": ("vae", {"latent_dim": 16}, "VAE 784-512-256-16"),
    "conv-vae": ("conv-vae", {"latent_dim": 16}, "conv VAE 32,64 / 16"),
}


def make_model(key: str, seed: int = 0, shape: tuple[int, ...] = SHAPE) -> Any:
    name, options, _ = MODELS[key]
    torch.manual_seed(seed)
    return build_model(name, shape, **options)
