"""NumPy (.npy, .npz) files, and the array rules every loader shares (CSV: csvfile)."""

from __future__ import annotations

import logging
import math
import os
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from numpy.lib import format as npy_format

from ..errors import AekitError
from .dataset import Dataset, Layout, Scaling, check_finite

logger = logging.getLogger(__name__)

_CHANNELS = (1, 3, 4)
_NPY_MAGIC = b"\x93NUMPY"
_DEFLATE_MAX_RATIO = 1032  # deflate cannot expand its input by more than this


@dataclass
class RawData:
    """Samples in source units and layout, before a scaling is fitted or applied."""

    a: np.ndarray  # (N, D), (N, H, W), (N, H, W, C) or (N, C, H, W)
    layout: Layout
    name: str  # the file or folder, for messages
    y: np.ndarray | None = None  # (N,) int64
    classes: tuple[str, ...] | None = None
    table: bool = False  # CSV columns: always standardised per feature


# -- rules shared by every loader ----------------------------------------------
def infer_layout(shape: tuple[int, ...], where: str) -> Layout:
    """(N, D) -> "d", (N, H, W) -> "hw", channels last before channels first."""
    if len(shape) == 2:
        return "d"
    if len(shape) == 3:
        return "hw"
    if len(shape) == 4 and shape[3] in _CHANNELS:
        return "hwc"
    if len(shape) == 4 and shape[1] in _CHANNELS:
        return "chw"
    raise AekitError(
        f"{where}: cannot use an array of shape {shape}; expected (N, D) vectors, "
        "(N, H, W) grayscale images, or (N, H, W, C) / (N, C, H, W) images "
        "with C = 1, 3 or 4"
    )


def fit_scaling(a: np.ndarray, layout: Layout, *, table: bool = False) -> Scaling:
    """How source values map to model values; first matching rule wins.

    CSV tables: per-column standardisation ("real"). Integers in {0, 1}: as they
    are. Integers in [0, 255]: /255. Floats in [0, 1]: as they are. Anything
    else: vectors standardised per feature ("real"), images min-max to [0, 1].
    """
    if table:
        return _standardise(a)
    lo, hi = float(a.min()), float(a.max())
    if a.dtype.kind in "iu" and lo >= 0 and hi <= 1:  # binary data: /255 would hide it
        return Scaling(domain="unit", layout=layout)
    if a.dtype.kind in "iu" and lo >= 0 and hi <= 255:
        return Scaling(scale=255.0, domain="unit", layout=layout)
    if a.dtype.kind == "f" and lo >= 0 and hi <= 1:
        return Scaling(domain="unit", layout=layout)
    if layout == "d":
        return _standardise(a)
    return Scaling(offset=lo, scale=(hi - lo) or 1.0, domain="unit", layout=layout)


def _standardise(a: np.ndarray) -> Scaling:
    a = a.astype(np.float64, copy=False)
    mean, std = a.mean(axis=0), a.std(axis=0)
    # float32 must still be able to divide by the scale, and a constant column
    # can come out with a rounding-noise std instead of exactly 0
    constant = (std < np.finfo(np.float32).tiny) | (std <= 1e-7 * np.abs(mean))
    std[constant] = 1.0
    return Scaling(offset=tuple(mean), scale=tuple(std), domain="real", layout="d")


def finish(
    raw: RawData, scaling: Scaling | None = None, name: str | None = None
) -> Dataset:
    """Fit a scaling (or apply the given one) and build the Dataset."""
    a = raw.a
    if a.dtype.kind == "b":
        a = a.astype(np.uint8)
    if a.dtype.kind not in "iuf":
        raise AekitError(f"{raw.name}: values must be numbers, not dtype {a.dtype}")
    check_dtype_width(a.dtype, raw.name)
    if a.size == 0:
        raise AekitError(f"{raw.name}: no data (array of shape {a.shape})")
    if not a.dtype.isnative:  # big-endian data: torch only takes native order
        a = a.astype(a.dtype.newbyteorder("="))
    check_finite(a, raw.name)
    _check_float32_range(a, raw.name)
    if scaling is None:
        scaling = fit_scaling(a, raw.layout, table=raw.table)
        x = scaling.from_source(a)
    else:
        x = _apply(raw, a, scaling)
    return Dataset(
        x=x, y=raw.y, scaling=scaling, name=name or raw.name, classes=raw.classes
    )


