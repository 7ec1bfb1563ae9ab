"""NumPy (.npy, .npz) and CSV files, and the array rules every loader shares."""

from __future__ import annotations

import csv
import io
import itertools
import logging
import math
import operator
import os
import re
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

LABEL_NAMES = ("label", "labels", "class", "target", "y")  # auto-detected CSV columns
_CHANNELS = (1, 3, 4)
_DELIMITERS = (",", "\t", ";")
Rows = list[list[str]]  # CSV cells as read
_DECIMAL_COMMA = re.compile(r"^(\s*[-+]?\d*),(\d+(?:[eE][-+]?\d+)?\s*)$")
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
    feature_names: tuple[str, ...] | None = None  # a CSV header's feature columns


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
        x=x,
        y=raw.y,
        scaling=scaling,
        name=name or raw.name,
        classes=raw.classes,
        feature_names=raw.feature_names,
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
def read_csv(path: Path, label_column: int | str | None = None) -> RawData:
    """Numeric columns, an optional header and an optional label column."""
    rows, lines = _csv_rows(path)
    first = [c.strip() for c in rows[0]]
    names = first if _has_header(rows) else None
    data, lines = (rows[1:], lines[1:]) if names else (rows, lines)
    if not data:
        raise AekitError(f"{path}: no data rows (only a header line)")
    label = _label_index(path, names, len(first), label_column)
    skip = set() if label is None else {label}
    if names and names[0] == "" and label != 0:
        logger.info("%s: dropping the unnamed first column (a saved index)", path)
        skip.add(0)
    columns = [j for j in range(len(first)) if j not in skip]
    if not columns:
        raise AekitError(f"{path}: no feature columns besides the labels")
    raw = RawData(_numbers(path, data, lines, columns, names, label), "d", str(path))
    raw.table = True
    if names:
        raw.feature_names = tuple(names[j] for j in columns)
    if label is not None:
        for row, line in zip(data, lines, strict=True):
            if not row[label].strip():
                raise AekitError(f"{_where(path, line, label, names)}: empty label")
        raw.y, raw.classes = encode_labels(
            np.array([row[label] for row in data]), f"{path}: label column"
        )
    return raw


def _csv_rows(path: Path) -> tuple[list[list[str]], list[int]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise AekitError(f"{path}: not UTF-8 text (is it a binary file?)") from e
    except OSError as e:
        raise AekitError(f"cannot read {path}: {e.strerror or e}") from e
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows, lines = [], []
    try:
        for row in reader:
            # blank lines (and spreadsheets' trailing ",,,," lines) are skipped
            if any(row) and (row[0].strip() or any(c.strip() for c in row)):
                rows.append(row)
                lines.append(reader.line_num)
    except csv.Error as e:
        raise AekitError(f"{path}: line {reader.line_num}: {e}") from e
    if not rows:
        raise AekitError(f"{path}: empty file (no rows)")
    if delimiter == ";":  # spreadsheets in many locales write "1,5;2,25"
        rows = [[_DECIMAL_COMMA.sub(r"\1.\2", c) for c in row] for row in rows]
    for row, line in zip(rows, lines, strict=True):
        if len(row) != len(rows[0]):
            raise AekitError(
                f"{path}: line {line} has {len(row)} fields but line {lines[0]} has "
                f"{len(rows[0])} (ragged rows; delimiter {delimiter!r})"
            )
    return rows, lines


def _sniff(text: str) -> str:
    """The delimiter that splits the first lines into the most, equal, fields."""
    sample = [ln for ln in itertools.islice(io.StringIO(text), 50) if ln.strip()][:20]
    if not sample:
        return ","
    counts = {d: [len(r) for r in csv.reader(sample, delimiter=d)] for d in _DELIMITERS}
    steady = [d for d in _DELIMITERS if len(set(counts[d])) == 1 and counts[d][0] > 1]
    pool = steady or [d for d in _DELIMITERS if counts[d][0] > 1] or [","]
    return max(pool, key=lambda d: counts[d][0])


def is_number(cell: str) -> bool:
    """Whether a CSV cell parses as a number."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _has_header(rows: list[list[str]]) -> bool:
    """A header has a text cell above a number (text label columns stay data)."""
    first = [c.strip() for c in rows[0]]
    if len(rows) == 1:
        return not all(is_number(c) for c in first)
    second = rows[1]
    return any(
        a and not is_number(a) and is_number(b)
        for a, b in zip(first, second, strict=True)
    )


def _label_index(
    path: Path, names: list[str] | None, width: int, label_column: int | str | None
) -> int | None:
    if label_column is None:
        lowered = [n.lower() for n in names or []]
        found = [lowered.index(n) for n in LABEL_NAMES if n in lowered]
        if found:
            logger.info("%s: using column %r as labels", path, names[found[0]])
        return found[0] if found else None
    if isinstance(label_column, str):
        key = label_column.strip()
        exact = [j for j, n in enumerate(names or []) if n == key]
        loose = [j for j, n in enumerate(names or []) if n.lower() == key.lower()]
        if exact or loose:
            return (exact or loose)[0]
        if not key.lstrip("-").isdigit():
            if names is None:
                raise AekitError(
                    f"{path}: has no header row, so label column {key!r} cannot be "
                    "found by name; give its index (counting from 0)"
                )
            raise AekitError(f"{path}: no column named {key!r}; columns: {names}")
        label_column = int(key)
    if not isinstance(label_column, int) or isinstance(label_column, bool):
        raise AekitError(f"label column must be a name or index, not {label_column!r}")
    if not -width <= label_column < width:
        raise AekitError(
            f"{path}: label column {label_column} is out of range; the file has "
            f"{width} columns (0 to {width - 1})"
        )
    return label_column % width


def _where(path: Path, line: int, column: int, names: list[str] | None) -> str:
    col = f"{names[column]!r} (index {column}, " if names else f"{column} ("
    return f"{path}: line {line} (counting from 1), column {col}counting from 0)"


def _numbers(
    path: Path,
    data: Rows,
    lines: list[int],
    columns: list[int],
    names: list[str] | None,
    label: int | None,
) -> np.ndarray:
    pick = operator.itemgetter(*columns) if len(columns) > 1 else None
    cells = [pick(row) for row in data] if pick else [[row[columns[0]]] for row in data]
    try:
        x = np.array(cells, dtype=np.float64)
    except ValueError as e:
        _raise_bad_cell(path, data, lines, columns, names, label)
        raise AekitError(f"{path}: cannot read the numbers ({e})") from e
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        i, k = bad[0]
        cell = data[i][columns[k]].strip()
        raise AekitError(
            f"{_where(path, lines[i], columns[k], names)}: {cell!r} is NaN or "
            "infinite; fill or drop such values first"
        )
    return x


def _raise_bad_cell(
    path: Path,
    data: Rows,
    lines: list[int],
    columns: list[int],
    names: list[str] | None,
    label: int | None,
) -> None:
    """Find the first cell Python cannot read as a number and name it."""
    for row, line in zip(data, lines, strict=True):
        for j in columns:
            cell = row[j].strip()
            if is_number(cell):
                continue
            where = _where(path, line, j, names)
            if not cell:
                raise AekitError(f"{where}: empty value (missing data); fill or drop")
            hint = "" if label is not None else f" (labels? pass label_column={j})"
            raise AekitError(f"{where}: {cell!r} is not a number{hint}")
