"""A variational autoencoder's start at probabilistic PCA (Tipping & Bishop 1999,
https://www.jstor.org/stable/2680726): a fixed whitened PCA path plus gated
corrections, so the untrained VAE rebuilds as PCA does.

    mu     = S^-1 P (x - mean) + a * mu_net(x)        (whitened: unit variance)
    logvar = log(sigma^2 / lambda) + logvar_net(x)     (pPCA's posterior variance)
    x_hat  = mean + P^T S z + b * x_net(z)

P holds the top-k principal directions of the training windows, lambda their
variances, S = diag(sqrt(lambda)), and sigma^2 the mean variance PCA leaves out
(pPCA's maximum-likelihood noise). The codes then match the N(0, I) prior, the
posterior variance is pPCA's, and the decoder's noise starts at sigma. Gates a and
b start at zero as in aekit.models.pca_start; a linear VAE's optimum is pPCA
(Lucas et al. 2019, https://arxiv.org/abs/1911.02469), so training learns the
non-linear part on top and the trainer keeps the start when it validates better.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .pca_start import principal_directions

VARIANCE_FLOOR = 1e-8  # keeps logs finite when PCA rebuilds a window exactly


class WhitenedPCAStart(nn.Module):
    """The fixed whitened path, the start's posterior and noise, and two gates."""

    def __init__(self, input_shape: tuple[int, ...], latent_dim: int):
        super().__init__()
        d = math.prod(input_shape)
        self.register_buffer("mean", torch.zeros(d))  # (D,)
        self.register_buffer("basis", torch.zeros(latent_dim, d))  # (k, D)
        self.register_buffer("scale", torch.ones(latent_dim))  # (k,) sqrt(lambda)
        self.register_buffer("start_logvar", torch.zeros(latent_dim))  # (k,)
        self.register_buffer("noise", torch.ones(()))  # sigma^2 left out by PCA
        self.gates = nn.Parameter(torch.zeros(2))  # code, output corrections

    def fit(self, x: torch.Tensor) -> None:
        x = x.flatten(1)
        mean, basis = principal_directions(x, len(self.basis))
        centred = (x - mean).double()
        codes = centred @ basis.double().T  # (N, <=k)
        variances = codes.pow(2).mean(0).clamp(min=VARIANCE_FLOOR)
        left = centred.pow(2).mean(0).sum() - variances.sum()
        noise = max(float(left) / max(x.shape[1] - len(basis), 1), VARIANCE_FLOOR)
        k = len(basis)
        self.mean.copy_(mean)
        self.basis.zero_()
        self.basis[:k].copy_(basis)  # fewer samples than code units: zero rows
        self.scale.fill_(1.0)
        self.scale[:k].copy_(variances.sqrt().float())
        self.noise.fill_(noise)
        self.start_logvar.copy_(
            torch.log(noise / self.scale.double().pow(2)).clamp(-30.0, 20.0).float()
        )

    def code(self, x: torch.Tensor, mu_net: torch.Tensor) -> torch.Tensor:
        whitened = ((x.flatten(1) - self.mean) @ self.basis.T) / self.scale
        return whitened + self.gates[0] * mu_net  # (B, k)

    def logvar(self, logvar_net: torch.Tensor) -> torch.Tensor:
        return self.start_logvar + logvar_net  # (B, k)

    def linear(self, z: torch.Tensor) -> torch.Tensor:
        return (z * self.scale) @ self.basis + self.mean  # (B, D)

    def output(self, z: torch.Tensor, x_net: torch.Tensor) -> torch.Tensor:
        return self.linear(z).view_as(x_net) + self.gates[1] * x_net
