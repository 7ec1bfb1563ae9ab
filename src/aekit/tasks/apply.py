"""Using a trained image-to-image run on whole images: the inputs, and its scores."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data.demo import IMAGE_DEMOS, demo_pairs
from ..data.pair_sources import split_images
from ..data.paired import ImagePairs, read_images
from ..errors import AekitError
from ..run import Run, load_run

if TYPE_CHECKING:
    from .image_task import ImageTask

log = logging.getLogger(__name__)

Inputs = Any  # a demo name, a folder, an image file, a list of files, or ImagePairs


def as_task_run(run: Run | str | os.PathLike, task: ImageTask) -> Run:
    """The run, checked to be trained for `task`."""
    run = run if isinstance(run, Run) else load_run(run)
    if run.task != task.name:
        hint = "an autoencoder" if run.capabilities.has_code else f"a {run.task} run"
        raise AekitError(
            f"{run.path} is {hint} (task {run.task}); {task.name} needs a run "
            f"trained with --task {task.name}"
        )
    return run


def input_images(inputs: Inputs) -> ImagePairs:
    """Whole images to apply a run to; a demo name gives its held-out test images."""
    if isinstance(inputs, ImagePairs):
        return inputs
    if isinstance(inputs, np.ndarray):
        a = (
            inputs
            if inputs.ndim in (3, 4) and inputs.shape[-1] == 3
            else inputs[..., None]
        )
        a = a[None] if a.ndim == 3 else a
        if a.ndim != 4 or a.dtype != np.uint8:
            raise AekitError(
                "image arrays must be uint8, shaped (H, W), (H, W, 3), (N, H, W) or "
                f"(N, H, W, 3); got {a.dtype} {inputs.shape}"
            )
        images = [np.repeat(i, 3, -1) if i.shape[-1] == 1 else i for i in a]
        return ImagePairs(images, [f"{i:05d}" for i in range(len(images))], "array")
    if isinstance(inputs, (str, Path)) and str(inputs) in IMAGE_DEMOS:
        return demo_pairs(str(inputs), "test")
    return read_images(inputs)


def evaluate_task(
    task: ImageTask, run: Run | str | os.PathLike, data: Inputs = None, **options: Any
) -> dict:
    """Scores of an image-to-image run on whole images (the task's metric).

    `options` are the task's evaluation options (segment: `masks=FOLDER` and
    `classes=FILE` give the true masks). `data` None scores the run's own held-out
    data: the demo's test images, or the validation images of a folder.
    """
    run = as_task_run(run, task)
    options = {k: v for k, v in options.items() if v is not None}
    unknown = sorted(set(options) - set(task.evaluate_options))
    if unknown:
        raise AekitError(
            f"evaluating a {run.task} run takes no option(s) {', '.join(unknown)}"
        )
    pairs = _evaluation_pairs(task, run, data, options)
    return {
        "task": run.task,
        "data": pairs.source,
        "n_images": len(pairs.images),
        **task.image_scores(run, pairs),
    }


def _evaluation_pairs(
    task: ImageTask, run: Run, data: Inputs, options: dict[str, Any]
) -> ImagePairs:
    spec = run.data_spec
    if data is None:
        source = spec.get("source")
        if source in IMAGE_DEMOS:
            return task.read_pairs(source, {}, "test")
        if source is None:
            raise AekitError(f"{run.path} was trained on in-memory data; name the data")
        pairs = task.read_pairs(source, spec.get("options", {}))
        config = run.train_config
        return split_images(pairs, config.val_fraction, config.seed)[1]
    if isinstance(data, (str, Path)) and str(data) in IMAGE_DEMOS:
        return task.read_pairs(str(data), {}, "test")
    return task.read_pairs(data, task.evaluation_options(run, options))
