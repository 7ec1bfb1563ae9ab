"""A body with a deterministic linear code: what the WAE and the AAE share.

x -> body -> z -> body^T -> x_hat, with no posterior; a family adds its penalty on
the codes in `loss` and any extra modules in `extra_modules` (built before the
weights are initialised, so a seed draws the same weights whatever the family adds).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import Condition, Model
from .bodies import make_body
from .coded_config import CodedConfig
from .layers import init_weights, output_activation


class CodedAutoencoder(Model):
    """The shared body, code and decoder; subclasses state their loss."""

    def __init__(self, config: CodedConfig):
        super().__init__()
        self.config = c = config
        self.body = make_body(
            c.body,
            c.input_shape,
            hidden=c.hidden,
            channels=(),  # an MLP body: no conv widths
            act=c.activation,
            upsample="transpose",
        )
        self.to_code = nn.Linear(self.body.features, c.latent_dim)
        self.from_code = nn.Linear(c.latent_dim, self.body.features)
        self.extra_modules()
        init_weights(self)

    def extra_modules(self) -> None:
        """Modules a family adds (the AAE's discriminator); none by default."""

    def encode(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        return self.to_code(self.body.encode(x)[0])  # (B, latent)

    def decode(self, z: torch.Tensor, c: Condition = None) -> torch.Tensor:
        logits = self.body.decode(self.from_code(z), None)
        return output_activation(self.config.output, logits)

    def forward(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        return self.code_and_reconstruction(x)[1]

    def code_and_reconstruction(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(z, x_hat) from one pass, max-unpool switches carried through."""
        h, switches = self.body.encode(x)
        z = self.to_code(h)  # (B, latent)
        logits = self.body.decode(self.from_code(z), switches)
        return z, output_activation(self.config.output, logits)

    def squared_error(self, x_hat: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """|x - x_hat|^2 summed per example, averaged over the batch."""
        recon = F.mse_loss(x_hat.float(), target.float(), reduction="none")
        return recon.flatten(1).sum(1).mean()
