"""What every family's config shares: option names, checks and parsers, torch-free.

Each field carries its help text (and, where the command line spells it differently,
its flag) as metadata, so `aekit train` builds its options from these classes and
`aekit --help` answers without importing torch. The configs themselves live
beside their models, in each family's package (autoencoder/config.py, ...).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from ..errors import AekitError
from .options import option

ACTIVATION_NAMES = (
    "relu",
    "leaky-relu",
    "elu",
    "gelu",
    "silu",
    "tanh",
    "sigmoid",
    "linear",
)
OUTPUTS = ("sigmoid", "identity")  # sigmoid for data in [0, 1], identity for real data
UPSAMPLE_MODES = ("transpose", "nearest", "bilinear", "bed-of-nails", "max-unpool")
PIXEL_LOSSES = ("l1", "mse", "cross-entropy")
NORMS = ("none", "group", "batch")  # normalisation after each conv of a conv body
STARTS = ("random", "pca")  # an autoencoder's initial weights
TRANSPOSE = (4, 2, 1)  # kernel, stride, padding of the transposed convolution
DECODER_STARTS = ("mean", "zero")  # conv decoder at init (issue 25); zero: old runs


def positive_int_tuple(values: Sequence[int], what: str, *, allow_empty: bool) -> tuple:
    values = tuple(int(v) for v in values)
    if not allow_empty and not values:
        raise AekitError(f"{what} needs at least one value")
    if any(v < 1 for v in values):
        raise AekitError(f"{what} must be positive integers, got {list(values)}")
    return values


def check_choice(value: Any, allowed: Sequence[str], what: str) -> None:
    """One line when a named option is none of its choices."""
    if value not in allowed:
        raise AekitError(f"unknown {what} {value!r}; choose from {', '.join(allowed)}")


def check_start(config: Any) -> None:
    """A PCA start rebuilds as PCA does: identity output, mse loss, untied."""
    check_choice(config.start, STARTS, "start")
    if config.start == "pca" and (
        config.output != "identity"
        or config.recon_loss != "mse"
        or getattr(config, "tied", False)
    ):
        raise AekitError(
            "--start pca begins at PCA's reconstruction: it needs the identity "
            "output and the mse loss, and no tied weights"
        )


def check_numbers(config: Any) -> None:
    """Every number of a config is finite: NaN or inf options are bad input."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            if isinstance(v, float) and not math.isfinite(v):
                raise AekitError(f"{f.name} must be a finite number, got {v}")


def check_body(config: Any) -> None:
    """Checks the autoencoder families share: sizes, body, activation, output."""
    check_numbers(config)
    set_ = object.__setattr__
    set_(
        config,
        "input_shape",
        positive_int_tuple(config.input_shape, "input_shape", allow_empty=False),
    )
    set_(
        config, "hidden", positive_int_tuple(config.hidden, "hidden", allow_empty=True)
    )
    set_(
        config,
        "channels",
        positive_int_tuple(config.channels, "channels", allow_empty=False),
    )
    if not isinstance(config.latent_dim, int) or config.latent_dim < 1:
        raise AekitError(f"latent_dim must be at least 1, got {config.latent_dim}")
    if config.body not in ("mlp", "conv"):
        raise AekitError(f"body must be 'mlp' or 'conv', got {config.body!r}")
    check_choice(config.upsample, UPSAMPLE_MODES, "upsampling")
    check_choice(config.activation, ACTIVATION_NAMES, "activation")
    check_choice(config.output, OUTPUTS, "output")


def check_recon_loss(config: Any) -> None:
    """A deterministic autoencoder's loss: mse, or bce for data in [0, 1]."""
    if config.recon_loss not in ("mse", "bce"):
        loss = config.recon_loss
        raise AekitError(f"recon_loss must be 'mse' or 'bce', got {loss!r}")
    if config.recon_loss == "bce" and config.output != "sigmoid":
        raise AekitError("recon_loss 'bce' needs data in [0, 1] (a sigmoid output)")


def kl_warmup_option(default: int = 0) -> Any:
    """The variational families' KL warm-up field (`--kl-warmup`), one definition."""
    return option(
        default,
        "ramp the KL weight from 0 to beta over this many epochs",
        flag="kl-warmup",
        metavar="EPOCHS",
    )


def check_variational(config: Any) -> None:
    """A VAE's decoder and KL options, whatever its body."""
    if config.likelihood not in ("bernoulli", "gaussian"):
        raise AekitError(
            f"likelihood must be 'bernoulli' or 'gaussian', got {config.likelihood!r}"
        )
    if config.likelihood == "bernoulli" and config.output != "sigmoid":
        raise AekitError(
            "a Bernoulli decoder needs data in [0, 1]; use --likelihood gaussian "
            "for standardised or real-valued data"
        )
    if config.sigma is not None and not config.sigma > 0:
        raise AekitError(f"sigma must be positive, got {config.sigma}")
    if config.beta < 0:
        raise AekitError(f"beta must be >= 0, got {config.beta}")
    if config.kl_warmup_epochs < 0:
        raise AekitError("kl_warmup_epochs must be >= 0")


def _kind_and_count(text: str, kinds: tuple[str, ...], what: str) -> tuple[str, int]:
    kind, sep, count = str(text).strip().lower().partition(":")
    if kind not in kinds or not sep or not count.strip().isdigit():
        raise AekitError(
            f"{what} must be one of {'|'.join(kinds)} with :K, got {text!r}"
        )
    if int(count) < 1:
        raise AekitError(f"{what} {text!r} needs K >= 1")
    return kind, int(count)


def parse_prior(text: str) -> tuple[str, int]:
    """'standard' / 'conditional' -> (kind, 0); 'mog:K' / 'vamp:K' -> (kind, K >= 1)."""
    if str(text).strip().lower() in ("standard", "conditional"):
        return str(text).strip().lower(), 0
    try:
        return _kind_and_count(text, ("mog", "vamp"), "prior")
    except AekitError as e:
        also = "; or standard (conditional models: conditional)"
        raise AekitError(f"{e}{also}") from None


def parse_objective(text: str) -> int:
    """'elbo' -> 1 sample; 'iwae:K' -> K importance samples (K >= 1)."""
    if str(text).strip().lower() == "elbo":
        return 1
    try:
        return _kind_and_count(text, ("iwae",), "objective")[1]
    except AekitError as e:
        raise AekitError(f"{e}; or elbo") from None


def transpose_output_padding(kernel: int, stride: int, padding: int) -> int:
    """The output_padding that makes a transposed convolution double any size, or a
    clear error: out = (H - 1) * stride - 2 * padding + kernel + output_padding."""
    if stride != 2:
        raise AekitError(
            f"transposed convolutions must double the size: stride 2, got {stride}"
        )
    extra = 2 * padding + 2 - kernel  # 2H = 2H - 2 - 2p + k + extra
    if kernel < 1 or padding < 0 or extra not in (0, 1):
        raise AekitError(
            f"a transposed convolution with kernel {kernel}, stride 2, padding "
            f"{padding} does not double the size; use kernel 2*padding+2 "
            f"(or 2*padding+1), e.g. 4/2/1, 3/2/1, 2/2/0"
        )
    return extra
