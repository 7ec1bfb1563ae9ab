"""Time series as data: long series (CSV, .npy, UCR/UEA .ts) cut into (C, W) windows.

A series file holds one series: rows are time steps, numeric columns are channels.
A column named time, timestamp or date is its index (kept for output, not a
feature); one named label, is_anomaly or anomaly holds per-step labels. Windows of
`window` steps every `stride` steps become the samples, channels first (C, W), and
a last window is aligned to the series' end so every step is covered. A window's
label is 1 when any of its steps is labelled (anomalous). The stride defaults to a
quarter window (see windows.default_stride). `window_scores_to_steps` and
`windows_to_series` map per-window results back onto the time steps.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import AekitError
from .csvfile import _csv_rows, _has_header, _numbers, is_number
from .dataset import Dataset, Scaling
from .files import _np_read, _standardise, encode_labels
from .ts import read_ts
from .windows import (
    _numpy,
    check_window,
    cut_windows,
    default_stride,
    window_scores_to_steps,
    window_starts,
    windows_to_series,
)

logger = logging.getLogger(__name__)

INDEX_NAMES = ("time", "timestamp", "date")  # columns kept as the time index
STEP_LABEL_NAMES = ("label", "is_anomaly", "anomaly")  # per-step label columns
SERIES_SUFFIXES = (".csv", ".tsv", ".npy", ".npz", ".ts")

__all__ = [  # the window helpers live in .windows and are re-exported here
    "RawSeries",
    "SeriesInfo",
    "SeriesPart",
    "check_window",
    "cut_windows",
    "default_stride",
    "fit_series_scaling",
    "load_series",
    "read_series",
    "read_series_folder",
    "series_dataset",
    "window_scores_to_steps",
    "window_starts",
    "windows_to_series",
]


@dataclass(eq=False)
class RawSeries:
    """One series in source units, before scaling and windowing."""

    values: np.ndarray  # (T, C) float64
    name: str  # the file (and instance), for messages
    step_labels: np.ndarray | None = None  # (T,) int64, 0 = normal
    index: tuple[str, ...] | None = None  # the time column's values
    label: str | None = None  # one class for the whole series (.ts files)
    whole: bool = False  # one sample as it is (a .ts instance) without a window


@dataclass(frozen=True, eq=False)
class SeriesPart:
    """One source series and the run of windows cut from it."""

    name: str
    n_steps: int
    first: int  # index of its first window in the Dataset
    n_windows: int
    step_labels: np.ndarray | None = None  # (T,) int64 per-step labels
    index: tuple[str, ...] | None = None  # time stamps, for output


@dataclass(frozen=True, eq=False)
class SeriesInfo:
    """How a window Dataset maps back onto its series (Dataset.series)."""

    window: int
    stride: int
    parts: tuple[SeriesPart, ...]

    def step_scores(self, errors: np.ndarray | torch.Tensor) -> list[np.ndarray]:
        """Errors for every window of the Dataset -> per-step scores, one per part."""
        e = _numpy(errors)
        total = sum(p.n_windows for p in self.parts)
        if len(e) != total:
            raise AekitError(f"{len(e)} window errors for a data set of {total}")
        return [
            window_scores_to_steps(
                e[p.first : p.first + p.n_windows], p.n_steps, self.window, self.stride
            )
            for p in self.parts
        ]

    def step_rows(self, errors: np.ndarray | torch.Tensor) -> list[dict[str, Any]]:
        """One row per time step (series, step, time, label, score), for io.write_csv.

        `step` counts from 1 like data rows; `time` and `label` are empty when the
        source had no such column.
        """
        rows = []
        for part, scores in zip(self.parts, self.step_scores(errors), strict=True):
            for i, score in enumerate(scores):
                rows.append(
                    {
                        "series": part.name,
                        "step": i + 1,
                        "time": "" if part.index is None else part.index[i],
                        "label": ""
                        if part.step_labels is None
                        else int(part.step_labels[i]),
                        "score": float(score),
                    }
                )
        return rows

    def to_series(self, windows: np.ndarray | torch.Tensor) -> list[np.ndarray]:
        """(N, C, W) windows of the Dataset -> one (T, C) series per part."""
        w = _numpy(windows)
        return [
            windows_to_series(
                w[p.first : p.first + p.n_windows], p.n_steps, self.stride
            )
            for p in self.parts
        ]


# -- reading ---------------------------------------------------------------------
def read_series(path: Path) -> list[RawSeries]:
    """A CSV/TSV, .npy/.npz (x, optional per-step y) or .ts file -> its series."""
    suffix = path.suffix.lower()
    if suffix == ".ts":
        return [
            RawSeries(t.values, t.name, label=t.label, whole=True)
            for t in read_ts(path)
        ]
    if suffix in (".csv", ".tsv"):
        return [_read_csv_series(path)]
    if suffix in (".npy", ".npz"):
        return [_read_numpy_series(path)]
    raise AekitError(
        f"{path}: not a series file ({suffix or 'no extension'}); "
        f"supported: {', '.join(SERIES_SUFFIXES)}"
    )


def read_series_folder(path: Path) -> list[RawSeries]:
    """Every series file in a folder, in name order; windows never cross files."""
    files = sorted(
        p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SERIES_SUFFIXES
    )
    if not files:
        raise AekitError(
            f"{path}: no series files ({', '.join(SERIES_SUFFIXES)}) in the folder"
        )
    return [s for f in files for s in read_series(f)]


def _read_csv_series(path: Path) -> RawSeries:
    rows, lines = _csv_rows(path)
    names = [c.strip() for c in rows[0]] if _has_header(rows) else None
    data, lines = (rows[1:], lines[1:]) if names else (rows, lines)
    if not data:
        raise AekitError(f"{path}: no data rows (only a header line)")
    lowered = [n.lower() for n in names or []]
    index = next((lowered.index(n) for n in INDEX_NAMES if n in lowered), None)
    label = next((lowered.index(n) for n in STEP_LABEL_NAMES if n in lowered), None)
    skip = {index, label} | ({0} if names and names[0] == "" else set())
    columns = [j for j in range(len(rows[0])) if j not in skip]
    if not any(is_number(data[0][j]) for j in columns):
        raise AekitError(f"{path}: no numeric columns to use as channels")
    values = _numbers(path, data, lines, columns, names, label)
    raw = RawSeries(values, str(path))
    if index is not None:
        raw.index = tuple(row[index].strip() for row in data)
    if label is not None:
        raw.step_labels = _step_labels(
            [row[label].strip() for row in data],
            lines,
            f"{path}: column {names[label]!r}",
        )
    return raw


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


def _read_numpy_series(path: Path) -> RawSeries:
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
    if len(bad):
        raise AekitError(
            f"{path}: row {bad[0] + 1} (counting from 1) holds NaN or inf; "
            "fill or drop such values first"
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


# -- Dataset -------------------------------------------------------------------------
def load_series(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    window: int | None = None,
    stride: int | None = None,
    scaling: Scaling | None = None,
    name: str | None = None,
) -> Dataset:
    """A series file, a folder of them or a list -> a Dataset of (C, W) windows.

    Without `window`, only .ts files (one equal-length series per sample) load.
    With `scaling` (a trained model's), it is applied instead of fitted.
    """
    paths = list(source) if isinstance(source, (list, tuple)) else [source]
    if not paths:
        raise AekitError("no data sources given (an empty list)")
    raws: list[RawSeries] = []
    for p in map(Path, paths):
        if not p.exists():
            raise AekitError(f"no such file or directory: {p}")
        raws += read_series_folder(p) if p.is_dir() else read_series(p)
    label = name or " + ".join(str(p) for p in paths)
    return series_dataset(raws, window, stride, scaling=scaling, name=label)


def series_dataset(
    raws: Sequence[RawSeries],
    window: int | None,
    stride: int | None,
    *,
    scaling: Scaling | None = None,
    name: str = "series",
) -> Dataset:
    """Scale (fit or apply) the series, cut the windows and label them."""
    if window is None:
        window, stride = _whole_series(raws, stride)
    window, stride = check_window(window, stride)
    _check_channels(raws, scaling)
    if scaling is None:
        scaling = fit_series_scaling([r.values for r in raws])
    windows, parts = [], []
    for r in raws:
        if window > len(r.values):
            raise AekitError(
                f"{r.name}: window ({window} steps) is longer than the series "
                f"({len(r.values)} steps)"
            )
        w = cut_windows(scaling.from_source(r.values).numpy(), window, stride)
        first = sum(p.n_windows for p in parts)
        parts.append(
            SeriesPart(r.name, len(r.values), first, len(w), r.step_labels, r.index)
        )
        windows.append(w)
    y, classes = _window_labels(raws, window, stride)
    return Dataset(
        x=torch.from_numpy(np.concatenate(windows)),
        y=y,
        scaling=scaling,
        name=name,
        classes=classes,
        kind="sequence",
        series=SeriesInfo(window, stride, tuple(parts)),
    )


def fit_series_scaling(values: Sequence[np.ndarray]) -> Scaling:
    """Per-channel standardisation over every step of the given (T, C) series."""
    return replace(_standardise(np.concatenate(values)), layout="cw")


def _whole_series(raws: Sequence[RawSeries], stride: int | None) -> tuple[int, int]:
    """No window: each series is one sample, which only .ts files promise to allow."""
    if stride is not None:
        raise AekitError("a stride needs a window length too")
    if not all(r.whole for r in raws):
        raise AekitError(
            f"{raws[0].name}: give a window length (window=...) to cut the series "
            "into samples"
        )
    lengths = {len(r.values) for r in raws}
    if len(lengths) > 1:
        raise AekitError(
            f"series of unequal lengths ({min(lengths)} to {max(lengths)} steps); "
            "give a window length to cut them into equal samples"
        )
    n = lengths.pop()
    return n, n


def _check_channels(raws: Sequence[RawSeries], scaling: Scaling | None) -> None:
    channels = {r.values.shape[1] for r in raws}
    if len(channels) > 1:
        odd = next(r for r in raws if r.values.shape[1] != raws[0].values.shape[1])
        raise AekitError(
            f"{odd.name}: {odd.values.shape[1]} channels but {raws[0].name} has "
            f"{raws[0].values.shape[1]}; every series must have the same channels"
        )
    if scaling is None:
        return
    if scaling.layout != "cw":
        raise AekitError(
            f"{raws[0].name}: holds sequences but the model was trained on "
            f"{'vectors' if scaling.layout == 'd' else 'images'}"
        )
    want = len(scaling.offset) if isinstance(scaling.offset, tuple) else None
    if want is not None and want != raws[0].values.shape[1]:
        raise AekitError(
            f"{raws[0].name}: {raws[0].values.shape[1]} channels but the model "
            f"expects {want}"
        )


def _window_labels(
    raws: Sequence[RawSeries], window: int, stride: int
) -> tuple[np.ndarray | None, tuple[str, ...] | None]:
    """Class labels of whole series, else 1 for windows holding a labelled step."""
    if all(r.label is not None for r in raws):
        per_series = [
            np.full(len(window_starts(len(r.values), window, stride)), i)
            for i, r in enumerate(raws)
        ]
        names = np.array([r.label for r in raws])
        return encode_labels(names[np.concatenate(per_series)], "class labels")
    if all(r.step_labels is not None for r in raws):
        out = []
        for r in raws:
            flags = np.asarray(r.step_labels) != 0
            starts = window_starts(len(flags), window, stride)
            hits = np.lib.stride_tricks.sliding_window_view(flags, window)[starts]
            out.append(hits.any(axis=1).astype(np.int64))
        return np.concatenate(out), None
    if any(r.label is not None or r.step_labels is not None for r in raws):
        logger.warning("some series have no labels; loading all without labels")
    return None, None
