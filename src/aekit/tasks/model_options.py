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
    fields = {f.name for f in dataclasses.fields(spec_of(model).config)}
    options = {**sized_options(spec_of(model).config, data, options), **options}
    if options.get("start") == "pca" or options.get("activation") == "linear":
        options.setdefault("output", "identity")  # PCA's output: truly linear
    if "output" in fields:
        options.setdefault("output", "sigmoid" if unit else "identity")
    if "likelihood" in fields and options.get("likelihood", "auto") == "auto":
        options["likelihood"] = "bernoulli" if unit else "gaussian"
    return options


def data_model_options(
    model: str, data: Any, n_train: int, condition: Any = None
) -> dict[str, Any]:
    """Options only the data can tell: a conditional model's classes or attribute
    width, the training-set size an estimator needs (beta-TC-VAE)."""
    options = condition_options(model, data, condition)
    fields = {f.name for f in dataclasses.fields(spec_of(model).config)}
    if "dataset_size" in fields:
        options["dataset_size"] = n_train
    return options
