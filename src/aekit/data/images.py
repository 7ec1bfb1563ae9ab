"""Image files (PNG, JPEG, BMP, GIF, TIFF, WebP): a folder of them, or a list."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..errors import AekitError, show_path
from .files import RawData

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
)
DEFAULT_MAX_SIDE = 64  # larger first images are shrunk to fit in 64x64
_PIL_ERRORS = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)

Size = tuple[int, int]  # (height, width)


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def find_images(folder: Path) -> list[Path]:
    """Image files below `folder`, sorted; hidden files and folders are skipped."""
    return sorted(
        (
            p
            for p in folder.rglob("*")
            if is_image_name(p)
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        ),
        key=lambda p: p.relative_to(folder).as_posix(),
    )


def read_image_folder(
    folder: Path, image_size: int | Size | None = None, channels: int | None = None
) -> RawData:
    """Labels come from the sub-folder names when every image sits in one."""
    paths = find_images(folder)
    if not paths:
        raise AekitError(
            f"{folder}: no images found (looked for "
            f"{', '.join(sorted(IMAGE_SUFFIXES))} files, recursively)"
        )
    raw = read_image_files(paths, image_size, channels, name=str(folder))
    tops = [p.relative_to(folder).parts for p in paths]
    if all(len(parts) > 1 for parts in tops):
        classes, y = np.unique([parts[0] for parts in tops], return_inverse=True)
        raw.y, raw.classes = y.astype(np.int64), tuple(str(c) for c in classes)
    elif any(len(parts) > 1 for parts in tops):
        logger.warning(
            "%s: some images sit at the top and some in sub-folders; loading them "
            "without labels",
            folder,
        )
    return raw


def read_image_files(
    paths: Sequence[Path],
    image_size: int | Size | None = None,
    channels: int | None = None,
    name: str | None = None,
) -> RawData:
    """Decode, bring to one size and one channel count, stack as uint8."""
    if channels not in (None, 1, 3):
        raise AekitError(f"channels must be 1 (grayscale) or 3 (RGB), not {channels}")
    size = _checked_size(image_size) if image_size is not None else None
    arrays = []
    for path in paths:
        image = open_rgb(path, size)
        if size is None:
            size = _default_size(image, path)
        if image.size != (size[1], size[0]):
            image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
        arrays.append(np.asarray(image, dtype=np.uint8))
    a = np.stack(arrays)  # (N, H, W, 3)
    grey = bool((a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all())
    if channels == 1 and not grey:
        a = luma(a)
    elif channels == 1 or (channels is None and grey):
        a = np.ascontiguousarray(a[..., 0])
    label = name or (str(paths[0]) if len(paths) == 1 else f"{len(paths)} image files")
    return RawData(a, "hw" if a.ndim == 3 else "hwc", label)


def open_rgb(path: Path, size: Size | None = None) -> Image.Image:
    """The first frame as 8-bit RGB; transparency is composited onto black.

    With `size`, a JPEG is decoded at the smallest 1/2, 1/4 or 1/8 scale that is
    still at least that big: a folder of photos loads many times faster.
    """
    try:
        with Image.open(path) as image:
            image.seek(0)
            if size is not None:
                side = max(size)  # EXIF rotation may swap height and width
                image.draft(None, (side, side))
            image.load()
            image = ImageOps.exif_transpose(image)
            return _to_rgb(image)
    except _PIL_ERRORS as e:
        reason = " ".join(str(e).split()) or type(e).__name__
        raise AekitError(f"{show_path(path)}: not a readable image ({reason})") from e


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16-bit / float scans
        a = np.asarray(image, dtype=np.float64)
        if not np.isfinite(a).all():  # float scans can hold them; caught as bad file
            row, col = np.argwhere(~np.isfinite(a))[0]
            raise ValueError(f"NaN or inf pixel at row {row}, column {col}")
        a = a / 257.0 if a.max() > 255 else a
        image = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(black, rgba).convert("RGB")
    return image.convert("RGB")


def luma(a: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, H, W), with the weights Pillow's convert("L") uses."""
    w = np.array([19595, 38470, 7471], dtype=np.uint32)
    return ((a.astype(np.uint32) @ w + 0x8000) >> 16).astype(np.uint8)


def _checked_size(image_size: int | str | Size) -> Size:
    size = image_size
    if isinstance(size, str):  # "28" or "28x32", as typed on a command line
        size = size.lower().split("x") if "x" in size.lower() else size
    if isinstance(size, (int, str)):
        size = (size, size)
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError) as e:
        message = f"image size must be an int or (height, width), not {size!r}"
        raise AekitError(message) from e
    if h < 1 or w < 1:
        raise AekitError(f"image size must be positive, not {(h, w)}")
    return h, w


def _default_size(image: Image.Image, path: Path) -> Size:
    w, h = image.size
    if max(h, w) <= DEFAULT_MAX_SIDE:
        return h, w
    f = DEFAULT_MAX_SIDE / max(h, w)
    size = max(1, round(h * f)), max(1, round(w * f))
    logger.info(
        "%s is %dx%d; resizing all images to %dx%d (height x width) to fit in "
        "%dx%d; pass image_size to choose",
        show_path(path),
        h,
        w,
        *size,
        DEFAULT_MAX_SIDE,
        DEFAULT_MAX_SIDE,
    )
    return size
