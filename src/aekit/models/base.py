"""The contract every aekit model keeps, so the trainer and tools need know no more."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class Model(nn.Module):
    """encode(x) -> z, decode(z) -> x_hat, forward(x) -> x_hat, loss(x, target).

    `loss` returns a dict of scalar tensors that must hold "loss" (what is minimised);
    every other key is logged as its own column. `x_hat` is in model units, after the
    output activation, so it can be compared with `x` directly.
    """

    config: Any  # a frozen dataclass; the checkpoint stores it and rebuilds from it

    def encode(self, x: torch.Tensor) -> torch.Tensor:  # (B, *shape) -> (B, latent)
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:  # (B, latent) -> (B, *shape)
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def loss(self, x: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def set_epoch(self, epoch: int) -> None:
        """Called by the trainer before each epoch; models with schedules use it."""

    @property
    def latent_dim(self) -> int:
        return int(self.config.latent_dim)
