"""The data of a run: sources made model-ready with the run's stored scaling.

One reloader serves every command: `run_data` reads a run's own source again, with
the scaling stored at training time (nothing is refitted), and cuts the same seeded
train/validation split; `load_inputs` turns any new source, list of files or array
into samples of the run's shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data import Dataset, Scaling, StreamDataset, load_dataset
from ..data.activations import ActivationDataset, activation_dataset
from ..data.arrayfile import should_stream
from ..errors import AekitError
from .activations import LayerSource, fitted_reader, open_layer
from .conditions import LABEL, load_with_attributes, parse_condition
from .record import Run

PARTS = ("all", "train", "val")
KINDS = ("vector", "image", "sequence")
# how a sequence run cuts new data: series windows, music segments
SEQUENCE_OPTIONS = (
    "window",
    "stride",
    "steps_per_beat",
    "bars",
    "pitch_range",
    "beats_per_bar",
    "missing",
)


def dataset_from(
    data: Any, options: dict[str, Any], *, condition: Any = None
) -> tuple[Dataset, dict[str, Any]]:
    """A training source -> (Dataset, the record that reloads it: source, options).

    `condition` COL1,COL2 splits those CSV columns off as attribute conditions
    (aekit.run.conditions); the record then says so under "condition"."""
    columns = parse_condition(condition)
    if columns != LABEL:
        if isinstance(data, Dataset | np.ndarray | torch.Tensor):
            raise AekitError("--condition COLUMNS needs a CSV source, not an array")
        source = _source(data)
        dataset = load_with_attributes(
            source, columns, label_column=options.get("label_column")
        )
        return dataset, {"source": source, "options": options, "condition": columns}
    if isinstance(data, Dataset):
        return data, {"source": None, "options": {}}
    if isinstance(data, np.ndarray | torch.Tensor):
        from ..data.files import dataset_from_array

        return dataset_from_array(np.asarray(data), name="array"), {
            "source": None,
            "options": {},
        }
    source = _source(data)
    dataset = load_dataset(source, **options)
    info = dataset.series
    if (
        info is not None
        and options.get("window") is None
        and info.window != max(p.n_steps for p in info.parts)
    ):  # windows chosen by default: recorded, so the run reloads the same ones
        options = {**options, "window": info.window, "stride": info.stride}
    elif info is not None and options.get("window") is not None:
        options = {**options, "stride": info.stride}
    return dataset, {"source": source, "options": options}


def activations_from(
    data: Any, of: str, layer: str, options: dict[str, Any]
) -> tuple[ActivationDataset, dict[str, Any]]:
    """The activations of the network `of` at `layer` on `data` (read batch by
    batch), and the record that reads them again: an aekit run's network gets the
    data in its run's units, other networks as aekit loads it (images in [0, 1],
    tables standardised), with that scaling recorded."""
    source = open_layer(of, layer)
    inputs, spec = _network_inputs(source, data, options)
    spec["activations"] = source.record()
    if source.run is None:  # the same input units when the run reads them again
        spec["activations"]["input_scaling"] = inputs.scaling.to_dict()
    name = f"{source.path.name}:{layer}"
    return activation_dataset(inputs, fitted_reader(source, inputs), name), spec


def _network_inputs(
    source: LayerSource, data: Any, options: dict[str, Any], scaling: Any = None
) -> tuple[Any, dict[str, Any]]:
    if source.run is not None:
        return load_inputs(source.run, data), {"source": _source(data), "options": {}}
    if scaling is not None:
        return load_dataset(_source(data), scaling=scaling, **options), {}
    return dataset_from(data, options)


def run_activations(run: Run, data: Any = None) -> ActivationDataset:
    """A run trained on a network's activations: those of `data` (default: the
    run's own source), recomputed with the recorded network, layer and scalings."""
    spec = run.data_spec["activations"]
    source = open_layer(spec["of"], spec["layer"])
    if data is None:
        data = run.data_spec.get("source")
    if data is None:
        raise AekitError(
            f"{run.path} was trained on in-memory data; name the data with --data"
        )
    scaling = spec.get("input_scaling")
    scaling = None if scaling is None else Scaling.from_dict(scaling)
    options = {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in (run.data_spec.get("options") or {}).items()
    }
    inputs, _ = _network_inputs(source, data, options, scaling)
    name = f"{source.path.name}:{spec['layer']}"
    read = fitted_reader(source, inputs)
    dataset = activation_dataset(inputs, read, name, run.scaling)
    if dataset.sample_shape != run.sample_shape:
        raise AekitError(
            f"{name} now gives activations of shape {dataset.sample_shape}, but "
            f"{run.path} was trained on {run.sample_shape}"
        )
    return dataset


