"""Reading one series file (CSV/TSV, .npy/.npz, UCR/UEA .ts) into source units.

Rows are time steps and numeric columns channels; time columns are the index
(aekit.data.series_shape), a label, is_anomaly or anomaly column holds per-step
labels, and `columns` names the channels. NaN, inf or empty values are refused with
their place in the file, unless `missing` asks to fill or drop them (data.missing).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AekitError
from .csvfile import _csv_rows, _has_header, _numbers, is_number
from .files import _np_read, encode_labels
from .missing import check_missing, fill_missing
from .series_shape import time_columns
from .ts import read_ts

logger = logging.getLogger(__name__)

STEP_LABEL_NAMES = ("label", "is_anomaly", "anomaly")  # per-step label columns
SERIES_SUFFIXES = (".csv", ".tsv", ".npy", ".npz", ".ts")


@dataclass(eq=False)
class RawSeries:
    """One series in source units, before scaling and windowing."""

    values: np.ndarray  # (T, C) float64
    name: str  # the file (and instance), for messages
    step_labels: np.ndarray | None = None  # (T,) int64, 0 = normal
    index: tuple[str, ...] | None = None  # the time column's values
    label: str | None = None  # one class for the whole series (.ts files)
    whole: bool = False  # one sample as it is (a .ts instance) without a window
    notes: tuple[str, ...] = ()  # how the file was read (time columns found)


def read_series(
    path: Path, columns: Sequence[str] | None = None, missing: str | None = None
) -> list[RawSeries]:
    """A CSV/TSV, .npy/.npz (x, optional per-step y) or .ts file -> its series;
    `columns` picks a CSV's channels by name; `missing` ("interpolate" or "drop")
    fills or drops the time steps with NaN, inf or empty values instead of refusing
    them."""
    suffix = path.suffix.lower()
    if columns is not None and suffix not in (".csv", ".tsv"):
        raise AekitError(f"{path}: columns are named in CSV files only")
    if check_missing(missing) is not None and suffix == ".ts":
        raise AekitError(f"{path}: --missing fills CSV and .npy series, not .ts files")
    if suffix == ".ts":
        return [
            RawSeries(t.values, t.name, label=t.label, whole=True)
            for t in read_ts(path)
        ]
    if suffix in (".csv", ".tsv"):
        return [_with_missing(_read_csv_series(path, columns, missing), missing)]
    if suffix in (".npy", ".npz"):
        return [_with_missing(_read_numpy_series(path, missing), missing)]
    raise AekitError(
        f"{path}: not a series file ({suffix or 'no extension'}); "
        f"supported: {', '.join(SERIES_SUFFIXES)}"
    )


def read_series_folder(
    path: Path, columns: Sequence[str] | None = None, missing: str | None = None
) -> list[RawSeries]:
    """Every series file in a folder, in name order; windows never cross files."""
    files = sorted(
        p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SERIES_SUFFIXES
    )
    if not files:
        raise AekitError(
            f"{path}: no series files ({', '.join(SERIES_SUFFIXES)}) in the folder"
        )
    return [s for f in files for s in read_series(f, columns, missing)]


def _with_missing(raw: RawSeries, missing: str | None) -> RawSeries:
    """Fill or drop the non-finite steps a reader let through (only with `missing`)."""
    if missing is None:
        return raw
    raw.values, keep, note = fill_missing(raw.values, missing, raw.name)
    if note is None:
        return raw
    logger.info("%s: %s", raw.name, note)
    raw.notes = (*raw.notes, f"{raw.name}: {note}")
    if raw.step_labels is not None:
        raw.step_labels = raw.step_labels[keep]
    if raw.index is not None:
        raw.index = tuple(raw.index[i] for i in keep)
    return raw


def _read_csv_series(
    path: Path, wanted: Sequence[str] | None = None, missing: str | None = None
) -> RawSeries:
    rows, lines = _csv_rows(path)
    names = [c.strip() for c in rows[0]] if _has_header(rows) else None
    data, lines = (rows[1:], lines[1:]) if names else (rows, lines)
    if not data:
        raise AekitError(f"{path}: no data rows (only a header line)")
    lowered = [n.lower() for n in names or []]
    label = next((lowered.index(n) for n in STEP_LABEL_NAMES if n in lowered), None)
    times = [j for j in time_columns(names, data) if j != label]
    if wanted is not None:
        columns = _named_columns(path, names, wanted)
    else:
        columns = [j for j in range(len(rows[0])) if j not in {label, *times}]
        if not columns and times:  # a lone rising column is the series itself
            columns, times = [times[-1]], times[:-1]
    if not columns or not any(is_number(data[0][j]) for j in columns):
        raise AekitError(f"{path}: no numeric columns to use as channels")
    if missing is None:
        values = _numbers(path, data, lines, columns, names, label)
    else:
        values = _numbers_with_gaps(path, data, lines, columns, names, label)
    raw = RawSeries(values, str(path))
    index = next((j for j in times if j not in columns), None)
    if times and wanted is None:
        said = ", ".join(repr(names[j]) if names else f"column {j}" for j in times)
        raw.notes = (f"{said} read as time, not as a channel",)
        logger.info("%s: %s", path, raw.notes[0])
    if index is not None:
        raw.index = tuple(row[index].strip() for row in data)
    if label is not None:
        raw.step_labels = _step_labels(
            [row[label].strip() for row in data],
            lines,
            f"{path}: column {names[label]!r}",
        )
    return raw


def _named_columns(
    path: Path, names: list[str] | None, wanted: Sequence[str]
) -> list[int]:
    if names is None:
        raise AekitError(f"{path}: has no header row, so columns cannot be named")
    if not wanted:
        raise AekitError("columns: name at least one column")
    missing = [w for w in wanted if w not in names]
    if missing:
        raise AekitError(f"{path}: no column named {missing[0]!r}; columns: {names}")
    return [names.index(w) for w in wanted]


def _step_labels(cells: Sequence[str], lines: Sequence[int], where: str) -> np.ndarray:
    out = np.empty(len(cells), dtype=np.int64)
    for i, (cell, line) in enumerate(zip(cells, lines, strict=True)):
        try:
            v = float(cell)
        except ValueError:
            v = float("nan")
        if not (np.isfinite(v) and v % 1 == 0):
            raise AekitError(
                f"{where}, line {line} (counting from 1): label {cell!r} is not an "
                "integer (0 = normal, 1 = anomalous)"
            )
        out[i] = int(v)
    return out


def _numbers_with_gaps(
    path: Path,
    data: list[list[str]],
    lines: list[int],
    columns: list[int],
    names: list[str] | None,
    label: int | None,
) -> np.ndarray:
    """Numbers with empty cells read as NaN (filled later); other text still refused."""
    gaps = [[row[j] if row[j].strip() else "nan" for j in columns] for row in data]
    for row in gaps:
        if not all(is_number(c) for c in row):  # name the cell that is not a number
            _numbers(path, data, lines, columns, names, label)
    return np.array(gaps, dtype=np.float64).reshape(len(data), len(columns))


def _read_numpy_series(path: Path, missing: str | None = None) -> RawSeries:
    arrays = _np_read(path)
    a = arrays["x"]
    if a.dtype.kind not in "iufb":
        raise AekitError(f"{path}: values must be numbers, not dtype {a.dtype}")
    if a.ndim not in (1, 2) or a.size == 0:
        raise AekitError(
            f"{path}: a series is shaped (T,) or (T, C) (rows are time steps), "
            f"got {a.shape}"
        )
    values = (a[:, None] if a.ndim == 1 else a).astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if len(bad) and missing is None:
        raise AekitError(
            f"{path}: row {bad[0] + 1} (counting from 1) holds NaN or inf; "
            "fill or drop such values first (or --missing interpolate|drop)"
        )
    raw = RawSeries(values, str(path))
    y = arrays.get("y")
    if y is not None:
        if y.size != len(values):
            raise AekitError(
                f"{path}: y has {y.size} labels for {len(values)} time steps"
            )
        raw.step_labels = encode_labels(y.reshape(-1), f"{path}: y")[0]
    return raw
