"""Models: the registry (aekit.models.registry), the contract (base.py), the families.

Importing this package loads no torch; the model classes load on first use.
"""

from __future__ import annotations

import dataclasses
from importlib import import_module
from typing import Any

from ..errors import AekitError
from .autoencoder.config import AutoencoderConfig
from .configs import UPSAMPLE_MODES
from .registry import MODELS, Capabilities, ModelSpec, capabilities, models_for, spec_of
from .vae.config import VAEConfig

LAYER = "models"  # the layer this package is; tests/test_layers.py reads it

# models without a vector code (colorize, segment), as the registry declares
IMAGE_TO_IMAGE: dict[str, ModelSpec] = {
    name: spec for name, spec in MODELS.items() if not spec.capabilities.has_code
}

# fields added after runs were first written: absent from an older config.json,
# they take the value that reproduces what that run trained (not today's default)
ABSENT_MEANS: dict[str, Any] = {
    "norm": "none",  # conv bodies had no norm
    "decoder_condition": "input",  # a cVAE's decoder saw c beside the code only
    "decoder_start": "zero",  # conv decoders started at zero (issue 25, item 11)
    "output_start": "zero",  # VAE decoders' output bias started at zero (issue 22)
    "key_condition": "none",  # music-vae's networks were not told the key shift
}


# options only a convolutional body reads
CONV_ONLY = {
    "channels",
    "upsample",
    "norm",
    "decoder_start",
    "transpose_kernel",
    "transpose_stride",
    "transpose_padding",
}


def options_for(name: str) -> set[str]:
    """The options model `name` reads: its config's fields, less the fixed ones and
    those its body ignores (an MLP body reads no conv option)."""
    spec = spec_of(name)
    unused = CONV_ONLY if spec.fixed.get("body") == "mlp" else set()
    return spec.options() - unused


def build_model(name: str, input_shape: tuple[int, ...], **options: Any) -> Any:
    """Build a registered model for samples of `input_shape`; unknown options fail."""
    spec = spec_of(name)
    names = {f.name for f in dataclasses.fields(spec.config)} - {"input_shape"}
    body = {**options, **spec.fixed}.get("body")
    unused = sorted(set(options) & CONV_ONLY) if body == "mlp" else []
    if unused:  # an option the body ignores is an error, never silently dropped
        flags = ", ".join("--" + u.replace("_", "-") for u in unused)
        raise AekitError(f"model {name!r} has an MLP body, which takes no {flags}")
    unknown = sorted(set(options) - names)
    if unknown:
        raise AekitError(
            f"model {name!r} takes no option(s) {', '.join(unknown)}; "
            f"it takes {', '.join(sorted(options_for(name)))}"
        )
    for key, value in spec.fixed.items():
        if key in options and options[key] != value:
            raise AekitError(f"model {name!r} always has {key}={value!r}")
    shape = (
        {"input_shape": tuple(input_shape)} if "input_shape" in _fields(spec) else {}
    )
    config = spec.config(**shape, **{**options, **spec.fixed})
    model = spec.cls(config)
    model.name = name
    return model


def model_record(name: str, model: Any) -> dict[str, Any]:
    """The JSON-able description a checkpoint stores to rebuild `model`."""
    return {"name": name, "config": dataclasses.asdict(model.config)}


def model_from_record(record: dict[str, Any]) -> Any:
    try:
        name, config = record["name"], dict(record["config"])
    except (KeyError, TypeError) as e:
        raise AekitError(f"model record is malformed (missing {e})") from e
    spec = spec_of(name)
    known = _fields(spec)
    for key in getattr(spec.config, "RETIRED", ()):  # fields a newer config dropped
        config.pop(key, None)
    unknown = sorted(set(config) - known)
    if unknown:
        raise AekitError(
            f"model record has fields this aekit does not know ({', '.join(unknown)}); "
            "was it written by a newer version?"
        )
    for key, value in ABSENT_MEANS.items():
        if key in known and key not in config:
            config[key] = value
    for key, value in config.items():  # JSON turned tuples into lists
        if isinstance(value, list):
            config[key] = tuple(value)
    try:
        model = spec.cls(spec.config(**config))
    except TypeError as e:
        raise AekitError(f"model record does not fit {name!r}: {e}") from e
    model.name = name
    return model


def is_conditional(model: Any) -> bool:
    """Whether `model` takes a condition, as its registry entry declares (models
    built outside the registry take none)."""
    name = getattr(model, "name", "")
    return name in MODELS and MODELS[name].capabilities.conditional


def _fields(spec: ModelSpec) -> set[str]:
    return {f.name for f in dataclasses.fields(spec.config)}


_LAZY = {
    "Model": "base",
    "Autoencoder": "autoencoder.model",
    "VAE": "vae.model",
    "UNet": "image_to_image.unet",
    "SegNet": "image_to_image.segnet",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'aekit.models' has no attribute {name!r}")


__all__ = [
    "ABSENT_MEANS",
    "IMAGE_TO_IMAGE",
    "MODELS",
    "UPSAMPLE_MODES",
    "VAE",
    "Autoencoder",
    "AutoencoderConfig",
    "Capabilities",
    "Model",
    "ModelSpec",
    "VAEConfig",
    "build_model",
    "capabilities",
    "is_conditional",
    "model_from_record",
    "model_record",
    "models_for",
    "options_for",
    "spec_of",
]
