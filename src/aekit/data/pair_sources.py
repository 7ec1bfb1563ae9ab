"""Whole images for image-to-image tasks: colour images only, image and mask folders,
and the seeded split of whole images into training and validation images (so no
validation patch overlaps a training one). Which a task uses is the task's own
choice (aekit.tasks).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AekitError
from .paired import ImagePairs, is_gray

log = logging.getLogger(__name__)


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


def image_and_mask_folders(data: Any, masks: Any) -> tuple[Any, Any]:
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
