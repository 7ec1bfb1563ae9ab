"""Toy data with known sparse features in superposition (Elhage et al. 2022, "Toy
Models of Superposition"): n unit-norm feature directions in d < n dimensions, each
input a sum of the few features that are on, with random magnitudes. A sparse
autoencoder's dictionary is scored against the true directions
(aekit.analysis.sae_metrics.feature_recovery)."""

from __future__ import annotations

import numpy as np


def superposition(
    n_samples: int,
    n_features: int = 512,
    dim: int = 64,
    density: float = 0.01,
    *,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(x (n_samples, dim) float32, features (n_features, dim) unit rows). Each
    feature is on with probability `density`, at a magnitude uniform in [0.5, 1.5]
    (at least one feature on in every row)."""
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((n_features, dim))
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    on = rng.random((n_samples, n_features)) < density
    empty = ~on.any(1)
    on[empty, rng.integers(0, n_features, int(empty.sum()))] = True
    magnitude = rng.uniform(0.5, 1.5, (n_samples, n_features)) * on
    x = magnitude @ features
    return x.astype(np.float32), features.astype(np.float32)
