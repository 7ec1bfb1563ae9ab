"""The model a run gets when none is named: it follows the data's kind.

Vectors (tables) get the MLP autoencoder, images the convolutional one, windows of
a series the 1-D convolutional one, piano rolls the music model. Each choice was
measured on the defaults panel (benchmarks/defaults_panel.py, BENCHMARKS.md).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from .registry import MODELS

MUSIC_MODELS = ("music-vae", "lstm-vae")  # the first registered one takes piano rolls


def choose_model(data: Any) -> tuple[str, str]:
    """(model name, the reason in words) for a Dataset or StreamDataset."""
    kind = getattr(data, "kind", None) or "vector"
    if kind == "image":
        return "conv", "images: the convolutional autoencoder"
    if kind == "sequence":
        if getattr(data, "series", None) is None and data.scaling.domain == "unit":
            name = next(m for m in MUSIC_MODELS if m in MODELS)
            return name, "piano rolls: the music model"
        return "conv1d", "series windows: the 1-D convolutional autoencoder"
    return "mlp", "vectors: the MLP autoencoder"


LATENT = 16  # the code size of data with 64 or more features
HIDDEN_MAX = (512, 256, 128)  # the MLP widths of wide inputs
# images: a random start measured 0.51-0.83x PCA from 1,800 images but 1.14x on 400
# photo patches; a PCA start 0.95x and 1.00x there (benchmarks/defaults_panel.py)
PCA_START_BELOW = 1_000


def default_latent(n_features: int) -> int:
    """A code a quarter of the input's width, at most LATENT: never as wide as the
    input (PCA with as many components as features is exact)."""
    return max(1, min(LATENT, n_features // 4))


def default_hidden(n_features: int, latent: int) -> tuple[int, ...]:
    """MLP widths that follow the input: from 8x its width (a power of two, 64 to
    512) halving down to no less than 4x the code, at most three layers."""
    power = 1 << max(0, math.ceil(math.log2(8 * n_features)))
    first = min(HIDDEN_MAX[0], max(64, power))
    widths = [first]
    while len(widths) < len(HIDDEN_MAX) and widths[-1] // 2 >= max(16, 4 * latent):
        widths.append(widths[-1] // 2)
    return tuple(widths)


def sized_options(config: type, data: Any, given: dict[str, Any]) -> dict[str, Any]:
    """The code size, MLP widths and start the data decide, for the fields of a
    model's config that the user left unset and whose default is the house's
    (a family that sets its own code size keeps it)."""
    defaults = {f.name: f.default for f in dataclasses.fields(config)}
    fields = set(defaults)
    if defaults.get("latent_dim", LATENT) != LATENT:
        fields.discard("latent_dim")
    if defaults.get("hidden", HIDDEN_MAX) != HIDDEN_MAX:
        fields.discard("hidden")
    n_features = math.prod(data.sample_shape)
    out: dict[str, Any] = {}
    if "latent_dim" in fields and given.get("latent_dim") is None:
        out["latent_dim"] = default_latent(n_features)
    latent = given.get("latent_dim") or out.get("latent_dim") or LATENT
    kind = getattr(data, "kind", "vector")
    if "hidden" in fields and given.get("hidden") is None and kind == "vector":
        out["hidden"] = default_hidden(n_features, latent)
    if "start" in fields and given.get("start") is None:
        series = getattr(data, "series", None) is not None
        out["start"] = default_start(kind, len(data), given, series=series)
    return out


def default_start(
    kind: str, n: int, given: dict[str, Any], *, series: bool = False
) -> str:
    """pca for tables, series windows and images fewer than PCA_START_BELOW, where
    a randomly started network measured worse than PCA; random where the options
    rule a PCA start out (tied weights, the bce loss, a sigmoid output)."""
    if given.get("tied") or given.get("recon_loss", "mse") != "mse":
        return "random"
    if given.get("likelihood", "gaussian") not in ("gaussian", "auto"):
        return "random"  # a VAE's PCA start is probabilistic PCA: Gaussian only
    if given.get("output", "identity") != "identity":
        return "random"
    if given.get("activation") == "linear":  # a linear AE's optimum is PCA's
        return "pca"
    if kind == "vector" or (kind == "image" and n < PCA_START_BELOW):
        return "pca"
    return "pca" if kind == "sequence" and series else "random"