def load_inputs(run: Run, inputs: Any) -> Dataset:
    """Inputs in source units (a source, paths or an array) -> a model-ready Dataset."""
    if "activations" in run.data_spec and not isinstance(
        inputs, Dataset | StreamDataset | ActivationDataset
    ):  # the network's inputs, read through it
        return run_activations(run, inputs)  # type: ignore[return-value]
    if isinstance(inputs, Dataset | StreamDataset | ActivationDataset):
        data = inputs
    elif isinstance(inputs, np.ndarray | torch.Tensor):
        x = run.scaling.from_source(np.asarray(inputs, dtype=np.float32))
        data = Dataset(x, scaling=run.scaling, name="array")
    elif isinstance(run.data_spec.get("condition"), list):  # attribute columns
        data = load_with_attributes(
            _source(inputs),
            run.data_spec["condition"],
            scaling=run.scaling,
            label_column=(run.data_spec.get("options") or {}).get("label_column"),
        )
    else:
        shape = run.sample_shape
        image = (
            {"image_size": tuple(shape[1:]), "channels": shape[0]}
            if run.input_kind == "image"
            else {}
        )
        source = _source(inputs)
        _check_source_kind(run, source)
        if isinstance(source, str) and should_stream(source):  # larger than memory
            data = load_dataset(source, scaling=run.scaling, stream=True)
        else:
            data = load_dataset(
                source, scaling=run.scaling, **image, **_series(run), **_columns(run)
            )
    kind = getattr(data, "kind", None)
    if kind is not None and run.input_kind in KINDS and kind != run.input_kind:
        raise AekitError(
            f"{data.name} holds {kind}s, but {run.path} was trained on "
            f"{run.input_kind}s"
        )
    if data.sample_shape != run.sample_shape:
        raise AekitError(
            f"{data.name}: samples have shape {data.sample_shape}, but {run.path} was "
            f"trained on {run.sample_shape}"
        )
    return data


def run_data(run: Run, data: Any = None, *, part: str = "all") -> Dataset:
    """`data` ready for the run's model; None reloads the run's own source with its
    stored scaling, `part` picking the "train" or "val" split or "all" of it."""
    if part not in PARTS:
        raise AekitError(f"part must be one of {PARTS}, got {part!r}")
    if data is not None:
        return load_inputs(run, data)
    if "activations" in run.data_spec:
        dataset = run_activations(run)
        if part == "all":
            return dataset
        config = run.train_config
        train, val = dataset.split(config.val_fraction, seed=config.seed)
        return val if part == "val" else train  # type: ignore[return-value]
    source = run.data_spec.get("source")
    if source is None:
        raise AekitError(
            f"{run.path} was trained on in-memory data; name the data with --data"
        )
    options = {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in (run.data_spec.get("options") or {}).items()
    }
    if isinstance(run.data_spec.get("condition"), list):
        dataset = load_inputs(run, source)
    else:
        dataset = load_dataset(source, scaling=run.scaling, **options)
    if dataset.sample_shape != run.sample_shape:  # sizes the loader could not infer
        dataset = load_inputs(run, source)
    if part == "all":
        return dataset
    config = run.train_config
    train, val = dataset.split(config.val_fraction, seed=config.seed)
    return val if part == "val" else train


def run_splits(run: Run) -> tuple[Dataset, Dataset]:
    """The run's (train, validation) split, reloaded exactly as training made it."""
    dataset = run_data(run)
    config = run.train_config
    return dataset.split(config.val_fraction, seed=config.seed)


def in_memory(data: Dataset | StreamDataset | ActivationDataset, rows: int) -> Dataset:
    """A streamed data set's seeded sample of `rows`; an in-memory one as it is."""
    streamed = isinstance(data, StreamDataset | ActivationDataset)
    return data.load(rows) if streamed else data


def _columns(run: Run) -> dict[str, Any]:
    """The CSV columns a run was trained on, when named (--columns)."""
    columns = (run.data_spec.get("options") or {}).get("columns")
    return {"columns": tuple(columns)} if columns else {}


def _series(run: Run) -> dict[str, Any]:
    """How a sequence run cuts new series into windows (its stored options)."""
    if run.input_kind != "sequence":
        return {}
    options = run.data_spec.get("options") or {}
    out = {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in options.items()
        if k in SEQUENCE_OPTIONS and v is not None
    }
    if "window" not in out and run.scaling.domain == "unit":  # piano rolls
        # the bar the training pieces set, so new pieces are cut the same length
        steps = run.sample_shape[-1] / out.get("bars", 2) / out.get("steps_per_beat", 4)
        out.setdefault("beats_per_bar", steps)
    return out


def _check_source_kind(run: Run, source: str | list[str]) -> None:
    """Images (files, a folder of them, a built-in image set) for a sequence run are
    refused before a series reader tries them as a table."""
    if run.input_kind != "sequence":
        return
    from ..data.builtin import DATASETS
    from ..data.images import is_image_name

    paths = [Path(p) for p in (source if isinstance(source, list) else [source])]
    for p in paths:
        images = str(p) in DATASETS and not p.exists()
        images = images or (p.is_file() and is_image_name(p))
        if p.is_dir():
            images = any(is_image_name(f) for f in p.iterdir())
        if images:
            raise AekitError(
                f"{p} holds images, but {run.path} was trained on sequences "
                "(series windows or piano rolls)"
            )


def _source(data: Any) -> str | list[str]:
    if isinstance(data, list | tuple):
        return [str(p) for p in data]
    return str(data)
