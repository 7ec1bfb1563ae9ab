"""Built-in demo data for image-to-image tasks: real colour photos, synthetic shapes.

`photos`: real colour photographs that ship inside scikit-learn (`china`, `flower`)
and scikit-image (`astronaut`, `chelsea`, `coffee`, `rocket`, the left view of
`stereo_motorcycle`), shrunk so the longer side is 256 pixels. Five train; `coffee`
and `flower` are held out for testing colorization.

`shapes`: a SYNTHETIC segmentation set generated from a seed, no real images:
64x64 RGB pictures of a shaded, noisy background with one to three circles, squares
and triangles (random size, rotation and colour; they do not touch), and masks of
class ids 0 background, 1 circle, 2 square, 3 triangle. The class depends on the
shape alone, never on its colour.
"""

from __future__ import annotations

import numpy as np

from ..errors import AekitError
from .dataset import Dataset, Scaling
from .paired import ImagePairs, extract_patches

PHOTO_SIDE = 256  # longer side of the demo photos, in pixels
TRAIN_PHOTOS = ("astronaut", "chelsea", "rocket", "motorcycle", "china")
TEST_PHOTOS = ("coffee", "flower")
SHAPE_CLASSES = ("background", "circle", "square", "triangle")
SHAPE_PALETTE = np.array(
    [[0, 0, 0], [230, 25, 75], [60, 180, 75], [0, 130, 200]], np.uint8
)
SHAPE_SIZE = 64
SHAPES_N = {"train": 400, "test": 100}
SHAPES_SEED = {"train": 1, "test": 2}  # different seeds: test pictures are new


# -- photos --------------------------------------------------------------------------
def photo(name: str) -> np.ndarray:
    """One demo photo as (H, W, 3) uint8, the longer side PHOTO_SIDE pixels."""
    from PIL import Image

    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        a = load_sample_image(f"{name}.jpg")
    else:
        try:
            import skimage.data
        except ImportError as e:
            raise AekitError(
                "the photos demo needs scikit-image: pip install 'aekit[images]'"
            ) from e
        if name == "motorcycle":
            a = skimage.data.stereo_motorcycle()[0]
        else:
            a = getattr(skimage.data, name)()
    image = Image.fromarray(np.asarray(a, dtype=np.uint8)[..., :3])
    f = PHOTO_SIDE / max(image.size)
    size = (round(image.size[0] * f), round(image.size[1] * f))
    return np.asarray(image.resize(size, Image.Resampling.LANCZOS), dtype=np.uint8)


def photo_pairs(split: str = "train") -> ImagePairs:
    """The demo photos of a split ("train", "test" or "all") as whole images."""
    names = {"train": TRAIN_PHOTOS, "test": TEST_PHOTOS}.get(
        split, TRAIN_PHOTOS + TEST_PHOTOS
    )
    return ImagePairs([photo(n) for n in names], list(names), f"photos ({split})")


def load_photos() -> Dataset:
    """1,000 seeded 32x32 RGB patches of the five training photos (autoencoders)."""
    patches, _ = extract_patches(photo_pairs("train"), 32, per_image=200, seed=0)
    scaling = Scaling(scale=255.0, domain="unit", layout="hwc")
    return Dataset(x=scaling.from_source(patches), scaling=scaling, name="photos")


# -- shapes (synthetic) --------------------------------------------------------------
def shape_pairs(split: str = "train", n: int | None = None) -> ImagePairs:
    """Synthetic pictures and masks of a split ("train" or "test"), seeded."""
    if split not in SHAPES_N:
        raise AekitError(f"shapes has splits train and test, not {split!r}")
    rng = np.random.default_rng(SHAPES_SEED[split])
    images, masks = [], []
    for _ in range(n or SHAPES_N[split]):
        image, mask = draw_shapes(rng, SHAPE_SIZE)
        images.append(image)
        masks.append(mask)
    names = [f"shape-{i:04d}" for i in range(len(images))]
    return ImagePairs(images, names, "shapes", masks, SHAPE_CLASSES, SHAPE_PALETTE)


def load_shapes() -> Dataset:
    """The synthetic training pictures alone, as images (their masks: shape_pairs)."""
    pairs = shape_pairs("train")
    scaling = Scaling(scale=255.0, domain="unit", layout="hwc")
    return Dataset(
        x=scaling.from_source(np.stack(pairs.images)), scaling=scaling, name="shapes"
    )


def draw_shapes(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """One picture (size, size, 3) uint8 and its class-id mask (size, size) int64."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5  # pixel centres
    base = rng.uniform(0, 1, 3)
    tilt = rng.uniform(-0.25, 0.25, 3)
    image = base + tilt * (yy[..., None] / size - 0.5)  # a shaded background
    mask = np.zeros((size, size), np.int64)
    for _ in range(rng.integers(1, 4)):
        for _attempt in range(20):  # shapes do not touch: each is seen whole
            kind = int(rng.integers(1, 4))
            cy, cx = rng.uniform(0.15, 0.85, 2) * size
            r = rng.uniform(0.12, 0.22) * size
            angle = rng.uniform(0, 2 * np.pi)
            inside = _shape_mask(kind, yy - cy, xx - cx, r, angle)
            margin = _shape_mask(kind, yy - cy, xx - cx, r + 2, angle)
            if not (margin & (mask > 0)).any():
                break
        else:
            continue
        image[inside] = _contrasting(rng, base)
        mask[inside] = kind
    image = image + rng.normal(0, 0.04, image.shape)
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8), mask


def _shape_mask(
    kind: int, dy: np.ndarray, dx: np.ndarray, r: float, angle: float
) -> np.ndarray:
    if kind == 1:  # circle of radius r
        return dy**2 + dx**2 <= r**2
    corners = 4 if kind == 2 else 3  # square or equilateral triangle, circumradius r
    reach = r * (1.0 if kind == 2 else 1.25)  # triangles look smaller at equal radius
    angles = angle + 2 * np.pi * np.arange(corners) / corners
    vy, vx = reach * np.sin(angles), reach * np.cos(angles)
    inside = np.ones(dy.shape, bool)
    for k in range(corners):  # convex polygon: left of every edge, counter-clockwise
        ey, ex = vy[(k + 1) % corners] - vy[k], vx[(k + 1) % corners] - vx[k]
        inside &= ex * (dy - vy[k]) - ey * (dx - vx[k]) >= 0
    return inside


def _contrasting(rng: np.random.Generator, background: np.ndarray) -> np.ndarray:
    """A random colour at least 0.35 (RGB distance) away from the background."""
    for _ in range(100):
        colour = rng.uniform(0, 1, 3)
        if np.linalg.norm(colour - background) >= 0.35:
            return colour
    return 1.0 - background


IMAGE_DEMOS = ("photos", "shapes")  # the built-in sets of whole images


def demo_pairs(name: str, split: str) -> ImagePairs:
    """A built-in image set's whole images (and masks) of a split."""
    if name not in IMAGE_DEMOS:
        raise AekitError(f"no demo image set {name!r}; choose {', '.join(IMAGE_DEMOS)}")
    return photo_pairs(split) if name == "photos" else shape_pairs(split)
