"""Paired image data for image-to-image tasks: images and masks, photos, patches.

Images keep their own sizes (no resizing); training draws seeded random square
patches from them, inference runs on whole images. Masks are matched to images by
their path inside the folder without the extension (`images/a/b.jpg` <->
`masks/a/b.png`). A mask is a palette PNG (class id = palette index) or a
single-channel integer PNG (8 or 16 bit; class id = value); an RGB mask whose three
channels are equal counts as integer. A class-name file holds one name per line in
id order (line 1 names id 0); blank lines and lines starting with `#` are skipped.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import AekitError, show_path
from .dataset import Dataset, Scaling
from .images import IMAGE_SUFFIXES, find_images, is_image_name, open_rgb

logger = logging.getLogger(__name__)

CLASS_FILE = "classes.txt"  # read from the masks folder when no file is named
LOSSY = (".jpg", ".jpeg", ".webp")  # would change class ids at region borders
MAX_PATCHES_PER_IMAGE = 256


@dataclass
class ImagePairs:
    """Whole images of any size, their names, and their masks when there are any."""

    images: list[np.ndarray]  # each (H, W, 3) uint8 RGB
    names: list[str]  # path inside the folder without extension, for output names
    source: str  # the folder, file or built-in name, for messages
    masks: list[np.ndarray] | None = None  # each (H, W) int64 class ids
    classes: tuple[str, ...] | None = None  # declared class names, id order
    palette: np.ndarray | None = None  # (K, 3) uint8, the masks' own colours

    @property
    def grayscale(self) -> bool:
        """True when no image has colour (R = G = B everywhere)."""
        return all(is_gray(a) for a in self.images)


# -- reading -------------------------------------------------------------------------
def image_paths(source: str | os.PathLike | Sequence) -> tuple[list[Path], Path | None]:
    """Image files of a folder (recursive), one file, or a list; and the folder."""
    if isinstance(source, (list, tuple)):
        paths = [Path(p) for p in source]
        for p in paths:
            if not p.is_file():
                raise AekitError(f"no such image file: {p}")
        return paths, None
    path = Path(source).expanduser()
    if path.is_dir():
        paths = find_images(path)
        if not paths:
            raise AekitError(
                f"{path}: no images found (looked for "
                f"{', '.join(sorted(IMAGE_SUFFIXES))} files, recursively)"
            )
        return paths, path
    if path.is_file() and is_image_name(path):
        return [path], None
    if path.is_file():
        raise AekitError(f"{path}: not an image file ({path.suffix or 'no extension'})")
    raise AekitError(f"no such file or directory: {source}")


def read_images(source: str | os.PathLike | Sequence) -> ImagePairs:
    """Whole RGB images of any size from a folder, an image file or a list of files."""
    paths, folder = image_paths(source)
    names = [_key(p, folder) for p in paths]
    images = [np.asarray(open_rgb(p), dtype=np.uint8) for p in paths]
    return ImagePairs(images, names, str(source))


def read_pairs(
    images: str | os.PathLike,
    masks: str | os.PathLike,
    *,
    classes: str | os.PathLike | None = None,
    ignore_index: int = 255,
) -> ImagePairs:
    """Images and masks matched by name; every class id checked against the classes."""
    image_files, image_dir = image_paths(images)
    mask_dir = Path(masks).expanduser()
    if not mask_dir.is_dir():
        raise AekitError(f"masks must be a folder of mask images; no folder {masks}")
    mask_files = _masks_by_key(mask_dir)
    keys = [_key(p, image_dir) for p in image_files]
    missing = [k for k in keys if k not in mask_files]
    if missing:
        raise AekitError(
            f"no mask in {mask_dir} for {len(missing)} image(s): "
            f"{', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''} "
            "(masks are matched by file name without the extension)"
        )
    unused = sorted(set(mask_files) - set(keys))
    if unused:
        logger.warning("%d mask(s) have no image and are skipped", len(unused))
    pairs = ImagePairs([], keys, str(images), masks=[])
    for path, key in zip(image_files, keys, strict=True):
        image = np.asarray(open_rgb(path), dtype=np.uint8)
        ids, palette = read_mask(mask_files[key])
        if ids.shape != image.shape[:2]:
            raise AekitError(
                f"{show_path(mask_files[key])} is {ids.shape[1]}x{ids.shape[0]} but "
                f"its image {show_path(path)} is {image.shape[1]}x{image.shape[0]} "
                "(width x height)"
            )
        pairs.images.append(image)
        pairs.masks.append(ids)
        if pairs.palette is None and palette is not None:
            pairs.palette = palette
    class_file = Path(classes) if classes else mask_dir / CLASS_FILE
    if classes or class_file.is_file():
        pairs.classes = read_class_names(class_file)
    pairs.classes = check_class_ids(pairs, ignore_index)
    return pairs


def read_mask(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(H, W) int64 class ids, and the palette (256, 3) of a palette PNG."""
    if path.suffix.lower() in LOSSY:
        raise AekitError(
            f"{path}: masks must be stored losslessly (PNG); lossy compression "
            "changes class ids at region borders"
        )
    try:
        with Image.open(path) as image:
            image.seek(0)
            image.load()
            mode, palette = image.mode, image.getpalette()
            a = np.asarray(image)
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        raise AekitError(f"{path}: not a readable mask image ({e})") from e
    if mode == "P":
        pal = np.zeros((256, 3), np.uint8)
        colours = np.asarray(palette or [], dtype=np.uint8).reshape(-1, 3)[:256]
        pal[: len(colours)] = colours
        return a.astype(np.int64), pal
    if a.ndim == 3 and mode in ("RGB", "RGBA", "LA"):
        colour = a[..., :3] if mode != "LA" else a[..., :1]
        if not (colour == colour[..., :1]).all():
            raise AekitError(
                f"{path} is a colour ({mode}) image; save masks as palette PNGs or "
                "single-channel integer PNGs of class ids"
            )
        a = colour[..., 0]
    if a.ndim != 2 or a.dtype.kind not in "iub":
        raise AekitError(
            f"{path}: a mask must hold one integer class id per pixel (mode {mode})"
        )
    return a.astype(np.int64), None


