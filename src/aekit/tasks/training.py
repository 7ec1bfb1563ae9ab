"""Preparing an image-to-image task: data pairs, cut into patches, and its model.

Whole images are split into training and validation images first (seeded), so no
validation patch overlaps a training one; then each side is cut into patches.
Everything needed to rebuild the data is stored in config.json, so a run resumes.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analysis.segmentation import class_palette, median_frequency_weights
from ..data import Dataset
from ..data.color import check_color_space, colorization_dataset
from ..data.pair_sources import read_task_pairs, split_images
from ..data.paired import (
    ImagePairs,
    extract_patches,
    patch_size_for,
    segmentation_dataset,
)
from ..errors import AekitError
from ..models import build_model, models_for, spec_of
from ..models.base import Model
from ..run import seeded
from ..training.config import TrainConfig

log = logging.getLogger(__name__)

DEFAULT_MODEL = "unet"
DEFAULT_PATCH = 64
# options the task reads; the rest go to the model (channels, upsample, ...)
TASK_OPTIONS = (
    "masks",
    "classes",
    "color_space",
    "color_loss",
    "patch_size",
    "patches_per_image",
    "class_weights",
    "ignore_index",
)
TASK_NAMES = ("colorize", "segment")


@dataclass
class TaskData:
    train: Dataset
    val: Dataset
    settings: dict[str, Any]  # what inference needs: color space, palette, ...


def prepare_task(
    task: str,
    data: Any,
    model: str | None,
    options: dict[str, Any],
    config: TrainConfig,
) -> tuple[str, Model, tuple[Dataset, Dataset], dict[str, Any], dict[str, Any]]:
    """(model name, seeded model, (train, val) patches, data record, settings) for
    `model` (unet, encoder-decoder, segnet) to colorize or segment `data`."""
    model = model or DEFAULT_MODEL
    if task not in TASK_NAMES:
        raise AekitError(f"unknown task {task!r}; choose from {', '.join(TASK_NAMES)}")
    if task not in spec_of(model).capabilities.tasks:
        raise AekitError(
            f"--task {task} needs an image-to-image model "
            f"({', '.join(models_for(task))}), not {model!r}"
        )
    options = {k: v for k, v in options.items() if v is not None}
    for name in ("image_size", "image_channels", "label_column", "split", "stream"):
        if name in options:
            raise AekitError(
                f"{name} does not apply to --task {task}: images keep their own size "
                "and are cut into --patch-size patches"
            )
    task_opts = {k: _plain(options.pop(k)) for k in TASK_OPTIONS if k in options}
    net, prepared = build_task(task, model, data, task_opts, options, config)
    spec = {"source": _source_record(data), "options": task_opts}
    spec["task"] = prepared.settings
    return model, net, (prepared.train, prepared.val), spec, prepared.settings


def build_task(
    task: str,
    model: str,
    data: Any,
    task_opts: dict[str, Any],
    model_opts: dict[str, Any],
    config: TrainConfig,
) -> tuple[Model, TaskData]:
    """The model for this data, and the data cut to fit it."""
    pairs = read_task_pairs(task, data, task_opts, split="train")
    fixed = task_model_options(task, pairs, task_opts)
    spec = spec_of(model)
    names = {f.name for f in dataclasses.fields(spec.config)}
    free = names - set(fixed) - set(spec.fixed)
    unknown = sorted(set(model_opts) - free)
    if unknown:
        raise AekitError(
            f"model {model!r} takes no option(s) {', '.join(unknown)} for --task "
            f"{task}; it takes {', '.join(sorted(free))}"
        )
    net = seeded(
        config.seed,
        lambda: build_model(model, (), **{**model_opts, **fixed}),
    )
    return net, task_data(task, pairs, task_opts, net, config)


def task_model_options(
    task: str, pairs: ImagePairs, opts: dict[str, Any]
) -> dict[str, Any]:
    """Model settings the task and data decide: channels, output, loss, weights."""
    if task == "colorize":
        space = opts.get("color_space", "lab")
        check_color_space(space)
        return {
            "in_channels": 1,
            "out_channels": 2 if space == "lab" else 3,
            "output": "identity" if space == "lab" else "sigmoid",
            "loss": _choice(opts.get("color_loss", "l1"), ("l1", "mse"), "color loss"),
        }
    ignore = int(opts.get("ignore_index", 255))
    n = len(pairs.classes)
    weights = opts.get("class_weights", "none")
    if weights == "auto":
        weights = median_frequency_weights(pairs.masks, n, ignore)
    elif weights == "none":
        weights = None
    return {
        "in_channels": 1 if pairs.grayscale else 3,
        "out_channels": n,
        "output": "identity",
        "loss": "cross-entropy",
        "class_weights": weights,
        "ignore_index": ignore,
    }


def task_data(
    task: str, data: Any, opts: dict[str, Any], net: Model, config: TrainConfig
) -> TaskData:
    """Split whole images into train/val (seeded), then cut each into patches."""
    pairs = data if isinstance(data, ImagePairs) else read_task_pairs(task, data, opts)
    size = patch_size_for(
        pairs, int(opts.get("patch_size", DEFAULT_PATCH)), 2 * net.multiple
    )
    train, val = split_images(pairs, config.val_fraction, config.seed)
    per_image = opts.get("patches_per_image")
    if per_image is not None and int(per_image) < 1:
        raise AekitError(f"patches per image must be positive, got {per_image}")
    ignore = int(opts.get("ignore_index", 255))
    sets = []
    for part, seed in ((train, config.seed), (val, config.seed + 1)):
        if task == "segment":
            sets.append(
                segmentation_dataset(
                    part, size, per_image=per_image, seed=seed, ignore_index=ignore
                )
            )
        else:
            patches, _ = extract_patches(part, size, per_image=per_image, seed=seed)
            space = opts.get("color_space", "lab")
            sets.append(colorization_dataset(patches, space, pairs.source))
    settings: dict[str, Any] = {
        "patch_size": size,
        "in_channels": net.config.in_channels,
    }
    if task == "colorize":
        settings["color_space"] = opts.get("color_space", "lab")
    else:
        palette = class_palette(len(pairs.classes), pairs.palette)
        settings |= {"ignore_index": ignore, "palette": palette.tolist()}
    return TaskData(sets[0], sets[1], settings)


def _plain(value: Any) -> Any:
    """Options as config.json can hold them: paths as strings, tuples as lists."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise AekitError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _source_record(data: Any) -> Any:
    if isinstance(data, ImagePairs):
        return None
    if isinstance(data, (list, tuple)):
        return [str(p) for p in data]
    return str(data)
