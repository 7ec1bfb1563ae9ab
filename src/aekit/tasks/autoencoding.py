"""Reconstruction, the autoencoders' own task: its data, seeded model and outputs.

`prepare_reconstruction` reads any data source, chooses the model from the data
when none is named, checks every option and builds the seeded model (its memory
counted first); `write_reconstruction_outputs` writes metrics, pictures and the
report, fitting a learned prior first where the model samples through one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from ..data.io import read_json, write_json
from ..data.memory import allocation_guard
from ..data.music import check_enough_segments
from ..data.sources import is_music_source
from ..errors import AekitError
from ..models import build_model, spec_of
from ..models.base import Model
from ..run import Run, build_run_model, dataset_from, in_memory, run_data, seeded
from ..run.conditions import n_classes
from ..run.data import activations_from
from ..training.config import TrainConfig
from .model_options import data_model_options, model_defaults
from .pipeline_checks import (
    check_input_kind,
    chosen,
    kind_of,
    read_class_names,
    scaling,
)
from .task import Prepared

TASK = "reconstruct"
# api.train's data options -> load_dataset's keywords ("channels" is the conv widths)
DATA_OPTIONS = {
    "image_size": "image_size",
    "image_channels": "channels",
    "label_column": "label_column",
    "split": "split",
    "stream": "stream",
    "window": "window",
    "stride": "stride",
    "steps_per_beat": "steps_per_beat",
    "bars": "bars",
    "beats_per_bar": "beats_per_bar",
    "pitch_range": "pitch_range",
    "columns": "columns",
    "missing": "missing",
}
OUTPUT_ROWS = 5_000  # rows of a streamed data set that metrics and pictures use


def prepare_reconstruction(
    data: Any, model: str | None, options: dict[str, Any], config: TrainConfig
) -> Prepared:
    """The seeded autoencoder and its (train, val) data; raises on any bad option."""
    if model is not None and TASK not in spec_of(model).capabilities.tasks:
        raise AekitError(f"model {model!r} does not reconstruct; use --task")
    data_opts = {
        DATA_OPTIONS[k]: options.pop(k)
        for k in list(DATA_OPTIONS)
        if options.get(k) is not None
    }
    class_names = options.pop("class_names", None)
    condition = options.pop("condition", None)
    network, layer = options.pop("activations_of", None), options.pop("layer", None)
    if network is not None or layer is not None:  # a network's activations on data
        if network is None or layer is None:
            raise AekitError("--activations-of MODEL and --layer NAME go together")
        if condition is not None or data_opts.get("stream"):
            raise AekitError(
                "--activations-of reads its data batch by batch already; "
                "--condition and --stream do not apply"
            )
        dataset, data_spec = activations_from(data, network, layer, data_opts)
    else:
        dataset, data_spec = dataset_from(data, data_opts, condition=condition)
    name, data_spec["chosen"] = chosen(model, dataset)
    if class_names is not None:
        dataset.classes = read_class_names(class_names, dataset)
    check_input_kind(name, dataset)
    if is_music_source(data):
        check_enough_segments(dataset, data_opts.get("steps_per_beat"))
    train_set, val_set = dataset.split(config.val_fraction, seed=config.seed)
    options = {
        **data_model_options(
            name, dataset, len(train_set), condition, bars=data_opts.get("bars")
        ),
        **options,
    }
    model_options = model_defaults(name, dataset, options)

    def build() -> Model:
        return build_model(name, dataset.sample_shape, **model_options)

    # weights, gradients and two Adam moments, counted on the meta device first,
    # and a batch's codes and outputs through forward and backward (a few copies)
    with torch.device("meta"):
        meta = build()
        size = 16 * sum(p.numel() for p in meta.parameters())
        size += 4 * sum(b.numel() for b in meta.buffers())
    width = meta.latent_dim + math.prod(dataset.sample_shape)
    size += 4 * 16 * config.batch_size * width
    with allocation_guard("build and train the model", nbytes=size):
        net = seeded(config.seed, build)
        seeded(config.seed, lambda: net.init_from_data(in_memory(train_set, 20_000).x))
    data_spec["kind"] = getattr(dataset, "kind", None) or kind_of(dataset)
    if spec_of(name).capabilities.conditional:
        data_spec.setdefault("condition", "label")
        data_spec["n_classes"] = n_classes(dataset)
    return Prepared(TASK, name, net, train_set, val_set, data_spec)


def reprepare_reconstruction(
    path: Path, record: dict[str, Any], config: TrainConfig, *, start: bool = False
) -> Prepared:
    """A recorded run's model (initial weights from its seed; `start`: from the
    data too, as at the first start) and its data split again."""
    net = seeded(config.seed, lambda: build_run_model(record, path))
    name = record["model"]["name"]
    run = Run(path, net, name, scaling(record), config, record)
    train, val = run_data(run).split(config.val_fraction, seed=config.seed)
    if start:
        seeded(config.seed, lambda: net.init_from_data(in_memory(train, 20_000).x))
    return Prepared(TASK, name, net, train, val, record["data"])


def write_reconstruction_outputs(
    run: Run,
    prepared: Prepared,
    history: Any,
    *,
    pictures: bool,
    report: bool,
    fit_prior: bool,
) -> None:
    """metrics.json, the pictures and report.html (and a VQ-VAE's learned prior)."""
    from ..analysis.run_outputs import write_outputs

    train, val = prepared.train, prepared.val
    prior = _fit_learned_prior(run, train, val) if fit_prior else None
    train, val = in_memory(train, OUTPUT_ROWS), in_memory(val, OUTPUT_ROWS)
    write_outputs(run, train, val, history, pictures=pictures, report=report)
    if prior is not None:  # metrics.json says how the prior was fitted
        metrics = run.path / "metrics.json"
        write_json(metrics, {**read_json(metrics), **prior})


def _fit_learned_prior(run: Run, train: Any, val: Any) -> dict[str, Any] | None:
    """A VQ-VAE's PixelCNN prior, fitted right after it, so the run samples."""
    from .learned_prior import fit_prior, needs_prior, prior_summary

    if not needs_prior(run):
        return None
    return {"prior": prior_summary(fit_prior(run, data=(train, val)))}
