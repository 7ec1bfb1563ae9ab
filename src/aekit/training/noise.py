"""Input corruptions for denoising autoencoders.

Vincent et al. 2008, "Extracting and Composing Robust Features with Denoising
Autoencoders" (https://doi.org/10.1145/1390156.1390294): corrupt the input, keep
the clean input as the target. Any model becomes a denoising autoencoder.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch

from ..errors import AekitError

LAYER = "base"  # below every layer: any layer may import it

NOISE_KINDS = ("gaussian", "salt-and-pepper", "mask")


@dataclass(frozen=True)
class Noise:
    kind: str  # one of NOISE_KINDS
    amount: float  # gaussian: sigma; salt-and-pepper and mask: probability per value

    def __post_init__(self) -> None:
        if self.kind not in NOISE_KINDS:
            raise AekitError(
                f"unknown noise {self.kind!r}; choose from {', '.join(NOISE_KINDS)}"
            )
        if isinstance(self.amount, bool) or not isinstance(self.amount, numbers.Real):
            raise AekitError(f"noise amount must be a number, got {self.amount!r}")
        if not math.isfinite(self.amount):  # inf sigma would turn inputs into NaN
            raise AekitError(f"noise amount must be finite, got {self.amount}")
        if self.kind == "gaussian" and not self.amount >= 0:
            raise AekitError(f"gaussian noise needs sigma >= 0, got {self.amount}")
        if self.kind != "gaussian" and not 0 <= self.amount <= 1:
            raise AekitError(
                f"{self.kind} noise needs a probability in [0, 1], got {self.amount}"
            )

    @classmethod
    def parse(cls, spec: str) -> Noise:
        """'gaussian:0.3', 'salt-and-pepper:0.1' or 'mask:0.25'."""
        kind, sep, amount = spec.partition(":")
        if not sep:
            raise AekitError(
                f"noise must look like KIND:AMOUNT (e.g. gaussian:0.3), got {spec!r}"
            )
        try:
            value = float(amount)
        except ValueError:
            raise AekitError(f"noise amount must be a number, got {amount!r}") from None
        return cls(kind.strip(), value)

    def __str__(self) -> str:
        return f"{self.kind}:{self.amount:g}"

    def __call__(
        self,
        x: torch.Tensor,
        *,
        bounds: tuple[float, float] | None = (0.0, 1.0),
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Corrupt x; `bounds` is the data's range (None for unbounded real data)."""

        def rand(normal: bool = False) -> torch.Tensor:
            if generator is None:  # draw on x's device, from the global (seeded) stream
                return torch.randn_like(x) if normal else torch.rand_like(x)
            fn = torch.randn if normal else torch.rand  # a CPU generator: fixed draws
            return fn(x.shape, generator=generator).to(x.device, x.dtype)

        if self.kind == "gaussian":
            noisy = x + self.amount * rand(normal=True)
            return noisy.clamp(*bounds) if bounds is not None else noisy
        hit = rand() < self.amount
        if self.kind == "mask":  # masking noise: forget a random subset of the values
            return x.masked_fill(hit, 0.0)
        lo, hi = bounds if bounds is not None else (float(x.min()), float(x.max()))
        salt = rand() < 0.5
        return torch.where(hit, torch.where(salt, hi, lo), x).to(x.dtype)
