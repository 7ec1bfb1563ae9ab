"""2-D views of codes: as they are (2-D), PCA, t-SNE (scikit-learn) or UMAP."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import AekitError
from ..choices import PROJECTIONS


@dataclass
class Projection:
    points: np.ndarray  # (N, 2)
    method: str  # "code", "PCA", "t-SNE", "UMAP", named on the plot
    xlabel: str
    ylabel: str


def project(codes: np.ndarray, method: str = "auto", *, seed: int = 0) -> Projection:
    """Codes (N, d) -> 2-D points: as they are when d is 2 (`auto`), else PCA, t-SNE
    (scikit-learn) or UMAP (umap-learn, when installed)."""
    z = np.asarray(codes, dtype=np.float64)
    d = z.shape[1]
    if method not in PROJECTIONS:
        raise AekitError(f"unknown projection {method!r}; choose from {PROJECTIONS}")
    if method == "auto":
        if d <= 2:
            return _as_is(z)
        method = "pca"
    if d == 1:
        raise AekitError(f"a 1-D code cannot be projected with {method}; use auto")
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(2, random_state=seed).fit(z)
        pct = [f"{100 * r:.0f}% of variance" for r in pca.explained_variance_ratio_]
        return Projection(
            pca.transform(z), "PCA", f"PC 1 ({pct[0]})", f"PC 2 ({pct[1]})"
        )
    if len(z) < 5:
        raise AekitError(f"{method} needs at least 5 codes, got {len(z)}")
    if method == "tsne":
        from sklearn.manifold import TSNE
        from threadpoolctl import threadpool_limits

        perplexity = min(30.0, (len(z) - 1) / 3)
        tsne = TSNE(2, perplexity=perplexity, init="pca", random_state=seed)
        with threadpool_limits(1):  # a few thousand points: threads only contend
            points = tsne.fit_transform(z)
        return Projection(points, "t-SNE", "t-SNE 1", "t-SNE 2")
    try:
        import umap
    except ImportError:
        raise AekitError(
            "UMAP needs the umap-learn package: pip install 'aekit[umap]'"
        ) from None
    # keywords only: umap-learn >= 0.5.4 takes n_neighbors first, positionally
    reducer = umap.UMAP(
        n_components=2, n_neighbors=min(15, len(z) - 1), random_state=seed
    )
    return Projection(reducer.fit_transform(z), "UMAP", "UMAP 1", "UMAP 2")


def _as_is(z: np.ndarray) -> Projection:
    if z.shape[1] == 2:
        return Projection(z, "code", "z0", "z1")
    jitter = np.random.default_rng(0).uniform(-0.4, 0.4, len(z))  # a 1-D strip plot
    return Projection(np.stack([z[:, 0], jitter], 1), "code", "z0", "(jitter)")
