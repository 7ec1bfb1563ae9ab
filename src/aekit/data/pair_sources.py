"""Where a task's whole images come from: a demo name, a folder, files, two folders.

Colorization keeps colour images only; segmentation pairs each image with its mask
(--masks MASKS, or one folder holding images/ and masks/). Whole images are split
into training and validation images (seeded), so no validation patch overlaps a
training one.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AekitError
from .paired import ImagePairs, is_gray, read_images, read_pairs

log = logging.getLogger(__name__)


def read_task_pairs(
    task: str, data: Any, opts: dict[str, Any], split: str = "train"
) -> ImagePairs:
    """Whole images (and masks) of a task's data: a demo name, a folder, files."""
    from .demo import photo_pairs, shape_pairs

    if task not in ("colorize", "segment"):
        raise AekitError(f"unknown task {task!r}; choose colorize or segment")
    if isinstance(data, ImagePairs):
        pairs = data
    elif data == "photos":
        pairs = photo_pairs(split)
    elif data == "shapes":
        pairs = shape_pairs(split)
    elif task == "segment":
        images, masks = _image_and_mask_folders(data, opts.get("masks"))
        pairs = read_pairs(
            images,
            masks,
            classes=opts.get("classes"),
            ignore_index=int(opts.get("ignore_index", 255)),
        )
    else:
        pairs = read_images(data)
    if task == "segment" and pairs.masks is None:
        raise AekitError(f"{pairs.source} has no masks; segmentation needs them")
    return colour_only(pairs) if task == "colorize" else pairs


def colour_only(pairs: ImagePairs) -> ImagePairs:
    """Drop grayscale images from colorization training: they hold no colour."""
    keep = [i for i, a in enumerate(pairs.images) if not is_gray(a)]
    if not keep:
        raise AekitError(
            f"{pairs.source}: every image is grayscale; colorization "
            "trains on colour images"
        )
    if len(keep) < len(pairs.images):
        log.warning(
            "%s: skipping %d grayscale image(s)",
            pairs.source,
            len(pairs.images) - len(keep),
        )
    return ImagePairs(
        [pairs.images[i] for i in keep], [pairs.names[i] for i in keep], pairs.source
    )


def split_images(
    pairs: ImagePairs, val_fraction: float, seed: int
) -> tuple[ImagePairs, ImagePairs]:
    """Seeded split of whole images; a single image is shared (patches differ)."""
    n = len(pairs.images)
    if n < 2:
        log.warning(
            "%s: one image only; validation patches come from it too", pairs.source
        )
        return pairs, pairs
    n_val = min(max(1, round(n * val_fraction)), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    return _take(pairs, order[n_val:]), _take(pairs, order[:n_val])


def _take(pairs: ImagePairs, index: np.ndarray) -> ImagePairs:
    return dataclasses.replace(
        pairs,
        images=[pairs.images[i] for i in index],
        names=[pairs.names[i] for i in index],
        masks=None if pairs.masks is None else [pairs.masks[i] for i in index],
    )


def _image_and_mask_folders(data: Any, masks: Any) -> tuple[Any, Any]:
    """--data IMAGES --masks MASKS, or one folder holding images/ and masks/."""
    if masks:
        return data, masks
    if isinstance(data, (str, Path)):
        folder = Path(data)
        if (folder / "images").is_dir() and (folder / "masks").is_dir():
            return folder / "images", folder / "masks"
    raise AekitError(
        "--task segment needs --masks MASKS, a folder of masks named like the images "
        "(or --data FOLDER holding images/ and masks/, or --data shapes, the demo)"
    )
