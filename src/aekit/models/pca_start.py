"""A start at PCA: a linear path fixed at the training data's principal directions
plus a network's correction behind gates that start at zero.

    z     = P (x - mean) + a * z_net(x)
    x_hat = mean + P^T z + b * x_net(z)

P holds the top-k principal directions (k, D) of the training data and stays fixed;
a and b start at zero, as ReZero's gates do (Bachlechner et al. 2020,
https://arxiv.org/abs/2003.04887), so the untrained model is PCA with k components
and training learns the non-linear correction on top. The trainer scores the
start too (Model.starts_at_solution), so a run keeps the better of PCA and training.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class PCAStart(nn.Module):
    """The fixed linear path and the gates of the correction, for (k, D) codes."""

    def __init__(self, input_shape: tuple[int, ...], latent_dim: int):
        super().__init__()
        d = math.prod(input_shape)
        self.register_buffer("mean", torch.zeros(d))  # (D,)
        self.register_buffer("basis", torch.zeros(latent_dim, d))  # (k, D)
        self.gates = nn.Parameter(torch.zeros(2))  # code, output corrections

    def fit(self, x: torch.Tensor) -> None:
        mean, basis = principal_directions(x.flatten(1), len(self.basis))
        self.mean.copy_(mean)
        self.basis.zero_()
        self.basis[: len(basis)].copy_(basis)  # fewer samples than code units

    def code(self, x: torch.Tensor, z_net: torch.Tensor) -> torch.Tensor:
        return (x.flatten(1) - self.mean) @ self.basis.T + self.gates[0] * z_net

    def output(self, z: torch.Tensor, x_net: torch.Tensor) -> torch.Tensor:
        linear = (z @ self.basis + self.mean).view_as(x_net)
        return linear + self.gates[1] * x_net


def principal_directions(
    x: torch.Tensor, k: int, exact_up_to: int = 2048
) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean (D,) and top-k principal directions (<=k, D) of (N, D) data: from
    the covariance's eigenvectors in float64 up to `exact_up_to` features, from a
    randomised SVD (Halko et al. 2011) of up to 10,000 samples beyond."""
    x = x.double()
    mean = x.mean(0)
    centred = x - mean
    k = min(k, len(x), x.shape[1])
    if x.shape[1] <= exact_up_to:
        _, vectors = torch.linalg.eigh(centred.T @ centred)  # ascending
        basis = vectors[:, -k:].flip(1).T
    else:
        rows = centred[torch.randperm(len(x))[:10_000]]
        _, _, v = torch.svd_lowrank(rows, q=min(k + 10, *rows.shape), niter=6)
        basis = v[:, :k].T
    return mean.float(), basis.float().contiguous()
