"""Model registry: a plain dict from CLI name to (class, config, fixed options)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..errors import AekitError
from .autoencoder import Autoencoder, AutoencoderConfig
from .base import Model
from .bodies import UPSAMPLE_MODES
from .segnet import SegNet, SegNetConfig
from .unet import UNet, UNetConfig
from .vae import VAE, VAEConfig


@dataclass(frozen=True)
class ModelSpec:
    cls: type[Model]
    config: type  # the frozen dataclass the class is built from
    fixed: dict[str, Any] = field(default_factory=dict)  # options the name implies
    description: str = ""


MODELS: dict[str, ModelSpec] = {
    "mlp": ModelSpec(
        Autoencoder,
        AutoencoderConfig,
        {"body": "mlp"},
        "MLP autoencoder, shallow (--hidden '') or deep",
    ),
    "conv": ModelSpec(
        Autoencoder,
        AutoencoderConfig,
        {"body": "conv"},
        "convolutional autoencoder (conv + pooling, five upsampling modes)",
    ),
    "vae": ModelSpec(
        VAE, VAEConfig, {"body": "mlp"}, "variational autoencoder, MLP body"
    ),
    "conv-vae": ModelSpec(
        VAE, VAEConfig, {"body": "conv"}, "variational autoencoder, convolutional body"
    ),
}

# Image-to-image models (colorization, segmentation): no vector code, so they are kept
# out of MODELS, whose contract suite expects encode/decode; runs load through both.
IMAGE_TO_IMAGE: dict[str, ModelSpec] = {
    "unet": ModelSpec(
        UNet, UNetConfig, {"skip": True}, "U-Net: conv encoder-decoder with skips"
    ),
    "encoder-decoder": ModelSpec(
        UNet, UNetConfig, {"skip": False}, "plain conv encoder-decoder, no skips"
    ),
    "segnet": ModelSpec(
        SegNet, SegNetConfig, {}, "SegNet: decoder unpools with the pooling indices"
    ),
}


def build_model(name: str, input_shape: tuple[int, ...], **options: Any) -> Model:
    """Build a registered model for samples of `input_shape`; unknown options fail."""
    spec = _spec(name)
    names = {f.name for f in dataclasses.fields(spec.config)} - {"input_shape"}
    unknown = sorted(set(options) - names)
    if unknown:
        raise AekitError(
            f"model {name!r} takes no option(s) {', '.join(unknown)}; "
            f"it takes {', '.join(sorted(names - set(spec.fixed)))}"
        )
    for key, value in spec.fixed.items():
        if key in options and options[key] != value:
            raise AekitError(f"model {name!r} always has {key}={value!r}")
    config = spec.config(input_shape=tuple(input_shape), **{**options, **spec.fixed})
    return spec.cls(config)


def model_record(name: str, model: Model) -> dict[str, Any]:
    """The JSON-able description a checkpoint stores to rebuild `model`."""
    return {"name": name, "config": dataclasses.asdict(model.config)}


def model_from_record(record: dict[str, Any]) -> Model:
    try:
        name, config = record["name"], dict(record["config"])
    except (KeyError, TypeError) as e:
        raise AekitError(f"model record is malformed (missing {e})") from e
    spec = IMAGE_TO_IMAGE.get(name) or _spec(name)
    known = {f.name for f in dataclasses.fields(spec.config)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise AekitError(
            f"model record has fields this aekit does not know ({', '.join(unknown)}); "
            "was it written by a newer version?"
        )
    for key, value in config.items():  # JSON turned tuples into lists
        if isinstance(value, list):
            config[key] = tuple(value)
    try:
        return spec.cls(spec.config(**config))
    except TypeError as e:
        raise AekitError(f"model record does not fit {name!r}: {e}") from e


def _spec(name: str) -> ModelSpec:
    if name not in MODELS:
        raise AekitError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    return MODELS[name]


__all__ = [
    "IMAGE_TO_IMAGE",
    "MODELS",
    "UPSAMPLE_MODES",
    "VAE",
    "Autoencoder",
    "AutoencoderConfig",
    "Model",
    "ModelSpec",
    "VAEConfig",
    "build_model",
    "model_from_record",
    "model_record",
]
