"""VAEConfig: the variational autoencoder's options, torch-free."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import AekitError
from ..configs import (
    ACTIVATION_NAMES,
    UPSAMPLE_MODES,
    check_body,
    check_choice,
    check_variational,
    kl_warmup_option,
    parse_objective,
    parse_prior,
)
from ..options import option

OUTPUT_STARTS = ("zero", "mean")  # aekit.models.decoder_start.fit_output_bias


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
    kl_warmup_epochs: int = kl_warmup_option()
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
    # not the default: it cost Fashion-MNIST NLL and Fréchet (BENCHMARKS.md)
    output_start: str = option(
        "zero",
        "MLP decoder output bias at init: zero, or mean (pixels the data nearly "
        "never change start at their mean)",
        choices=OUTPUT_STARTS,
    )

    def __post_init__(self) -> None:
        check_body(self)
        if parse_prior(self.prior)[0] == "conditional" and not self.takes_condition:
            raise AekitError(
                "prior 'conditional' is for conditional models (cvae, conv-cvae)"
            )
        parse_objective(self.objective)
        check_variational(self)
        check_choice(self.output_start, OUTPUT_STARTS, "output start")
        if self.output_start == "mean" and self.body != "mlp":
            raise AekitError("output start 'mean' is for MLP bodies")

    @property
    def starts_at_mean(self) -> bool:
        """Whether the decoder's output bias starts at the data's mean."""
        return self.output_start == "mean"

    @property
    def takes_condition(self) -> bool:
        return False


@dataclass(frozen=True)
class MLPVAEConfig(VAEConfig):
    """The MLP VAE's options: a 3-epoch KL warm-up by default (issue 22: with it
    the NLL of pythae's VAE is met on mnist and Fashion-MNIST, BENCHMARKS.md)."""

    kl_warmup_epochs: int = kl_warmup_option(3)
