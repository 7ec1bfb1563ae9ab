"""Paths through the code space: linear and spherical interpolation between two codes,
and traversals that sweep one dimension while the others stay fixed.

Spherical interpolation follows White 2016, "Sampling Generative Networks",
https://arxiv.org/abs/1609.04468.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...errors import AekitError
from ...inference import data_conditions
from ...inference.distributions import prior_of, walks_prior
from ...run import CODE_STATS, Run, as_run, load_inputs, read_code_stats
from .codes import decode_tensor, encode_tensor
from .planes import check_dim_list

SPAN = 3.0  # traversals sweep +-3 standard deviations


def lerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Straight line from z0 to z1 (each (d,)), endpoints included: (steps, d)."""
    t = torch.linspace(0.0, 1.0, steps, dtype=z0.dtype)[:, None]
    return (1 - t) * z0 + t * z1


def slerp(
    z0: torch.Tensor,
    z1: torch.Tensor,
    steps: int,
    center: torch.Tensor | None = None,
) -> torch.Tensor:
    """Great-circle path from z0 to z1 about `center` (default the origin, the mean
    of a VAE's prior; pass a plain AE's code mean): (steps, d), endpoints included."""
    c = torch.zeros_like(z0) if center is None else center.to(z0.dtype)
    a, b = (z0 - c).double(), (z1 - c).double()
    cos = (a @ b) / (a.norm() * b.norm()).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if omega.abs() < 1e-6 or (math.pi - omega).abs() < 1e-6:
        return lerp(z0, z1, steps)  # parallel or opposite: no unique great circle
    t = torch.linspace(0.0, 1.0, steps, dtype=torch.float64)[:, None]
    path = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(
        omega
    )
    return (path + c.double()).to(z0.dtype)


PATHS = {"linear": lerp, "spherical": slerp}


def traversal_codes(
    base: torch.Tensor, dims: list[int], values: torch.Tensor
) -> torch.Tensor:
    """(len(dims), steps, d): row r sets dimension dims[r] of `base` to values[r]."""
    rows = base.repeat(len(dims), values.shape[-1], 1)
    for r, k in enumerate(dims):
        rows[r, :, k] = values[r]
    return rows


def traversal_values(
    codes: torch.Tensor,
    dims: list[int],
    steps: int,
    *,
    variational: bool,
    prior: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Sweep values per dimension, -SPAN..SPAN standard deviations: the prior's for a
    VAE (about its mean; `prior` = (mean, std), N(0, I) if None), the codes' own
    (about their mean) for a plain AE. (len(dims), steps)."""
    s = torch.linspace(-SPAN, SPAN, steps)
    if variational and prior is None:
        return s.repeat(len(dims), 1)
    if variational:
        mean, std = prior
    else:
        mean = codes.mean(0)
        std = codes.std(0) if len(codes) > 1 else torch.ones_like(mean)
    return torch.stack([mean[k] + s * std[k] for k in dims])


def interpolate(
    run: Run | str | Path,
    a: Any,
    b: Any,
    *,
    steps: int = 10,
    method: str = "linear",
) -> np.ndarray:
    """Decoded paths from each input in `a` to the matching one in `b`, in the source's
    units: (pairs, steps, *sample); the ends are the two inputs' decoded codes. A
    conditional run encodes each input under its own condition (its label or
    columns) and decodes each path under its start's."""
    run = as_run(run)
    if method not in PATHS:
        raise AekitError(
            f"unknown interpolation {method!r}; choose linear or spherical"
        )
    if steps < 2:
        raise AekitError(f"an interpolation needs at least 2 steps, got {steps}")
    da, db = load_inputs(run, a), load_inputs(run, b)
    ca, cb = data_conditions(run, da), data_conditions(run, db)
    za, zb = encode_tensor(run, da.x, ca), encode_tensor(run, db.x, cb)
    if len(za) != len(zb):
        raise AekitError(f"{len(za)} start input(s) but {len(zb)} end input(s)")
    paths = torch.stack(
        [
            interpolation_path(run, p, q, steps, method)
            for p, q in zip(za, zb, strict=True)
        ]
    )  # (pairs, steps, d)
    c = None if ca is None else ca.repeat_interleave(steps, 0)
    out = run.scaling.to_source(decode_tensor(run, paths.flatten(0, 1), c))
    return out.reshape(len(za), steps, *out.shape[1:])


def interpolation_path(
    run: Run, z0: torch.Tensor, z1: torch.Tensor, steps: int, method: str
) -> torch.Tensor:
    """A path of codes; a plain AE's spherical path circles its training-code mean."""
    if method == "linear":
        return lerp(z0, z1, steps)
    center = None
    if run.capabilities.sampler == "fitted" and (run.path / CODE_STATS).is_file():
        center = read_code_stats(run.path, run.model.latent_dim)[0].float()
    return slerp(z0, z1, steps, center)


def traverse(
    run: Run | str | Path,
    inputs: Any,
    *,
    dims: list[int] | None = None,
    steps: int = 9,
    codes_of: Any = None,
) -> np.ndarray:
    """Sweep each latent dimension of the first input's code (+-3 standard deviations:
    the prior's for a VAE, the codes of `codes_of` (default `inputs`) for a plain AE)
    while the others stay fixed: (len(dims), steps, *sample) in the source's units.
    A conditional run sweeps under the first input's condition (and its p(z|c))."""
    run = as_run(run)
    data = load_inputs(run, inputs)
    pool = data if codes_of is None else load_inputs(run, codes_of)
    codes = encode_tensor(run, pool.x, data_conditions(run, pool))
    dims = check_dim_list(dims, run.model.latent_dim)
    c = data_conditions(run, data)
    c = None if c is None else c[:1]
    values = traversal_values(
        codes,
        dims,
        steps,
        variational=walks_prior(run),
        prior=prior_moments(run, c),
    )
    rows = traversal_codes(encode_tensor(run, data.x[:1], c)[0], dims, values)
    c = None if c is None else c.expand(len(dims) * steps, *c.shape[1:])
    out = run.scaling.to_source(decode_tensor(run, rows.flatten(0, 1), c))
    return out.reshape(len(dims), steps, *out.shape[1:])


def prior_moments(
    run: Run, c: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """A VAE's Gaussian prior under the condition c[0] as (mean, std); None for
    other runs and for mixture priors (whose pictures walk N(0, I))."""
    if not walks_prior(run):
        return None
    return prior_of(run).moments(None if c is None else c[0])
