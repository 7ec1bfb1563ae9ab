"""Configurations of the VQ-VAE (van den Oord et al. 2017,
https://arxiv.org/abs/1711.00937) and of its PixelCNN prior over the code grid (van den
Oord et al. 2016, https://arxiv.org/abs/1606.05328): frozen dataclasses, torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import AekitError
from ..configs import (
    ACTIVATION_NAMES,
    OUTPUTS,
    check_choice,
    check_numbers,
    positive_int_tuple,
)
from ..options import option


def _check_grid_image(config: Any) -> None:
    """A conv encoder that halves the image len(channels) times needs even sides."""
    shape = config.input_shape
    if len(shape) != 3:
        raise AekitError(f"{config.__class__.__name__} takes images (C, H, W)")
    step = 2 ** len(config.channels)
    if shape[1] % step or shape[2] % step:
        raise AekitError(
            f"images of {shape[1]}x{shape[2]} do not halve {len(config.channels)} "
            f"times; use sides divisible by {step} or fewer --channels"
        )


@dataclass(frozen=True)
class VQVAEConfig:
    input_shape: tuple[int, ...] = option(
        (), "(C, H, W) images or (D,) vectors", cli=False
    )
    channels: tuple[int, ...] = option(
        (32, 64), "conv widths, one 2x pooling each", metavar="C,C,..."
    )
    codebook_size: int = option(128, "VQ-VAE: codes in the codebook (K)", metavar="K")
    code_dim: int = option(16, "VQ-VAE: width of each code vector (D)", metavar="D")
    commitment: float = option(
        0.25, "VQ-VAE: weight of the commitment loss (beta)", metavar="W"
    )
    ema_decay: float = option(
        0.99, "VQ-VAE: decay of the EMA codebook updates", metavar="DECAY"
    )
    dead_after: int = option(
        20,
        "VQ-VAE: training steps a code may go unused before it restarts at a "
        "random encoder output (0: never)",
        metavar="STEPS",
    )
    activation: str = option("relu", "hidden activation", choices=ACTIVATION_NAMES)
    output: str = option(
        "sigmoid", "sigmoid for data in [0, 1], else identity", cli=False
    )

    def __post_init__(self) -> None:
        check_numbers(self)
        set_ = object.__setattr__
        set_(
            self,
            "input_shape",
            positive_int_tuple(self.input_shape, "input_shape", allow_empty=False),
        )
        set_(
            self,
            "channels",
            positive_int_tuple(self.channels, "channels", allow_empty=False),
        )
        _check_grid_image(self)
        if self.codebook_size < 2:
            raise AekitError(
                f"codebook_size must be at least 2, got {self.codebook_size}"
            )
        if self.code_dim < 1:
            raise AekitError(f"code_dim must be at least 1, got {self.code_dim}")
        if self.commitment < 0:
            raise AekitError(f"commitment must be >= 0, got {self.commitment}")
        if not 0 <= self.ema_decay < 1:
            raise AekitError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.dead_after < 0:
            raise AekitError(f"dead_after must be >= 0, got {self.dead_after}")
        check_choice(self.activation, ACTIVATION_NAMES, "activation")
        check_choice(self.output, OUTPUTS, "output")


# how a VQ-VAE run's PixelCNN prior is trained (aekit.tasks.learned_prior, `fit-prior`)
PRIOR_EPOCHS = 20
PRIOR_LR = 1e-3
PRIOR_BATCH = 64


@dataclass(frozen=True)
class PixelCNNConfig:
    input_shape: tuple[int, ...] = option(
        (1, 7, 7), "(1, H, W): one code index per grid position", cli=False
    )
    codebook_size: int = option(128, "codes a position can take (K)", cli=False)
    width: int = option(32, "feature maps per masked convolution", cli=False)
    layers: int = option(4, "gated masked convolutions of type B", cli=False)
    kernel: int = option(5, "odd kernel size of the masked convolutions", cli=False)

    def __post_init__(self) -> None:
        shape = positive_int_tuple(self.input_shape, "input_shape", allow_empty=False)
        object.__setattr__(self, "input_shape", shape)
        if len(shape) != 3 or shape[0] != 1:
            raise AekitError(f"a code grid has shape (1, H, W), got {shape}")
        if self.codebook_size < 2 or self.width < 1 or self.layers < 0:
            raise AekitError("a PixelCNN needs K >= 2, width >= 1, layers >= 0")
        if self.kernel < 3 or self.kernel % 2 == 0:
            raise AekitError(f"kernel must be odd and >= 3, got {self.kernel}")

    @property
    def grid(self) -> tuple[int, int]:
        return self.input_shape[1], self.input_shape[2]
