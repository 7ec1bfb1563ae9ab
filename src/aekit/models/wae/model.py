"""Wasserstein autoencoder, MMD penalty.

Tolstikhin et al. 2018, "Wasserstein Auto-Encoders", https://arxiv.org/abs/1711.01558:
a deterministic encoder, and the loss  c(x, G(z)) + lambda * MMD_k(q(z), p(z))  with
p(z) = N(0, I) and the inverse multiquadratics kernel k(x, y) = C / (C + |x - y|^2),
C = 2 d sigma^2 (sigma = 1), summed over the scales s * C, s in {.1, .2, .5, 1, 2, 5,
10} (their section 4). The MMD is the unbiased U-statistic over a batch and as many
prior draws. Samples decode z ~ N(0, I).
"""

from __future__ import annotations

from typing import Any

import torch

from ..base import Condition
from ..coded import CodedAutoencoder

FIT_ROWS = 2000  # codes the evaluation's MMD compares (its cost grows as n^2)
SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def imq_mmd(z: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Unbiased MMD^2 between codes z (n, d) and prior draws p (n, d), IMQ kernel."""
    n, d = z.shape
    zz, pp, zp = (torch.cdist(a, b).pow(2) for a, b in ((z, z), (p, p), (z, p)))
    off = 1.0 - torch.eye(n, device=z.device, dtype=z.dtype)
    total = z.new_zeros(())
    for s in SCALES:
        c = 2.0 * d * s
        k_zz, k_pp, k_zp = (c / (c + m) for m in (zz, pp, zp))
        total = total + ((k_zz + k_pp) * off).sum() / (n * (n - 1))
        total = total - 2.0 * k_zp.mean()
    return total


class WAE(CodedAutoencoder):
    """x -> body -> z (deterministic) -> body^T -> x_hat; codes pulled to N(0, I)."""

    def prior_fit(self, codes: torch.Tensor, *, seed: int = 0) -> dict[str, Any]:
        """The MMD (IMQ kernel, as trained) of up to 2000 codes to as many prior
        draws; near 0 when the codes follow N(0, I)."""
        g = torch.Generator().manual_seed(seed)
        z = codes.detach().float().cpu()
        if len(z) > FIT_ROWS:
            z = z[torch.randperm(len(z), generator=g)[:FIT_ROWS]]
        p = torch.randn(z.shape, generator=g)
        return {"mmd": float(imq_mmd(z, p)), "n": len(z)}

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: Condition = None
    ) -> dict[str, torch.Tensor]:
        z, x_hat = self.code_and_reconstruction(x)
        recon = self.squared_error(x_hat, target)  # the paper's c(x, y) = |x - y|^2
        if len(z) > 1:
            mmd = imq_mmd(z.float(), torch.randn_like(z, dtype=torch.float32))
        else:
            mmd = recon.new_zeros(())
        return {
            "loss": recon + self.config.mmd_weight * mmd,
            "recon": recon,
            "mmd": mmd,
        }
