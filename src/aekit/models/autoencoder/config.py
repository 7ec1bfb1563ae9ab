"""AutoencoderConfig: the deterministic autoencoder's options, torch-free."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...errors import AekitError
from ..configs import (
    ACTIVATION_NAMES,
    DECODER_STARTS,
    NORMS,
    STARTS,
    TRANSPOSE,
    UPSAMPLE_MODES,
    check_body,
    check_choice,
    check_recon_loss,
    check_start,
    transpose_output_padding,
)
from ..options import option


@dataclass(frozen=True)
class AutoencoderConfig:
    input_shape: tuple[int, ...] = option(
        (), "(C, H, W) images or (D,) vectors", cli=False
    )
    latent_dim: int = option(16, "code size", metavar="N")
    body: str = option("mlp", "mlp or conv", cli=False)  # the registry name fixes it
    hidden: tuple[int, ...] = option(
        (512, 256, 128),
        "MLP widths, mirrored in the decoder; '' for a shallow AE",
        metavar="W,W,...",
    )
    channels: tuple[int, ...] = option(
        (32, 64), "conv widths, one 2x pooling each", metavar="C,C,..."
    )
    upsample: str = option(
        "transpose", "how the conv decoder doubles resolution", choices=UPSAMPLE_MODES
    )
    # batch norm: 5 epochs on mnist-5k, 1.00x -> 0.49x PCA-16's MSE (BENCHMARKS.md)
    norm: str = option(
        "batch", "normalisation after each conv of a conv body", choices=NORMS
    )
    activation: str = option("relu", "hidden activation", choices=ACTIVATION_NAMES)
    output: str = option(
        "sigmoid", "sigmoid for data in [0, 1], else identity", cli=False
    )  # set from the data's scaling
    recon_loss: str = option(
        "mse", "autoencoder reconstruction loss", flag="loss", choices=("mse", "bce")
    )
    sparsity: float = option(
        0.0,
        "weight of the L1 penalty on the code (a sparse AE); 1e-5..1e-4 keeps "
        "the MSE (mnist-5k), 1e-3 costs half again, 3e-3 and up silence most units",
        metavar="W",
    )
    contractive: float = option(
        0.0, "weight of the contractive penalty |dz/dx|_F^2 (MLP bodies)", metavar="W"
    )
    sparsity_target: float | None = option(
        None,
        "KL sparsity: target mean activation rho of each code unit, in (0, 1)",
        metavar="RHO",
    )
    kl_sparsity_weight: float = option(
        3.0, "weight of the KL sparsity term (Ng's beta)", metavar="W"
    )
    tied: bool = option(False, "tied MLP decoder weights (the encoder's, transposed)")
    # pca: tables 0.70x PCA (median of 7) against 0.66x, never above 1.0x against
    # up to 1.13x (benchmarks/defaults_panel.py); the data decide the default
    start: str = option(
        "random",
        "initial weights: random, or pca (a linear path fixed at the training "
        "data's PCA plus a learned non-linear correction that starts at zero: it "
        "starts as PCA and keeps the best of that and training)",
        choices=STARTS,
        shown="pca for tables and small image sets, else random",
    )
    decoder_start: str = option(
        "mean", "conv output at init: the data's mean, or zero", choices=DECODER_STARTS
    )
    transpose_kernel: int = option(
        TRANSPOSE[0],
        "kernel of the transposed convolution (conv, transpose)",
        metavar="K",
    )
    transpose_stride: int = option(
        TRANSPOSE[1], "stride of the transposed convolution (must be 2)", metavar="S"
    )
    transpose_padding: int = option(
        TRANSPOSE[2], "padding of the transposed convolution", metavar="P"
    )

    def __post_init__(self) -> None:
        check_body(self)
        check_recon_loss(self)
        if self.sparsity < 0:
            raise AekitError(f"sparsity must be >= 0, got {self.sparsity}")
        check_choice(self.norm, NORMS, "norm")
        check_regularisers(self)
        check_choice(self.decoder_start, DECODER_STARTS, "decoder start")
        check_start(self)


def check_regularisers(c: AutoencoderConfig) -> None:
    """The classic regularisers' options: in range, and on a body they apply to."""
    if not (c.contractive >= 0 and math.isfinite(c.contractive)):
        raise AekitError(f"contractive must be >= 0, got {c.contractive}")
    if c.contractive > 0 and c.body != "mlp":
        raise AekitError("the contractive penalty applies to MLP bodies only")
    if c.sparsity_target is not None and not 0 < c.sparsity_target < 1:
        raise AekitError(f"sparsity_target must be in (0, 1), got {c.sparsity_target}")
    if not (c.kl_sparsity_weight >= 0 and math.isfinite(c.kl_sparsity_weight)):
        raise AekitError(f"kl_sparsity_weight must be >= 0, got {c.kl_sparsity_weight}")
    if c.tied and c.body != "mlp":
        raise AekitError("tied decoder weights apply to MLP bodies only")
    transpose = (c.transpose_kernel, c.transpose_stride, c.transpose_padding)
    if transpose != TRANSPOSE and (c.body != "conv" or c.upsample != "transpose"):
        raise AekitError(
            "transpose_kernel/stride/padding apply to conv bodies with "
            "upsample 'transpose' only"
        )
    transpose_output_padding(*transpose)
