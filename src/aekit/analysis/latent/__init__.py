"""Latent-space operations as plain functions on a run's model and tensors: code
grids, linear and spherical interpolation, traversals, code samplers, projections."""

from __future__ import annotations

from .codes import active_dims, decode_tensor, encode_tensor, run_data, subsample
from .paths import (
    PATHS,
    interpolate,
    interpolation_path,
    lerp,
    prior_moments,
    slerp,
    traversal_codes,
    traversal_values,
    traverse,
)
from .planes import CodePlane, check_dim_list, code_plane, gaussian_quantiles
from .projections import PROJECTIONS, Projection, project
from .samplers import (
    fit_gaussian,
    fit_gaussian_mixture,
    sample_gaussian,
    sample_mixture,
)

__all__ = [
    "PATHS",
    "PROJECTIONS",
    "CodePlane",
    "Projection",
    "active_dims",
    "check_dim_list",
    "code_plane",
    "decode_tensor",
    "encode_tensor",
    "fit_gaussian",
    "fit_gaussian_mixture",
    "gaussian_quantiles",
    "interpolate",
    "interpolation_path",
    "lerp",
    "project",
    "run_data",
    "sample_gaussian",
    "sample_mixture",
    "slerp",
    "subsample",
    "traversal_codes",
    "traversal_values",
    "prior_moments",
    "traverse",
]
