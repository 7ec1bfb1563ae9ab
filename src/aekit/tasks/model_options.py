"""The model options the data decides: sizes, output activation, likelihood,
a conditional model's classes; what the user gave always wins."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..models import spec_of
from ..models.choice import sized_options
from ..run.conditions import condition_options


def model_defaults(model: str, data: Any, options: dict[str, Any]) -> dict[str, Any]:
    """Fill what the data decides: the output activation and a VAE's likelihood."""
    options = {k: v for k, v in options.items() if v is not None}
    unit = data.scaling.domain == "unit"
    spec = spec_of(model)
    # what the registry fixes (an SAE's linear output) the data does not decide
    fields = {f.name for f in dataclasses.fields(spec.config)} - set(spec.fixed)
    options = {**sized_options(spec.config, data, options), **options}
    if options.get("start") == "pca" or options.get("activation") == "linear":
        options.setdefault("output", "identity")  # PCA's output: truly linear
    if "output" in fields:
        options.setdefault("output", "sigmoid" if unit else "identity")
    if "likelihood" in fields and options.get("likelihood", "auto") == "auto":
        options["likelihood"] = "bernoulli" if unit else "gaussian"
    return options


MUSIC_BARS = 2  # aekit.data.music.load_music's bars per sample


def data_model_options(
    model: str,
    data: Any,
    n_train: int,
    condition: Any = None,
    *,
    bars: int | None = None,
) -> dict[str, Any]:
    """Options only the data can tell: a conditional model's classes or attribute
    width, the training-set size an estimator needs (beta-TC-VAE), the bars of a
    piano roll (music-vae's conductor steps; `bars` as the data was cut)."""
    options = condition_options(model, data, condition)
    fields = {f.name for f in dataclasses.fields(spec_of(model).config)}
    if "dataset_size" in fields:
        options["dataset_size"] = n_train
    rolls = getattr(data, "series", None) is None and data.scaling.domain == "unit"
    if "conductor_steps" in fields and getattr(data, "kind", None) == "sequence":
        if rolls:
            options["conductor_steps"] = bars or MUSIC_BARS
    return options