def read_class_names(path: Path) -> tuple[str, ...]:
    """One class name per line, id order; blank lines and '#' comments skipped."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise AekitError(f"cannot read class names from {path}: {e}") from e
    names = tuple(
        s.strip() for s in lines if s.strip() and not s.strip().startswith("#")
    )
    if len(names) < 2:
        raise AekitError(f"{path}: needs at least two class names, one per line")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise AekitError(f"{path}: class name(s) given twice: {', '.join(repeated)}")
    return names


def check_class_ids(pairs: ImagePairs, ignore_index: int) -> tuple[str, ...]:
    """The class names (declared, or 0..max id); raise on an id outside them."""
    assert pairs.masks is not None, "check_class_ids needs masks"
    n = len(pairs.classes) if pairs.classes else None
    top = -1
    for ids, name in zip(pairs.masks, pairs.names, strict=True):
        labelled = ids[ids != ignore_index]
        if labelled.size == 0:
            continue
        lo, hi = int(labelled.min()), int(labelled.max())
        if lo < 0 or (n is not None and hi >= n):
            bad = lo if lo < 0 else hi
            declared = f"the {n} declared classes (0-{n - 1})" if n else "0 or more"
            raise AekitError(
                f"mask {name} holds class id {bad}, outside {declared}; "
                f"pixels to skip must hold the ignore index {ignore_index}"
            )
        top = max(top, hi)
    if n is not None:
        return pairs.classes
    if top < 1:
        raise AekitError(f"{pairs.source}: masks hold fewer than two classes")
    return tuple(str(i) for i in range(top + 1))


# -- patches -------------------------------------------------------------------------
def patch_size_for(pairs: ImagePairs, patch_size: int, minimum: int) -> int:
    """`patch_size`, or the smallest image side if smaller; at least `minimum`."""
    if patch_size < 1:
        raise AekitError(f"patch size must be positive, got {patch_size}")
    smallest = min(min(a.shape[:2]) for a in pairs.images)
    return max(min(patch_size, smallest), minimum)


def extract_patches(
    pairs: ImagePairs,
    size: int,
    *,
    per_image: int | None = None,
    seed: int = 0,
    ignore_index: int = 255,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Seeded random square patches (half of them mirrored left-right).

    Returns images (N, size, size, 3) uint8 and masks (N, size, size) int64 or None.
    `per_image` None draws enough to cover each image about twice (one for an
    image no bigger than a patch). Images smaller than a patch are padded: mirrored
    pixels, and the ignore index in masks.
    """
    rng = np.random.default_rng(seed)
    images, masks = [], []
    for i, image in enumerate(pairs.images):
        mask = None if pairs.masks is None else pairs.masks[i]
        image, mask = _pad_to(image, mask, size, ignore_index)
        h, w = image.shape[:2]
        n = per_image or _auto_count(h, w, size)
        tops = rng.integers(0, h - size + 1, n)
        lefts = rng.integers(0, w - size + 1, n)
        flips = rng.random(n) < 0.5
        for top, left, flip in zip(tops, lefts, flips, strict=True):
            step = -1 if flip else 1
            images.append(image[top : top + size, left : left + size][:, ::step])
            if mask is not None:
                masks.append(mask[top : top + size, left : left + size][:, ::step])
    return np.stack(images), (np.stack(masks) if masks else None)


