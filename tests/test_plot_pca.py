"""`aekit plot RUN pca`: the autoencoder beside PCA."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import aekit
from aekit.analysis.plots.pca import _pca_reconstruct
from aekit.analysis.plots.pictures import AFTER_TRAINING, PICTURES, applicable
from aekit.interfaces.cli import main


@pytest.fixture(scope="module")
def linear_run(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("runs") / "linear"
    return aekit.train(
        "digits",
        "mlp",
        latent_dim=4,
        hidden=(),
        activation="linear",
        epochs=2,
        batch_size=64,
        out=out,
        pictures=False,
        report=False,
    )


def test_plot_pca_writes_a_png(linear_run, tmp_path, capsys):
    out = tmp_path / "pca.png"
    assert main(["plot", str(linear_run.path), "pca", "--out", str(out)]) == 0
    a = np.asarray(Image.open(out).convert("RGB"))
    assert min(a.shape[:2]) >= 300 and a.std() > 10


def test_the_picture_is_titled_and_not_drawn_after_training(linear_run):
    fig = aekit.analysis.plots.plot(linear_run, "pca")
    assert fig.axes[0].get_title() == "mlp against PCA"
    assert "pca" not in AFTER_TRAINING and applicable(linear_run, "pca")
    assert "PCA" in PICTURES["pca"].description
    assert fig.get_size_inches().min() > 3


def test_pca_reconstruction_keeps_the_components():
    from sklearn.decomposition import PCA

    x = torch.rand(50, 1, 4, 4)
    pca = PCA(16).fit(x.reshape(50, -1).numpy())
    assert torch.allclose(_pca_reconstruct(pca, x), x, atol=1e-5)  # all components


def test_plot_checkerboard_shows_uneven_overlap(linear_run, tmp_path):
    out = tmp_path / "checkerboard.png"
    assert main(["plot", str(linear_run.path), "checkerboard", "--out", str(out)]) == 0
    assert np.asarray(Image.open(out).convert("RGB")).std() > 10
    assert applicable(linear_run, "checkerboard")  # images: decoders that upsample
    assert "checkerboard" not in AFTER_TRAINING


def test_a_wide_picture_above_two_maps_leaves_no_gap_between_the_maps():
    """The PCA picture's layout: one wide figure above two narrow ones. The wide one
    used to set the first column's width, pushing the second map far right."""
    from matplotlib.figure import Figure

    from aekit.analysis.plots.compose import DPI, GAP, compose, figure_pixels

    def block(width_px: int) -> Figure:
        return Figure(figsize=(width_px / DPI, 1.0), facecolor="black")

    out = figure_pixels(compose([[block(900)], [block(300), block(300)]], title=""))
    row = out[-20].min(axis=1) < 128  # dark pixels along a row of the two maps
    edges = np.flatnonzero(np.diff(np.r_[0, row.astype(int), 0]))  # dark runs
    assert len(edges) == 4, edges
    gap_between = edges[2] - edges[1]
    assert abs(gap_between - GAP) <= 2, (gap_between, edges)
