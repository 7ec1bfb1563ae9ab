"""CodedConfig: the body and code options of the deterministic-code families."""

from __future__ import annotations

from dataclasses import dataclass

from .configs import ACTIVATION_NAMES, UPSAMPLE_MODES
from .options import option


@dataclass(frozen=True)
class CodedConfig:
    """The body and code options of a deterministic-code family (wae, aae)."""

    input_shape: tuple[int, ...] = option((), "(C, H, W) or (D,)", cli=False)
    latent_dim: int = option(8, "code size", metavar="N")
    body: str = option("mlp", "mlp or conv", cli=False)  # the registry name fixes it
    hidden: tuple[int, ...] = option((512, 256), "MLP widths", metavar="W,W,...")
    channels: tuple[int, ...] = option((32, 64), "conv widths", metavar="C,C,...")
    upsample: str = option("transpose", "conv upsampling", choices=UPSAMPLE_MODES)
    activation: str = option("relu", "hidden activation", choices=ACTIVATION_NAMES)
    output: str = option("sigmoid", "set from the data's scaling", cli=False)
