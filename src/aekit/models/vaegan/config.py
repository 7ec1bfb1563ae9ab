"""VAEGANConfig: the VAE-GAN's options (Larsen et al. 2016,
https://arxiv.org/abs/1512.09300), torch-free."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import AekitError
from ..configs import positive_int_tuple
from ..options import option
from ..vae.config import VAEConfig


@dataclass(frozen=True)
class VAEGANConfig(VAEConfig):
    """A VAE's options plus the discriminator's and the weights of the GAN terms."""

    disc_hidden: tuple[int, ...] = option(
        (256, 128),
        "VAE-GAN: discriminator widths; the last hidden layer gives the features",
        metavar="W,W,...",
    )
    feature_weight: float = option(
        0.1, "VAE-GAN: weight of the reconstruction error in D's features", metavar="W"
    )
    pixel_weight: float = option(
        1.0, "VAE-GAN: weight of the pixel reconstruction term", metavar="W"
    )
    gan_weight: float = option(
        0.1, "VAE-GAN: weight of the generator's adversarial term", metavar="W"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(
            self,
            "disc_hidden",
            positive_int_tuple(self.disc_hidden, "disc_hidden", allow_empty=False),
        )
        for name in ("feature_weight", "pixel_weight", "gan_weight"):
            if getattr(self, name) < 0:
                raise AekitError(f"{name} must be >= 0, got {getattr(self, name)}")
