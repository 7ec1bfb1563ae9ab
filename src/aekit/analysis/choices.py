"""Names the command line offers for a run's pictures and latent projections.

Importable without torch, so `aekit plot --help` answers from it alone;
aekit.analysis.plots.pictures and aekit.analysis.latent.projections check against it.
"""

from __future__ import annotations

PROJECTIONS = ("auto", "pca", "tsne", "umap")  # aekit.analysis.latent.projections
# the pictures of a run (aekit.analysis.plots.pictures.PICTURES has one entry for each)
PICTURE_KINDS = (
    "reconstructions",
    "history",
    "latent",
    "manifold",
    "interpolate",
    "traverse",
    "samples",
    "pca",
    "checkerboard",
    "series",
)
COMPARED = ("latent", "manifold", "interpolate")  # `plot compare`'s default pictures
