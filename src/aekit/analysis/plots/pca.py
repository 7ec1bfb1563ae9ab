"""The autoencoder beside PCA (the lectures' "an autoencoder generalises PCA"): their
reconstructions of held-out examples, PCA keeping as many components as the code
has dimensions, and their 2-D maps of the same examples.

A linear autoencoder (`--activation linear`) trained on squared error spans the same
subspace as PCA (Baldi & Hornik 1989), so its row should match PCA's; a non-linear
one can do better with the same number of numbers per example.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure

from ... import inference
from ...data import Dataset
from ...errors import AekitError
from ...run import Run
from .. import latent
from .compose import compose
from .grids import plot_image_rows, plot_vector_rows
from .kinds import PictureOptions, shown_examples
from .latent import plot_latent_scatter

MAX_FIT = 5000  # rows PCA is fitted on (the training split, seeded sample)


def ae_vs_pca(run: Run, data: Dataset, o: PictureOptions) -> Figure:
    """Reconstructions (original, autoencoder, PCA) above the two 2-D maps."""
    if not run.capabilities.has_code:
        raise AekitError(f"{run.model_name} has no code to set beside PCA")
    if run.capabilities.conditional:
        raise AekitError("the PCA picture is for unconditional runs")
    fit = latent.subsample(o.fit if o.fit is not None else data, MAX_FIT, seed=o.seed)
    flat = fit.x.reshape(len(fit), -1).double().numpy()
    d = run.model.latent_dim
    from sklearn.decomposition import PCA

    pca = PCA(min(d, *flat.shape), random_state=o.seed).fit(flat)
    x = data.x[shown_examples(data)]
    ae = inference.reconstruct(run, x)
    pc = _pca_reconstruct(pca, x)
    ae_mse, pca_mse = _mse(run, pca, data)
    labels = ["original", f"autoencoder ({d}-D code)", f"PCA ({pca.n_components_} PCs)"]
    title = f"reconstruction MSE: autoencoder {ae_mse:.4g}, PCA {pca_mse:.4g}"
    if data.is_image:
        rows = plot_image_rows([x, ae.clamp(0, 1), pc.clamp(0, 1)], labels, title=title)
    else:
        rows = plot_vector_rows(
            [v.reshape(len(v), -1) for v in (x, ae, pc)], labels, title=title
        )
    fig = compose(
        [[rows], _maps(run, data, pca if pca.n_components_ >= 2 else None, o)],
        title="",
    )
    fig.axes[0].set_title(f"{run.model_name} against PCA", fontsize=15)
    return fig


def _pca_reconstruct(pca, x: torch.Tensor) -> torch.Tensor:
    flat = x.reshape(len(x), -1).double().numpy()
    back = pca.inverse_transform(pca.transform(flat))
    return torch.from_numpy(back.astype(np.float32)).reshape(x.shape)


def _mse(run: Run, pca, data: Dataset) -> tuple[float, float]:
    """Mean squared error per value over (up to MAX_FIT of) the shown data."""
    x = latent.subsample(data, MAX_FIT, seed=0).x
    ae = inference.reconstruct(run, x)
    pc = _pca_reconstruct(pca, x)
    return float(((ae - x) ** 2).mean()), float(((pc - x) ** 2).mean())


def _maps(run: Run, data: Dataset, pca, o: PictureOptions) -> list[Figure]:
    shown = latent.subsample(data, o.max_points, seed=o.seed)
    y = None if shown.y is None else shown.y.numpy()
    codes = latent.encode_tensor(run, shown.x).numpy()
    p = latent.project(codes, "auto", seed=o.seed)
    how = "as it is" if p.method == "code" else f"by {p.method}"
    figs = [
        plot_latent_scatter(
            p.points,
            y,
            run.classes,
            title=f"autoencoder: the {codes.shape[1]}-D code {how}",
            xlabel=p.xlabel,
            ylabel=p.ylabel,
        )
    ]
    if pca is not None:
        flat = shown.x.reshape(len(shown), -1).double().numpy()
        pcs = pca.transform(flat)[:, :2]
        share = pca.explained_variance_ratio_[:2] * 100
        figs.append(
            plot_latent_scatter(
                pcs,
                y,
                run.classes,
                title="PCA: the first two principal components",
                xlabel=f"PC 1 ({share[0]:.0f}% of variance)",
                ylabel=f"PC 2 ({share[1]:.0f}% of variance)",
            )
        )
    return figs
