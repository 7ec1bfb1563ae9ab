"""Regular grids of codes for the manifold picture: a 2-D code's plane, two chosen
dimensions, or the PCA plane of the codes; a VAE's grid goes through the inverse CDF
of its Gaussian prior (Kingma & Welling 2014, Fig. 4, https://arxiv.org/abs/1312.6114).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...errors import AekitError

QUANTILES = (0.05, 0.95)  # the VAE manifold spans the prior's 5%..95% quantiles
PERCENTILES = (1.0, 99.0)  # a plain AE's grid spans its codes' 1st..99th percentiles


@dataclass
class CodePlane:
    """A regular grid of codes in display order: rows top to bottom, v descending."""

    codes: torch.Tensor  # (n * n, latent_dim)
    u: np.ndarray  # (n,) horizontal coordinates, ascending
    v: np.ndarray  # (n,) vertical coordinates, ascending (drawn bottom to top)
    xlabel: str
    ylabel: str
    how: str  # one phrase for the title


def gaussian_quantiles(n: int, lo: float = QUANTILES[0], hi: float = QUANTILES[1]):
    """n evenly spaced probabilities mapped through the standard normal inverse CDF."""
    p = torch.linspace(lo, hi, n, dtype=torch.float64)
    return torch.distributions.Normal(0.0, 1.0).icdf(p).numpy()


def code_plane(
    codes: torch.Tensor,
    n: int,
    *,
    variational: bool,
    dims: tuple[int, int] | None = None,
    prior: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> CodePlane:
    """An n x n grid of codes: over the plane of a 2-D code or two chosen dimensions
    (a VAE through the prior's inverse CDF, others at the prior's mean; a plain AE
    over its codes' range, others at their mean), else over the PCA plane of
    `codes`. `prior` is a VAE's Gaussian prior as (mean, std), N(0, I) if None."""
    if n < 2:
        raise AekitError(f"a manifold grid needs at least 2 cells a side, got {n}")
    z = codes.double()
    d = z.shape[1]
    if d == 1:
        raise AekitError("a manifold needs a code of 2 or more dimensions; this has 1")
    if dims is None and d == 2:
        dims = (0, 1)
    if dims is not None:
        base, axes, u, v, labels, how = _axis_plane(z, n, dims, variational, prior)
    else:
        base, axes, u, v, labels, how = _pca_plane_grid(z, n, variational)
    uu, vv = np.meshgrid(u, v[::-1])  # top row = largest v
    coords = torch.from_numpy(np.stack([uu.ravel(), vv.ravel()], 1))
    grid = base + coords @ axes
    return CodePlane(grid.float(), np.asarray(u), np.asarray(v), *labels, how)


def _axis_plane(
    z: torch.Tensor,
    n: int,
    dims: tuple[int, ...],
    variational: bool,
    prior: tuple[torch.Tensor, torch.Tensor] | None,
):
    d = z.shape[1]
    i, j = _check_dims(dims, d)
    if variational:
        mean, std = prior if prior is not None else (torch.zeros(d), torch.ones(d))
        q = gaussian_quantiles(n)
        u, v = q * float(std[i]), q * float(std[j])
        base = mean.double().clone()
        base[i] = base[j] = 0.0  # the axes' own offsets are in u and v
        u, v = u + float(mean[i]), v + float(mean[j])
        how = "the prior's inverse CDF"
    else:
        u, v = _spread(z[:, i], n), _spread(z[:, j], n)
        base = z.mean(0)
        how = "the range of the codes"
    axes = torch.zeros(2, d, dtype=torch.float64)
    axes[0, i] = axes[1, j] = 1.0
    return base, axes, u, v, (f"z{i}", f"z{j}"), how


def _pca_plane_grid(z: torch.Tensor, n: int, variational: bool):
    base, axes, p = _pca_plane(z)
    if variational:  # a Gaussian over the plane, as the prior is over the code
        q = gaussian_quantiles(n)
        u, v = q * p[:, 0].std().item(), q * p[:, 1].std().item()
        how = "Gaussian quantiles of the PCA plane of the codes"
    else:
        u, v = _spread(p[:, 0], n), _spread(p[:, 1], n)
        how = "the PCA plane of the codes"
    return base, axes, u, v, ("PC 1 of the codes", "PC 2 of the codes"), how


def _check_dims(dims: tuple[int, ...], d: int) -> tuple[int, int]:
    if len(dims) != 2 or dims[0] == dims[1]:
        raise AekitError(f"choose two different dimensions, got {tuple(dims)}")
    for k in dims:
        if not 0 <= k < d:
            raise AekitError(f"dimension {k} is out of range; the code has {d} (0..)")
    return int(dims[0]), int(dims[1])


def check_dim_list(dims: list[int] | None, d: int) -> list[int]:
    """All dimensions when None; otherwise each must lie in 0..d-1."""
    if dims is None:
        return list(range(d))
    for k in dims:
        if not 0 <= k < d:
            raise AekitError(f"dimension {k} is out of range; the code has {d} (0..)")
    if not dims:
        raise AekitError("choose at least one dimension")
    return [int(k) for k in dims]


def _spread(values: torch.Tensor, n: int) -> np.ndarray:
    lo, hi = np.percentile(values.numpy(), PERCENTILES)
    if hi - lo < 1e-8:
        lo, hi = lo - 1.0, hi + 1.0
    return np.linspace(lo, hi, n)


def _pca_plane(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean, the two leading principal axes (2, d), and the codes projected on them."""
    mean = z.mean(0)
    _, _, vt = torch.linalg.svd(z - mean, full_matrices=False)
    axes = vt[:2]
    return mean, axes, (z - mean) @ axes.T
