"""scikit-learn estimators: an autoencoder as a transformer (a non-linear PCA), as an
outlier detector and as a clusterer of its codes."""

from __future__ import annotations

from .base import vector_models
from .cluster import AutoencoderClusterer
from .estimators import AutoencoderOutlierDetector, AutoencoderTransformer

__all__ = [
    "AutoencoderClusterer",
    "AutoencoderOutlierDetector",
    "AutoencoderTransformer",
    "vector_models",
]
