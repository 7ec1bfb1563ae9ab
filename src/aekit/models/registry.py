"""The model registry: name -> (class, config, fixed options, declared capabilities).

Importable without torch: classes are named as "module:Class" and imported on first
use, so the command line can list models and build its options from the configs
alone. Consumers (sampling, plots, evaluation, export, the explorer, the scikit-learn
estimators, the report) read `Capabilities`; nothing guesses from attributes.
A new family is one file plus one entry here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from ..errors import AekitError
from .aae.config import AAEConfig as _AAEConfig
from .autoencoder.config import AutoencoderConfig
from .betatc.config import BetaTCVAEConfig
from .cvae.config import CVAEConfig
from .image_to_image.config import SegNetConfig, UNetConfig
from .music.config import MusicVAEConfig
from .sae.config import SAEConfig
from .sequence.config import (
    Conv1dConfig,
    Conv1dVAEConfig,
    LSTMConfig,
    LSTMVAEConfig,
)
from .vae.config import MLPVAEConfig, VAEConfig
from .vaegan.config import VAEGANConfig
from .vqvae.config import PixelCNNConfig, VQVAEConfig
from .wae.config import WAEConfig as _WAEConfig

INPUT_KINDS = ("vector", "image", "sequence")
SAMPLERS = ("prior", "fitted", "learned")  # how new examples are drawn
EXPORTABLE = ("encoder", "decoder", "autoencoder", "model")


@dataclass(frozen=True)
class Capabilities:
    """What a model can do, declared once in its registry entry."""

    posterior: bool = False  # encode_distribution(x, c) -> (mu, logvar)
    sampler: str | None = "fitted"  # prior | fitted (Gaussian on codes) | learned
    codes: str | None = "continuous"  # continuous | discrete | None (no code)
    conditional: bool = False  # encode, decode and loss use the condition c
    inputs: tuple[str, ...] = ("vector", "image")  # the sample kinds it accepts
    exports: tuple[str, ...] = ("encoder", "decoder", "autoencoder")  # ONNX graphs
    optimisers: int = 1  # >1: named parameter groups, one optimiser each
    tasks: tuple[str, ...] = ("reconstruct",)  # reconstruct, colorize, segment

    def __post_init__(self) -> None:
        if self.sampler not in (*SAMPLERS, None):
            raise AekitError(f"sampler must be one of {SAMPLERS} or None")
        if self.codes not in ("continuous", "discrete", None):
            raise AekitError("codes must be continuous, discrete or None")
        if set(self.inputs) - set(INPUT_KINDS) or set(self.exports) - set(EXPORTABLE):
            raise AekitError(f"unknown input kind or export in {self}")
        if self.optimisers < 1:
            raise AekitError("a model trains with at least one optimiser")

    @property
    def has_code(self) -> bool:
        return self.codes is not None


@dataclass(frozen=True)
class ModelSpec:
    target: str | type  # "aekit.models.vae.model:VAE" (imported when first used)
    config: type  # the frozen dataclass the class is built from
    fixed: dict[str, Any] = field(default_factory=dict)  # options the name implies
    capabilities: Capabilities = field(default_factory=Capabilities)
    description: str = ""

    @property
    def cls(self) -> type:
        if isinstance(self.target, type):
            return self.target
        module, _, name = self.target.partition(":")
        return getattr(import_module(module), name)

    def options(self) -> set[str]:
        """Config fields a user may set (input_shape and fixed ones excluded)."""
        names = {f.name for f in dataclasses.fields(self.config)}
        return names - {"input_shape"} - set(self.fixed)


_AE = "aekit.models.autoencoder.model:Autoencoder"
_VAE = "aekit.models.vae.model:VAE"
_SEQ = "aekit.models.sequence.model:"
_SEQUENCE = Capabilities(inputs=("sequence",))
_SEQUENCE_VAE = Capabilities(posterior=True, sampler="prior", inputs=("sequence",))
_CVAE = "aekit.models.cvae.model:CVAE"
_IMAGE_TO_IMAGE = Capabilities(
    sampler=None,
    codes=None,
    inputs=("image",),
    exports=("model",),
    tasks=("colorize", "segment"),
)

MODELS: dict[str, ModelSpec] = {
    "mlp": ModelSpec(
        _AE,
        AutoencoderConfig,
        {"body": "mlp"},
        Capabilities(),
        "MLP autoencoder, shallow (--hidden '') or deep",
    ),
    "conv": ModelSpec(
        _AE,
        AutoencoderConfig,
        {"body": "conv"},
        Capabilities(inputs=("image",)),
        "convolutional autoencoder (conv + pooling, five upsampling modes)",
    ),
    "vae": ModelSpec(
        _VAE,
        MLPVAEConfig,
        {"body": "mlp"},
        Capabilities(posterior=True, sampler="prior"),
        "variational autoencoder, MLP body",
    ),
    "conv-vae": ModelSpec(
        _VAE,
        VAEConfig,
        {"body": "conv"},
        Capabilities(posterior=True, sampler="prior", inputs=("image",)),
        "variational autoencoder, convolutional body",
    ),
    "unet": ModelSpec(
        "aekit.models.image_to_image.unet:UNet",
        UNetConfig,
        {"skip": True},
        _IMAGE_TO_IMAGE,
        "U-Net: conv encoder-decoder with skips (colorize, segment)",
    ),
    "encoder-decoder": ModelSpec(
        "aekit.models.image_to_image.unet:UNet",
        UNetConfig,
        {"skip": False},
        _IMAGE_TO_IMAGE,
        "plain conv encoder-decoder, no skips (colorize, segment)",
    ),
    "segnet": ModelSpec(
        "aekit.models.image_to_image.segnet:SegNet",
        SegNetConfig,
        {},
        _IMAGE_TO_IMAGE,
        "SegNet: decoder unpools with the pooling indices (colorize, segment)",
    ),
    "conv1d": ModelSpec(
        _SEQ + "Conv1dAutoencoder",
        Conv1dConfig,
        {},
        _SEQUENCE,
        "1-D convolutional autoencoder for series windows and piano rolls",
    ),
    "conv1d-vae": ModelSpec(
        _SEQ + "Conv1dVAE",
        Conv1dVAEConfig,
        {},
        _SEQUENCE_VAE,
        "variational autoencoder, 1-D convolutional body (series, music)",
    ),
    "lstm": ModelSpec(
        _SEQ + "LSTMAutoencoder",
        LSTMConfig,
        {},
        _SEQUENCE,
        "LSTM encoder-decoder autoencoder (sequence to sequence)",
    ),
    "lstm-vae": ModelSpec(
        _SEQ + "LSTMVAE",
        LSTMVAEConfig,
        {},
        _SEQUENCE_VAE,
        "variational LSTM encoder-decoder (series, music; MusicVAE-like)",
    ),
    "music-vae": ModelSpec(
        "aekit.models.music.model:MusicVAE",
        MusicVAEConfig,
        {},
        _SEQUENCE_VAE,
        "MusicVAE: bi-LSTM encoder, conductor over bars, per-bar decoder (rolls)",
    ),
    "vq-vae": ModelSpec(
        "aekit.models.vqvae.model:VQVAE",
        VQVAEConfig,
        {},
        Capabilities(
            sampler="learned", codes="discrete", inputs=("image",), exports=()
        ),
        "VQ-VAE: a grid of discrete codes, EMA codebook; PixelCNN prior to sample",
    ),
    "pixelcnn-prior": ModelSpec(
        "aekit.models.vqvae.pixelcnn:PixelCNNPrior",
        PixelCNNConfig,
        {},
        Capabilities(
            sampler=None,
            codes="discrete",
            inputs=("image",),
            exports=(),
            tasks=("prior",),
        ),
        "PixelCNN over a code grid: a VQ-VAE run's learned prior (a stage)",
    ),
    "vae-gan": ModelSpec(
        "aekit.models.vaegan.model:VAEGAN",
        VAEGANConfig,
        {"body": "mlp"},
        Capabilities(posterior=True, sampler="prior", optimisers=2),
        "VAE-GAN: a VAE with a discriminator; reconstruction in its features",
    ),
    "cvae": ModelSpec(
        _CVAE,
        CVAEConfig,
        {"body": "mlp"},
        Capabilities(posterior=True, sampler="prior", conditional=True),
        "conditional VAE (label or attributes), MLP body",
    ),
    "conv-cvae": ModelSpec(
        _CVAE,
        CVAEConfig,
        {"body": "conv"},
        Capabilities(
            posterior=True, sampler="prior", conditional=True, inputs=("image",)
        ),
        "conditional VAE (label or attributes), convolutional body",
    ),
    "beta-tc-vae": ModelSpec(
        "aekit.models.betatc.model:BetaTCVAE",
        BetaTCVAEConfig,
        {"body": "mlp", "prior": "standard", "objective": "elbo"},
        Capabilities(posterior=True, sampler="prior"),
        "beta-TC-VAE: KL split into MI, total correlation and dim-wise KL",
    ),
    "wae": ModelSpec(
        "aekit.models.wae.model:WAE",
        _WAEConfig,
        {"body": "mlp"},
        Capabilities(sampler="prior"),
        "Wasserstein AE (MMD, IMQ kernel), codes pulled to N(0, I)",
    ),  # noqa: E501
    "aae": ModelSpec(
        "aekit.models.aae.model:AAE",
        _AAEConfig,
        {"body": "mlp"},
        Capabilities(sampler="prior", optimisers=2),
        "adversarial autoencoder: a code discriminator against N(0, I)",
    ),  # noqa: E501
    "sae": ModelSpec(
        "aekit.models.sae.model:SAE",
        SAEConfig,
        {"output": "identity"},  # linear on any data, whatever its scaling
        Capabilities(sampler=None, inputs=("vector", "image", "sequence")),
        "sparse autoencoder: a dictionary of features (TopK, JumpReLU, L1)",
    ),
}


def spec_of(name: str) -> ModelSpec:
    if name not in MODELS:
        raise AekitError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    return MODELS[name]


def capabilities(name: str) -> Capabilities:
    return spec_of(name).capabilities


def models_for(task: str = "reconstruct") -> list[str]:
    """Registered names that do `task`, in registry order."""
    return [n for n, s in MODELS.items() if task in s.capabilities.tasks]