def _auto_count(h: int, w: int, size: int) -> int:
    if h == size and w == size:
        return 1
    return min(MAX_PATCHES_PER_IMAGE, math.ceil(2 * h * w / size**2))


def _pad_to(
    image: np.ndarray, mask: np.ndarray | None, size: int, ignore_index: int
) -> tuple[np.ndarray, np.ndarray | None]:
    h, w = image.shape[:2]
    ph, pw = max(0, size - h), max(0, size - w)
    if ph == 0 and pw == 0:
        return image, mask
    image = np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="symmetric")
    if mask is not None:
        mask = np.pad(mask, ((0, ph), (0, pw)), constant_values=ignore_index)
    return image, mask


def segmentation_dataset(
    pairs: ImagePairs,
    size: int,
    *,
    per_image: int | None = None,
    seed: int = 0,
    ignore_index: int = 255,
) -> Dataset:
    """Patches as a Dataset: x (N, C, P, P) in [0, 1], target (N, P, P) int64 ids.

    C is 1 when every image is grayscale, else 3.
    """
    if pairs.masks is None:
        raise AekitError(f"{pairs.source} has no masks; segmentation needs them")
    images, masks = extract_patches(
        pairs, size, per_image=per_image, seed=seed, ignore_index=ignore_index
    )
    gray = pairs.grayscale
    scaling = Scaling(scale=255.0, domain="unit", layout="hw" if gray else "hwc")
    return Dataset(
        x=scaling.from_source(images[..., 0] if gray else images),
        scaling=scaling,
        name=pairs.source,
        classes=pairs.classes,
        target=torch.from_numpy(np.ascontiguousarray(masks)),
    )


def _masks_by_key(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in find_images(folder):
        key = _key(path, folder)
        if key in found:
            raise AekitError(
                f"two masks for {show_path(key)} in {show_path(folder)}: "
                f"{show_path(found[key].name)} and {show_path(path.name)}"
            )
        found[key] = path
    return found


def _key(path: Path, folder: Path | None) -> str:
    inside = path.relative_to(folder) if folder is not None else Path(path.name)
    return inside.with_suffix("").as_posix()


def is_gray(a: np.ndarray) -> bool:
    """True when an (H, W, 3) image has no colour: R = G = B everywhere."""
    return bool((a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all())
