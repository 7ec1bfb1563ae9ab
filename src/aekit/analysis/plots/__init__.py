"""Plots: plain functions (data in, matplotlib Figure out; the caller saves it) and the
named pictures of a run (`plot(run, "latent")`)."""

from __future__ import annotations

from .compose import compose, figure_pixels, figure_png
from .curves import plot_history, plot_smoothness
from .grids import (
    plot_image_grid,
    plot_image_panels,
    plot_image_rows,
    plot_vector_rows,
    plot_vector_strips,
)
from .latent import plot_latent_scatter, plot_manifold
from .pictures import KINDS, PICTURES, compare, plot

__all__ = [
    "KINDS",
    "PICTURES",
    "compare",
    "compose",
    "figure_pixels",
    "figure_png",
    "plot",
    "plot_history",
    "plot_image_grid",
    "plot_image_panels",
    "plot_image_rows",
    "plot_latent_scatter",
    "plot_manifold",
    "plot_smoothness",
    "plot_vector_rows",
    "plot_vector_strips",
]
