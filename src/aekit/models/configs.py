"""Model configurations: frozen dataclasses, importable without torch.

Each field carries its help text (and, where the command line spells it differently,
its flag) as metadata, so `aekit train` builds its options from these classes and
`aekit --help` answers without importing torch. The model classes that these
configure live beside this module (autoencoder.py, vae.py, unet.py, segnet.py).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
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


def _check_body(config: Any) -> None:
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
        _check_body(self)
        check_recon_loss(self)
        if self.sparsity < 0:
            raise AekitError(f"sparsity must be >= 0, got {self.sparsity}")
        check_choice(self.norm, NORMS, "norm")
        check_regularisers(self)
        check_choice(self.decoder_start, DECODER_STARTS, "decoder start")
        check_start(self)


@dataclass(frozen=True)
class VAEConfig:
    input_shape: tuple[int, ...] = option(
        (), "(C, H, W) images or (D,) vectors", cli=False
    )
    latent_dim: int = option(16, "code size", metavar="N")
    body: str = option("mlp", "mlp or conv", cli=False)
    hidden: tuple[int, ...] = option(
        (512, 256), "MLP widths, mirrored in the decoder", metavar="W,W,..."
    )
    channels: tuple[int, ...] = option(
        (32, 64), "conv widths, one 2x pooling each", metavar="C,C,..."
    )
    upsample: str = option(
        "transpose", "how the conv decoder doubles resolution", choices=UPSAMPLE_MODES
    )
    activation: str = option("relu", "hidden activation", choices=ACTIVATION_NAMES)
    output: str = option(
        "sigmoid", "decoder mean: sigmoid for [0, 1], else identity", cli=False
    )
    likelihood: str = option(
        "bernoulli",
        "VAE decoder (auto: bernoulli for [0,1] data, else gaussian)",
        choices=("auto", "bernoulli", "gaussian"),
    )
    sigma: float | None = option(
        None, "Gaussian decoder std (default: learned)", metavar="S"
    )
    beta: float = option(1.0, "weight of the KL term; 1 is the true ELBO", metavar="B")
    kl_warmup_epochs: int = option(
        0,
        "ramp the KL weight from 0 to beta over this many epochs",
        flag="kl-warmup",
        metavar="EPOCHS",
    )
    prior: str = option(
        "standard",
        "prior over codes: standard N(0, I), mog:K (a learned mixture of K "
        "Gaussians), vamp:K (VampPrior, K learned pseudo-inputs) or, for "
        "conditional models, conditional (a learned Gaussian per condition)",
        metavar="standard|mog:K|vamp:K|conditional",
    )
    objective: str = option(
        "elbo",
        "training bound: elbo, or iwae:K (importance weighted, K samples)",
        metavar="elbo|iwae:K",
    )

    def __post_init__(self) -> None:
        _check_body(self)
        if parse_prior(self.prior)[0] == "conditional" and not self.takes_condition:
            raise AekitError(
                "prior 'conditional' is for conditional models (cvae, conv-cvae)"
            )
        parse_objective(self.objective)
        check_variational(self)

    @property
    def takes_condition(self) -> bool:
        return False


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


@dataclass(frozen=True)
class CVAEConfig(VAEConfig):
    """A VAE whose encoder and decoder also see a condition (aekit.models.cvae)."""

    classes: int = option(
        10, "how many class labels the condition takes", cli=False
    )  # set from the data
    attributes: int = option(
        0, "width of attribute conditions; 0: the condition is a label", cli=False
    )  # set by --condition COL1,COL2
    # a conditional model's own default: a learned Gaussian p(z|c) per condition
    prior: str = option(
        "conditional",
        "prior over codes: conditional (a learned N(m_c, s_c^2) per condition), "
        "standard N(0, I), mog:K or vamp:K",
        metavar="conditional|standard|mog:K|vamp:K",
    )

    decoder_condition: str = option(
        "every",
        "where a conditional decoder sees the condition: every hidden layer, or "
        "its input (beside the code) only",
        choices=("every", "input"),
    )

    @property
    def takes_condition(self) -> bool:
        return True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.attributes < 0 or (self.attributes == 0 and self.classes < 1):
            raise AekitError("a conditional VAE needs classes >= 1 or attributes >= 1")


@dataclass(frozen=True)
class BetaTCVAEConfig(VAEConfig):
    """beta-TC-VAE (aekit.models.betatc): the KL split into three weighted terms."""

    tc_weight: float = option(
        6.0,
        "weight of the total correlation term (beta of beta-TC-VAE)",
        metavar="B",
    )
    dataset_size: int = option(
        0, "training examples, for the minibatch-weighted estimator", cli=False
    )  # set from the data; 0: the batch is taken for the data set

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.tc_weight < 0:
            raise AekitError(f"tc_weight must be >= 0, got {self.tc_weight}")
        if self.dataset_size < 0:
            raise AekitError("dataset_size must be >= 0")


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