def check_dtype_width(dtype: np.dtype, name: str) -> None:
    """Refuse float128 (long double): torch has no such type, and converting would
    quietly drop precision or overflow to inf; the user chooses how to convert."""
    if dtype.kind == "f" and dtype.itemsize > 8:
        raise AekitError(
            f"{name}: values are {dtype.name} (long double), which aekit cannot use; "
            "save them as float64 or float32 first"
        )


def _check_float32_range(a: np.ndarray, name: str) -> None:
    """Models compute in float32: a larger value would turn into inf there."""
    if a.dtype.kind != "f" or a.dtype.itemsize <= 4:
        return
    big = np.abs(a.reshape(len(a), -1)) > np.finfo(np.float32).max
    rows = np.flatnonzero(big.any(axis=1))
    if len(rows):
        raise AekitError(
            f"{name}: sample {rows[0]} (row {rows[0]}, counting from 0) holds a value "
            "beyond the float32 range (about 3.4e38); rescale the data first"
        )


def dataset_from_array(
    a: np.ndarray,
    *,
    y: np.ndarray | None = None,
    name: str = "array",
    scaling: Scaling | None = None,
) -> Dataset:
    """An in-memory array under the same layout and scaling rules as a .npy file."""
    a = np.asarray(a)
    raw = RawData(a, infer_layout(a.shape, name), name)
    if y is not None:
        raw.y, raw.classes = encode_labels(np.asarray(y), f"{name}: labels")
    return finish(raw, scaling)


def _apply(raw: RawData, a: np.ndarray, scaling: Scaling) -> torch.Tensor:
    kinds = {True: "vectors", False: "images"}
    if (raw.layout == "d") != (scaling.layout == "d"):
        raise AekitError(
            f"{raw.name}: holds {kinds[raw.layout == 'd']} but the model was trained "
            f"on {kinds[scaling.layout == 'd']}"
        )
    for value in (scaling.offset, scaling.scale):
        if raw.layout == "d" and isinstance(value, tuple) and len(value) != a.shape[1]:
            raise AekitError(
                f"{raw.name}: {a.shape[1]} features but the model expects {len(value)}"
            )
    try:
        return replace(scaling, layout=raw.layout).from_source(a)
    except AekitError as e:
        raise AekitError(f"{raw.name}: does not match the model's scaling: {e}") from e


def encode_labels(values: np.ndarray, where: str) -> tuple[np.ndarray, tuple | None]:
    """Integer labels stay as they are; text (or negative) labels become class ids."""
    v = np.asarray(values).reshape(-1)
    if v.dtype.kind in "US":
        try:
            v = np.char.strip(v.astype(str))
        except UnicodeError as e:
            raise AekitError(f"{where}: labels are bytes that are not text") from e
        try:
            numbers = v.astype(np.float64)
        except ValueError:
            numbers = None
        if numbers is None or not np.all(np.isfinite(numbers) & (numbers % 1 == 0)):
            classes, y = np.unique(v, return_inverse=True)
            return y.astype(np.int64), tuple(str(c) for c in classes)
        v = numbers
    if v.dtype.kind == "f":
        fractional = v[~(np.isfinite(v) & (v % 1 == 0))]
        if len(fractional):
            raise AekitError(
                f"{where}: labels must be integers or text, not {fractional[0]:g}"
            )
        v = v.astype(np.int64)
    if v.dtype.kind not in "iub":
        raise AekitError(f"{where}: labels must be integers or text, not {v.dtype}")
    if len(v) == 0 or v.min() >= 0:
        return v.astype(np.int64), None
    classes, y = np.unique(v, return_inverse=True)
    return y.astype(np.int64), tuple(str(c) for c in classes)


