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
from typing import TYPE_CHECKING, Any

from ..data import Dataset
from ..data.pair_sources import split_images
from ..data.paired import ImagePairs, patch_size_for
from ..errors import AekitError
from ..models import build_model, models_for, spec_of
from ..models.base import Model
from ..run import seeded
from ..training.config import TrainConfig

if TYPE_CHECKING:
    from .image_task import ImageTask

log = logging.getLogger(__name__)

DEFAULT_PATCH = 64


@dataclass
class TaskData:
    train: Dataset
    val: Dataset
    settings: dict[str, Any]  # what inference needs: color space, palette, ...


def prepare_task(
    task: ImageTask,
    data: Any,
    model: str | None,
    options: dict[str, Any],
    config: TrainConfig,
) -> tuple[str, Model, tuple[Dataset, Dataset], dict[str, Any], dict[str, Any]]:
    """(model name, seeded model, (train, val) patches, data record, settings) for
    `model` (unet, encoder-decoder, segnet) to learn `task` on `data`."""
    model = model or task.default_model
    if not task.accepts_model(spec_of(model)):
        raise AekitError(
            f"--task {task.name} needs an image-to-image model "
            f"({', '.join(models_for(task.name))}), not {model!r}"
        )
    options = {k: v for k, v in options.items() if v is not None}
    for name in ("image_size", "image_channels", "label_column", "split", "stream"):
        if name in options:
            raise AekitError(
                f"{name} does not apply to --task {task.name}: images keep their own "
                "size and are cut into --patch-size patches"
            )
    task_opts = {k: _plain(options.pop(k)) for k in task.train_options if k in options}
    net, prepared = build_task(task, model, data, task_opts, options, config)
    spec = {"source": _source_record(data), "options": task_opts}
    spec["task"] = prepared.settings
    return model, net, (prepared.train, prepared.val), spec, prepared.settings


def build_task(
    task: ImageTask,
    model: str,
    data: Any,
    task_opts: dict[str, Any],
    model_opts: dict[str, Any],
    config: TrainConfig,
) -> tuple[Model, TaskData]:
    """The model for this data, and the data cut to fit it."""
    pairs = task.read_pairs(data, task_opts, split="train")
    fixed = task.model_options(pairs, task_opts)
    spec = spec_of(model)
    names = {f.name for f in dataclasses.fields(spec.config)}
    free = names - set(fixed) - set(spec.fixed)
    unknown = sorted(set(model_opts) - free)
    if unknown:
        raise AekitError(
            f"model {model!r} takes no option(s) {', '.join(unknown)} for --task "
            f"{task.name}; it takes {', '.join(sorted(free))}"
        )
    net = seeded(
        config.seed,
        lambda: build_model(model, (), **{**model_opts, **fixed}),
    )
    return net, task_data(task, pairs, task_opts, net, config)


def task_data(
    task: ImageTask, data: Any, opts: dict[str, Any], net: Model, config: TrainConfig
) -> TaskData:
    """Split whole images into train/val (seeded), then cut each into patches."""
    pairs = data if isinstance(data, ImagePairs) else task.read_pairs(data, opts)
    size = patch_size_for(
        pairs, int(opts.get("patch_size", DEFAULT_PATCH)), 2 * net.multiple
    )
    train, val = split_images(pairs, config.val_fraction, config.seed)
    per_image = opts.get("patches_per_image")
    if per_image is not None and int(per_image) < 1:
        raise AekitError(f"patches per image must be positive, got {per_image}")
    sets = [
        task.patches(part, size, opts, seed=seed)
        for part, seed in ((train, config.seed), (val, config.seed + 1))
    ]
    settings = {"patch_size": size, "in_channels": net.config.in_channels}
    settings |= task.settings(pairs, opts)
    return TaskData(sets[0], sets[1], settings)


def _plain(value: Any) -> Any:
    """Options as config.json can hold them: paths as strings, tuples as lists."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _source_record(data: Any) -> Any:
    if isinstance(data, ImagePairs):
        return None
    if isinstance(data, (list, tuple)):
        return [str(p) for p in data]
    return str(data)
