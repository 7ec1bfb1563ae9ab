"""Time series as data: long series (CSV, .npy, UCR/UEA .ts) cut into (C, W) windows.

A series file holds one series: rows are time steps, numeric columns are channels.
Time columns (by name, dates, or equally spaced rising numbers: data.series_shape)
are its index (kept for output, never a channel); one named label, is_anomaly or
anomaly holds per-step labels; `columns` names the channels explicitly. Windows of
`window` steps every `stride` steps become the samples, channels first (C, W), and
a last window is aligned to the series' end so every step is covered. A window's
label is 1 when any of its steps is labelled (anomalous). Without a window, one is
taken from the series' dominant period, and the stride from its length
(data.series_shape); what was chosen is said in SeriesInfo.chosen.
`window_scores_to_steps` and `windows_to_series` map per-window results back onto
the time steps; a split is in time (SeriesInfo.split_index).
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
from .dataset import Dataset, Scaling
from .files import _standardise, encode_labels
from .series_files import (
    SERIES_SUFFIXES,
    STEP_LABEL_NAMES,
    RawSeries,
    read_series,
    read_series_folder,
)
from .series_shape import default_stride as stride_for_length
from .series_shape import default_window
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


__all__ = [  # the window helpers (.windows) and readers (.series_files) re-exported
    "SERIES_SUFFIXES",
    "STEP_LABEL_NAMES",
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
    chosen: tuple[str, ...] = ()  # what was read or chosen by default, and why

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
        """One row per time step (series, step, time, label, score), for io.write_csv;
        `step` counts from 1, `time` and `label` are empty when the source has none."""
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

    def split_index(self, val_fraction: float) -> tuple[np.ndarray, np.ndarray] | None:
        """Split in time: each series' last windows validate, training keeps those
        ending before them (no step in both); None if a series is too short."""
        train, val = [], []
        for p in self.parts:
            starts = window_starts(p.n_steps, self.window, self.stride)
            n_val = min(max(1, round(p.n_windows * val_fraction)), p.n_windows - 1)
            if n_val < 1:
                return None
            first_val = p.n_windows - n_val
            keep = np.flatnonzero(starts + self.window <= starts[first_val])
            if len(keep) == 0:
                return None
            train.append(p.first + keep)
            val.append(p.first + np.arange(first_val, p.n_windows))
        return np.concatenate(train), np.concatenate(val)

    def spans(self, index: np.ndarray) -> np.ndarray:
        """A unit id for each window in `index` (in order, as split_index gives
        them): windows of one series starting in the same `window`-long stretch
        after the first share a unit, so units overlap little and count as
        independent evidence where overlapping windows would not."""
        units = np.empty(len(index), dtype=np.int64)
        offset = 0
        for p in self.parts:
            mine = (index >= p.first) & (index < p.first + p.n_windows)
            if not mine.any():
                continue
            starts = window_starts(p.n_steps, self.window, self.stride)
            own = starts[index[mine] - p.first]
            span = (own - own.min()) // self.window
            units[mine] = offset + span
            offset += int(span.max()) + 1
        return units

    def to_series(self, windows: np.ndarray | torch.Tensor) -> list[np.ndarray]:
        """(N, C, W) windows of the Dataset -> one (T, C) series per part."""
        w = _numpy(windows)
        return [
            windows_to_series(
                w[p.first : p.first + p.n_windows], p.n_steps, self.stride
            )
            for p in self.parts
        ]


# -- Dataset -------------------------------------------------------------------------
def load_series(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    window: int | None = None,
    stride: int | None = None,
    scaling: Scaling | None = None,
    name: str | None = None,
    columns: Sequence[str] | None = None,
    missing: str | None = None,
) -> Dataset:
    """A series file, a folder of them or a list -> a Dataset of (C, W) windows.

    Without `window`, .ts files of equal-length series are one sample each; other
    series get the default window and stride (data.series_shape). With `scaling`
    (a trained model's), it is applied instead of fitted. `columns` names a CSV's
    channels; `missing` ("interpolate" or "drop") fills or drops NaN, inf and empty
    values instead of refusing them (data.missing), noted in SeriesInfo.chosen.
    """
    paths = list(source) if isinstance(source, (list, tuple)) else [source]
    if not paths:
        raise AekitError("no data sources given (an empty list)")
    raws: list[RawSeries] = []
    for p in map(Path, paths):
        if not p.exists():
            raise AekitError(f"no such file or directory: {p}")
        raws += (
            read_series_folder(p, columns, missing)
            if p.is_dir()
            else read_series(p, columns, missing)
        )
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
    chosen = list(dict.fromkeys(n for r in raws for n in r.notes))
    if window is None and all(r.whole for r in raws):
        window, stride = _whole_series(raws, stride)
    elif window is None:
        if stride is not None:
            raise AekitError("a stride needs a window length too")
        window, why = default_window([r.values for r in raws])
        chosen.append(f"window {window} steps: {why}")
    if stride is None:
        stride = stride_for_length([len(r.values) for r in raws], int(window))
        chosen.append(f"stride {stride}: {_stride_reason(stride)}")
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
        series=SeriesInfo(window, stride, tuple(parts), tuple(chosen)),
    )


def _stride_reason(stride: int) -> str:
    if stride == 1:
        return "every step starts a window"
    return "the most windows that fit the default budget"


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
