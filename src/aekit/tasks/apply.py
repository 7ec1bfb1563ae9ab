"""Using a trained task run on whole images: colorize, segment, and their scores."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..analysis.colorization import color_scores
from ..analysis.segmentation import confusion_matrix, segmentation_scores
from ..data.color import lightness, to_rgb
from ..data.pair_sources import read_task_pairs, split_images
from ..data.paired import ImagePairs, read_images
from ..errors import AekitError
from ..inference.images import predict_whole
from ..run import Run, load_run
from .outputs import task_settings

log = logging.getLogger(__name__)

Inputs = Any  # a demo name, a folder, an image file, a list of files, or ImagePairs


def as_task_run(run: Run | str | os.PathLike, task: str) -> Run:
    """The run, checked to be trained for `task`."""
    run = run if isinstance(run, Run) else load_run(run)
    if run.task != task:
        hint = "an autoencoder" if run.task == "reconstruct" else f"a {run.task} run"
        raise AekitError(
            f"{run.path} is {hint} (task {run.task}); {task} needs a run trained "
            f"with --task {task}"
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
    if isinstance(inputs, (str, Path)) and str(inputs) in ("photos", "shapes"):
        return read_task_pairs(
            "segment" if inputs == "shapes" else "colorize", str(inputs), {}, "test"
        )
    return read_images(inputs)


def colorize_pairs(run: Run, pairs: ImagePairs) -> list[np.ndarray]:
    """(H, W, 3) RGB float images in [0, 1], one per input image, any size."""
    space = task_settings(run)["color_space"]
    light = [torch.from_numpy(lightness(a))[None] for a in pairs.images]  # (1, H, W)
    outputs = predict_whole(run.model, light)
    return [to_rgb(x, y, space) for x, y in zip(light, outputs, strict=True)]


def segment_pairs(run: Run, pairs: ImagePairs) -> list[np.ndarray]:
    """(H, W) int64 class ids, one per input image, any size."""
    channels = int(task_settings(run).get("in_channels", 3))
    x = []
    for a in pairs.images:  # RGB uint8; a grayscale photo is one with R = G = B
        t = torch.from_numpy(a.astype(np.float32) / 255.0).permute(2, 0, 1)
        if channels == 1:
            t = (t * torch.tensor([0.299, 0.587, 0.114])[:, None, None]).sum(
                0, keepdim=True
            )
        x.append(t)
    return [y.argmax(0).numpy() for y in predict_whole(run.model, x)]


def colorize(run: Run | str | os.PathLike, inputs: Inputs) -> list[np.ndarray]:
    """Colour versions (H, W, 3) uint8 of grayscale or colour images, each its own size.

    `inputs`: a folder, image files, a uint8 array, or "photos" (held-out demo photos).
    """
    run = as_task_run(run, "colorize")
    return [_uint8(a) for a in colorize_pairs(run, input_images(inputs))]


def segment(run: Run | str | os.PathLike, inputs: Inputs) -> list[np.ndarray]:
    """Class-id maps (H, W) int64 of images, any size ("shapes": the demo test set)."""
    run = as_task_run(run, "segment")
    return segment_pairs(run, input_images(inputs))


def evaluate_task(
    run: Run | str | os.PathLike, data: Inputs = None, **options: Any
) -> dict:
    """Scores of a colorize or segment run on whole images.

    colorize: PSNR and SSIM against the true colour images, beside the grayscale
    copy. segment: pixel accuracy, IoU per class and mIoU; `masks=FOLDER` (and
    optionally `classes=FILE`) give the true masks. `data` None scores the run's own
    held-out data: the demo's test images, or the validation images of a folder.
    """
    run = run if isinstance(run, Run) else load_run(run)
    if run.task not in ("colorize", "segment"):
        raise AekitError(f"{run.path} has task {run.task!r}, not colorize or segment")
    options = {k: v for k, v in options.items() if v is not None}
    unknown = sorted(set(options) - {"masks", "classes"})
    if unknown:
        raise AekitError(
            f"evaluating a {run.task} run takes no option(s) {', '.join(unknown)}"
        )
    pairs = _evaluation_pairs(run, data, options)
    if run.task == "colorize":
        truth = [a.astype(np.float64) / 255.0 for a in pairs.images]
        scores = color_scores(truth, colorize_pairs(run, pairs))
    else:
        scores = _segment_scores(run, pairs)
    return {
        "task": run.task,
        "data": pairs.source,
        "n_images": len(pairs.images),
        **scores,
    }


def _evaluation_pairs(run: Run, data: Inputs, options: dict[str, Any]) -> ImagePairs:
    spec = run.data_spec
    if data is None:
        source = spec.get("source")
        if source in ("photos", "shapes"):
            return read_task_pairs(run.task, source, {}, "test")
        if source is None:
            raise AekitError(f"{run.path} was trained on in-memory data; name the data")
        pairs = read_task_pairs(run.task, source, spec.get("options", {}))
        config = run.train_config
        return split_images(pairs, config.val_fraction, config.seed)[1]
    if isinstance(data, (str, Path)) and str(data) in ("photos", "shapes"):
        return read_task_pairs(run.task, str(data), {}, "test")
    if run.task == "colorize":
        return read_task_pairs("colorize", data, {})
    opts = {"ignore_index": task_settings(run)["ignore_index"], **options}
    return read_task_pairs("segment", data, opts)


def _segment_scores(run: Run, pairs: ImagePairs) -> dict[str, Any]:
    settings = task_settings(run)
    n, ignore = run.model.config.out_channels, settings["ignore_index"]
    if pairs.classes is not None and len(pairs.classes) > n:
        raise AekitError(
            f"{pairs.source} has {len(pairs.classes)} classes; {run.path} knows {n}"
        )
    conf = np.zeros((n, n), np.int64)
    for ids, truth in zip(segment_pairs(run, pairs), pairs.masks, strict=True):
        conf += confusion_matrix(ids, truth, n, ignore)
    return segmentation_scores(conf, run.classes)


def _uint8(rgb: np.ndarray) -> np.ndarray:
    return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