# -- .npy / .npz -----------------------------------------------------------------
def read_numpy(path: Path) -> RawData:
    """An .npy array, or an .npz with arrays x and optional y (told by content)."""
    arrays = _np_read(path)
    x, y = arrays["x"], arrays.get("y")
    raw = RawData(x, infer_layout(x.shape, str(path)), str(path))
    if y is not None:
        if y.size != len(x) or (y.ndim > 1 and max(y.shape) != y.size):
            raise AekitError(f"{path}: y has shape {y.shape}; expected ({len(x)},)")
        raw.y, raw.classes = encode_labels(y, f"{path}: y")
    return raw


# A damaged file can make NumPy's parser raise nearly anything (ValueError,
# zipfile's NotImplementedError, tokenize errors, MemoryError for an absurd
# header): all of it means "this file is bad", never a bug of ours. The file is
# opened here, not by np.load, which leaks its handle when a zip is damaged.
def _np_read(path: Path) -> dict[str, np.ndarray]:
    key = None
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if f.read(len(_NPY_MAGIC)) == _NPY_MAGIC:
                f.seek(0)
                check_npy_header(f, size, str(path))
            f.seek(0)  # np.load tells .npy, .npz and pickles apart by content
            obj = np.load(f, allow_pickle=False)
            if not hasattr(obj, "files"):
                return {"x": obj}
            with obj:
                if "x" not in obj.files:
                    present = ", ".join(repr(n) for n in obj.files) or "none"
                    raise AekitError(
                        f"{path}: no array named 'x' (arrays present: {present}); "
                        "save with numpy.savez(path, x=samples, y=labels)"
                    )
                arrays = {}
                for key in ("x", "y"):
                    if key in obj.files:
                        _check_npz_member(obj.zip, key, size, f"{path}, array {key!r}")
                        arrays[key] = obj[key]
                return arrays
    except AekitError:
        raise
    except Exception as e:
        raise AekitError(_np_reason(path, e, key)) from e


def check_npy_header(f: BinaryIO, available: int, where: str) -> None:
    """Refuse an .npy whose header claims more bytes than `available` hold.

    NumPy allocates what the header claims before it reads: a 100-byte file may
    claim terabytes. `f` is at the start of the .npy; it is left after the header.
    """
    start = f.tell()
    head = f.read(len(_NPY_MAGIC) + 2)  # the magic string, then the version
    if head[: len(_NPY_MAGIC)] != _NPY_MAGIC:
        raise AekitError(f"{where}: not a NumPy array (no .npy header)")
    read = (
        npy_format.read_array_header_1_0
        if head[-2] == 1
        else npy_format.read_array_header_2_0
    )
    shape, _, dtype = read(f)
    claimed = math.prod(shape) * dtype.itemsize
    held = available - (f.tell() - start)
    if claimed > held:
        raise AekitError(
            f"{where}: truncated or corrupt: its header claims {claimed:,} bytes "
            f"(shape {shape}, {dtype}) but only {max(held, 0):,} follow"
        )


def _check_npz_member(archive: zipfile.ZipFile, key: str, size: int, where: str):
    """check_npy_header for one member, bounded by what the zip can really hold."""
    name = key if key in archive.namelist() else f"{key}.npy"
    info = archive.getinfo(name)
    if info.compress_size > size:
        raise AekitError(f"{where}: corrupt zip (a member larger than the file)")
    bound = info.file_size
    if info.compress_type == zipfile.ZIP_STORED:
        bound = min(bound, info.compress_size)
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        bound = min(bound, _DEFLATE_MAX_RATIO * info.compress_size + 1024)
    with archive.open(name) as member:
        check_npy_header(member, bound, where)


def _np_reason(path: Path, e: Exception, key: str | None = None) -> str:
    what = f"{path}" + (f", array {key!r}" if key else "")
    text = " ".join(str(e).split())
    if "Object arrays" in text:
        return f"{what}: holds Python objects (dtype=object); save a numeric array"
    if "pickled" in text:
        return f"{what}: not a NumPy .npy/.npz file (pickled data is never loaded)"
    if isinstance(e, MemoryError):
        return f"{what}: its header claims more data than fits in memory ({text})"
    return f"{what}: cannot read NumPy file ({text})"


# -- CSV -------------------------------------------------------------------------
