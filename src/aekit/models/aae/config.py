"""AAEConfig: the adversarial autoencoder's options, beside its model."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import AekitError
from ..coded_config import CodedConfig
from ..options import option


@dataclass(frozen=True)
class AAEConfig(CodedConfig):
    adversarial_weight: float = option(
        1.0, "weight of the encoder's adversarial term", metavar="W"
    )
    discriminator_width: int = option(
        256, "hidden width of the code discriminator", metavar="W"
    )
    # k discriminator steps per generator step, as in Goodfellow et al. 2014, alg. 1
    discriminator_steps: int = option(
        1, "discriminator steps per autoencoder step (k)", metavar="K"
    )
    discriminator_lr: float = option(
        1.0, "the discriminator's learning rate, as a multiple of --lr", metavar="X"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.adversarial_weight >= 0:
            raise AekitError(
                f"adversarial_weight must be >= 0, got {self.adversarial_weight}"
            )
        if self.discriminator_width < 1:
            raise AekitError("discriminator_width must be at least 1")
        if self.discriminator_steps < 1:
            raise AekitError("discriminator_steps must be at least 1")
        if not self.discriminator_lr > 0:
            raise AekitError("discriminator_lr must be positive")
