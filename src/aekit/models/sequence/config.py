"""Sequence model configurations (conv1d, conv1d-vae, lstm, lstm-vae), without torch.

Declared with `option` like every config, so `aekit train` offers their fields: flags
shared with the image models mean the same (--latent-dim, --channels, --upsample,
--activation, --loss, --likelihood, --beta, --kl-warmup); the LSTM's state size is
--hidden-size (not --hidden, the MLP widths). The models live in model.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import AekitError
from ..configs import (
    ACTIVATION_NAMES,
    OUTPUTS,
    STARTS,
    check_choice,
    check_numbers,
    check_recon_loss,
    check_start,
    check_variational,
    kl_warmup_option,
    positive_int_tuple,
)
from ..options import option

UPSAMPLE_1D = ("nearest", "linear", "transpose")
CELLS = ("lstm", "gru")  # recurrent.py
ORDERS = ("reverse", "forward")
TEACHER_EPOCHS = 5  # the lstm's scheduled move to free running
_SHAPE = "(C, T): channels (or pitches), time steps"


def check_sequence(config: Any) -> None:
    """Checks every sequence config shares: shape, code, body, output, loss."""
    check_numbers(config)
    shape = positive_int_tuple(config.input_shape, "input_shape", allow_empty=False)
    if len(shape) != 2:
        raise AekitError(
            f"a sequence model needs samples (C, T), got sample shape {shape}; "
            "load a series with a window"
        )
    object.__setattr__(config, "input_shape", shape)
    if not isinstance(config.latent_dim, int) or config.latent_dim < 1:
        raise AekitError(f"latent_dim must be at least 1, got {config.latent_dim}")
    check_choice(config.output, OUTPUTS, "output")
    if hasattr(config, "channels"):
        channels = positive_int_tuple(config.channels, "channels", allow_empty=False)
        object.__setattr__(config, "channels", channels)
        if config.kernel_size < 1 or config.kernel_size % 2 == 0:
            raise AekitError(f"kernel_size must be odd, got {config.kernel_size}")
        check_choice(config.upsample, UPSAMPLE_1D, "upsampling")
        check_choice(config.activation, ACTIVATION_NAMES, "activation")
    elif config.hidden_size < 1 or config.num_layers < 1:
        raise AekitError("hidden_size and num_layers must be at least 1")
    if hasattr(config, "recon_loss"):
        check_recon_loss(config)
    else:
        check_variational(config)


def check_vae_start(config: Any) -> None:
    """A VAE's PCA start (probabilistic PCA) needs the Gaussian decoder, identity
    output."""
    check_choice(config.start, STARTS, "start")
    if config.start == "pca" and (
        config.likelihood != "gaussian" or config.output != "identity"
    ):
        raise AekitError(
            "--start pca begins a VAE at probabilistic PCA: it needs the gaussian "
            "likelihood and the identity output"
        )


def _latent() -> Any:
    return option(16, "code size", metavar="N")


def _channels() -> Any:
    return option((32, 64), "conv widths, one 2x pooling each", metavar="C,C,...")


def _kernel() -> Any:
    return option(5, "conv1d kernel size, odd ('same' padding)", metavar="K")


def _upsample() -> Any:
    return option(
        "nearest", "how the conv decoder doubles resolution", choices=UPSAMPLE_1D
    )


def _activation() -> Any:
    return option("relu", "hidden activation", choices=ACTIVATION_NAMES)


def _output() -> Any:  # set from the data: sigmoid for piano rolls, else identity
    return option("identity", "identity for series, sigmoid for rolls", cli=False)


def _recon_loss() -> Any:
    return option(
        "mse", "autoencoder reconstruction loss", flag="loss", choices=("mse", "bce")
    )


def _hidden_size() -> Any:
    return option(64, "LSTM state size, encoder and decoder", metavar="H")


def _num_layers() -> Any:
    return option(1, "stacked LSTM layers, encoder and decoder", metavar="L")


def _likelihood() -> Any:
    return option(
        "gaussian",
        "VAE decoder (auto: bernoulli for [0,1] data, else gaussian)",
        choices=("auto", "bernoulli", "gaussian"),
        shown="auto",  # aekit train picks it from the data (tasks.model_options)
    )


def _sigma() -> Any:
    return option(None, "Gaussian decoder std (default: learned)", metavar="S")


def _beta() -> Any:
    return option(1.0, "weight of the KL term; 1 is the true ELBO", metavar="B")


def _start() -> Any:
    return option(
        "random",
        "initial weights: random, or pca (a linear path fixed at the training "
        "windows' PCA plus a learned correction that starts at zero)",
        choices=STARTS,
        shown="pca for series windows, else random",
    )


@dataclass(frozen=True)
class Conv1dConfig:
    input_shape: tuple[int, ...] = option((), _SHAPE, cli=False)
    latent_dim: int = _latent()
    channels: tuple[int, ...] = _channels()
    kernel_size: int = _kernel()
    upsample: str = _upsample()
    activation: str = _activation()
    output: str = _output()
    recon_loss: str = _recon_loss()  # "bce" suits piano rolls

    start: str = _start()

    def __post_init__(self) -> None:
        check_sequence(self)
        check_start(self)


@dataclass(frozen=True)
class Conv1dVAEConfig:
    input_shape: tuple[int, ...] = option((), _SHAPE, cli=False)
    latent_dim: int = _latent()
    channels: tuple[int, ...] = _channels()
    kernel_size: int = _kernel()
    upsample: str = _upsample()
    activation: str = _activation()
    output: str = _output()
    likelihood: str = _likelihood()  # gaussian for series, bernoulli for rolls
    sigma: float | None = _sigma()
    beta: float = _beta()
    kl_warmup_epochs: int = kl_warmup_option()

    def __post_init__(self) -> None:
        check_sequence(self)


@dataclass(frozen=True)
class LSTMConfig:
    input_shape: tuple[int, ...] = option((), _SHAPE, cli=False)
    latent_dim: int = _latent()
    hidden_size: int = _hidden_size()
    num_layers: int = _num_layers()
    output: str = _output()
    recon_loss: str = _recon_loss()
    cell: str = option("lstm", "recurrent cell, encoder and decoder", choices=CELLS)
    bidirectional: bool = option(False, "the encoder reads the window both ways")
    order: str = option(
        "reverse",
        "the order the decoder writes the window in (reverse: last step first, "
        "as EncDec-AD)",
        choices=ORDERS,
    )
    teacher_forcing: int = option(
        TEACHER_EPOCHS,
        "epochs over which the decoder moves from being fed the true previous "
        "value to its own (scheduled sampling); 0: fed only the code",
        metavar="EPOCHS",
    )

    start: str = _start()

    def __post_init__(self) -> None:
        check_sequence(self)
        check_start(self)
        check_choice(self.cell, CELLS, "cell")
        check_choice(self.order, ORDERS, "order")
        if not isinstance(self.teacher_forcing, int) or self.teacher_forcing < 0:
            raise AekitError(
                f"teacher_forcing must be a whole number of epochs >= 0, got "
                f"{self.teacher_forcing}"
            )


@dataclass(frozen=True)
class LSTMVAEConfig:
    input_shape: tuple[int, ...] = option((), _SHAPE, cli=False)
    latent_dim: int = _latent()
    hidden_size: int = _hidden_size()
    num_layers: int = _num_layers()
    output: str = _output()
    likelihood: str = _likelihood()
    sigma: float | None = _sigma()
    beta: float = _beta()
    kl_warmup_epochs: int = kl_warmup_option()

    start: str = _start()  # pca: aekit.models.vae_pca_start

    def __post_init__(self) -> None:
        check_sequence(self)
        check_vae_start(self)
