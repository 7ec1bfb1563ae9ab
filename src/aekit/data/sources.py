"""The one entry point: any data source (name, file, folder, list) -> Dataset."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AekitError
from .arrayfile import read_safetensors
from .builtin import DATASETS
from .csvfile import read_csv
from .dataset import Dataset, Scaling
from .files import RawData, finish, read_numpy
from .idx import find_idx_images, is_idx_name, read_idx_images, sniff_idx
from .images import IMAGE_SUFFIXES, is_image_name, read_image_files, read_image_folder
from .music import is_music_name
from .series_shape import csv_reads_as_series

logger = logging.getLogger(__name__)

Source = str | os.PathLike | Sequence[str | os.PathLike]
_TABLE_SUFFIXES = (".npy", ".npz", ".csv", ".tsv", ".safetensors")
SUPPORTED = (
    ".npy, .npz (arrays x and optional y), .csv, .tsv, .safetensors (one "
    "tensor, or one named activations), images ("
    + ", ".join(sorted(IMAGE_SUFFIXES))
    + "), MNIST-format IDX files (*-images-idx3-ubyte[.gz]), a folder of images "
    "or of IDX files; with a window: CSV, .npy or a folder of them as time series; "
    "UCR/UEA .ts files; MIDI / MusicXML files or a folder of them (piano rolls)"
)


@dataclass(frozen=True)
class _Options:
    image_size: int | tuple[int, int] | None
    channels: int | None
    label_column: int | str | None
    split: str
    columns: Sequence[str] | None = None


def load_dataset(
    source: Source,
    *,
    image_size: int | tuple[int, int] | None = None,
    channels: int | None = None,
    label_column: int | str | None = None,
    split: str = "train",
    scaling: Scaling | None = None,
    name: str | None = None,
    stream: bool = False,
    window: int | None = None,
    stride: int | None = None,
    steps_per_beat: int | None = None,
    bars: int | None = None,
    pitch_range: tuple[int, int] | None = None,
    beats_per_bar: float | None = None,
    columns: Sequence[str] | None = None,
    missing: str | None = None,
) -> Dataset:
    """Load a built-in name, a file, a folder or a list of them.

    With `scaling` (a trained model's), nothing is fitted: the given scaling is
    applied so new inputs match the model. Built-in data sets keep their own.
    `stream` reads an .npy or raw IDX file in chunks instead (aekit.data.stream).
    `window` (and `stride`) read a CSV, .npy or a folder of them as time series cut
    into (C, window) samples (aekit.data.series); UCR/UEA .ts files always load as
    series, one sample each unless a window is given. `steps_per_beat`, `bars`,
    `pitch_range` and `beats_per_bar` cut MIDI / MusicXML into piano rolls
    (aekit.data.music; None takes its defaults). A CSV that reads as a series (a
    time or anomaly column, or one channel: aekit.data.series_shape) loads as one
    without a window too. `columns` names the CSV columns to use as features.
    `missing` ("interpolate" or "drop") fills a series' NaN, inf and empty values
    instead of refusing them (aekit.data.missing); series only.
    """
    music = {
        k: v
        for k, v in (
            ("steps_per_beat", steps_per_beat),
            ("bars", bars),
            ("pitch_range", pitch_range),
            ("beats_per_bar", beats_per_bar),
        )
        if v is not None
    }
    if stream:
        from .stream import open_stream

        if window is not None or stride is not None or missing is not None:
            raise AekitError("series windows are not streamed; load without stream")

        return open_stream(source, split=split, scaling=scaling)  # type: ignore
    if is_music_source(source):
        from .music import load_music

        if window is not None or stride is not None or missing is not None:
            raise AekitError(
                "music is cut into bars, not windows; give no window or --missing"
            )
        return load_music(source, scaling=scaling, name=name, **music)
    if music:
        raise AekitError(
            f"{', '.join(music)}: music options, but {source} holds no MIDI or "
            "MusicXML files"
        )
    if window is not None or stride is not None or _is_series(source, scaling):
        from .series import load_series

        return load_series(
            source,
            window=window,
            stride=stride,
            scaling=scaling,
            name=name,
            columns=columns,
            missing=missing,
        )
    if missing is not None:
        raise AekitError(
            f"--missing {missing} fills time series; {source} is not read as one "
            "(give --window to read it as a series)"
        )
    if scaling is not None and channels is None and scaling.layout != "d":
        # new images must have the model's channels; only "hw" data was grayscale
        channels = 1 if scaling.layout == "hw" else 3
    options = _Options(image_size, channels, label_column, split or "train", columns)
    if isinstance(source, (list, tuple)):
        raw = _read_many(list(source), options)
    elif isinstance(source, str) and source in DATASETS:
        return _builtin(source, name)
    else:
        raw = _read_one(_existing(source), options)
    return finish(raw, scaling, name)


def is_music_source(source: Source) -> bool:
    """MIDI / MusicXML files, or folders holding some and no images."""
    paths = list(source) if isinstance(source, (list, tuple)) else [source]
    if not paths or not all(isinstance(p, (str, os.PathLike)) for p in paths):
        return False
    if isinstance(source, str) and source in DATASETS:
        return False
    for p in map(Path, paths):
        if p.is_dir():
            music = False
            for f in p.rglob("*"):  # stops at the first image: no full scan
                if is_image_name(f):
                    return False
                music = music or is_music_name(f)
            if not music:
                return False
        elif not is_music_name(p):
            return False
    return True


def _is_series(source: Source, scaling: Scaling | None) -> bool:
    """.ts files (or a folder of only them), or data for a model trained on series."""
    if scaling is not None and scaling.layout == "cw":
        return True
    paths = list(source) if isinstance(source, (list, tuple)) else [source]
    if not paths or not all(isinstance(p, (str, os.PathLike)) for p in paths):
        return False
    if isinstance(source, str) and source in DATASETS:
        return False
    for p in map(Path, paths):
        files = sorted(p.iterdir()) if p.is_dir() else [p]
        files = [f for f in files if not f.name.startswith(".")]
        if not files or not all(_series_file(f) for f in files):
            return False
    return True


def _series_file(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix == ".ts":
        return True
    return suffix in (".csv", ".tsv") and path.is_file() and csv_reads_as_series(path)


def _builtin(key: str, name: str | None) -> Dataset:
    if Path(key).exists():
        logger.warning(
            "%r is a built-in data set; write ./%s for the local path", key, key
        )
    dataset = DATASETS[key].load()
    if name:
        dataset.name = name
    return dataset


def _existing(source: object) -> Path:
    if not isinstance(source, (str, os.PathLike)):
        raise AekitError(
            "a data source is a built-in name, a path, or a list of paths, not "
            f"{type(source).__name__}"
        )
    path = Path(source).expanduser()
    if path.exists():
        return path
    hint = ""
    bare = isinstance(source, str) and not any(s in source for s in "/\\")
    if bare and path.suffix.lower() not in (*_TABLE_SUFFIXES, *IMAGE_SUFFIXES):
        hint = f" (nor a built-in data set: {', '.join(DATASETS)})"
    raise AekitError(f"no such file or directory: {source}{hint}")


def _read_one(path: Path, o: _Options) -> RawData:
    if path.is_dir():
        if find_idx_images(path):
            return read_idx_images(path, o.split)
        return read_image_folder(path, o.image_size, o.channels)
    suffix = path.suffix.lower()
    if is_idx_name(path):
        return read_idx_images(path, o.split)
    if suffix in (".npy", ".npz"):
        return read_numpy(path)
    if suffix == ".safetensors":
        return read_safetensors(path)
    if suffix in (".csv", ".tsv"):
        return read_csv(path, o.label_column, o.columns)
    if suffix in IMAGE_SUFFIXES:
        return read_image_files([path], o.image_size, o.channels)
    if sniff_idx(path):  # a renamed IDX file
        return read_idx_images(path, o.split)
    raise AekitError(
        f"{path}: unsupported file type ({suffix or 'no extension'}); "
        f"supported: {SUPPORTED}"
    )


def _read_many(sources: list, o: _Options) -> RawData:
    if not sources:
        raise AekitError("no data sources given (an empty list)")
    paths = [_existing(s) for s in sources]
    if all(p.is_file() and is_image_name(p) for p in paths):
        return read_image_files(paths, o.image_size, o.channels)
    return _concat([_read_one(p, o) for p in paths])


def _concat(raws: list[RawData]) -> RawData:
    first = raws[0]
    for raw in raws[1:]:
        if (raw.a.shape[1:], raw.layout, raw.table) != (
            first.a.shape[1:],
            first.layout,
            first.table,
        ):
            raise AekitError(
                f"cannot combine {first.name} (samples {first.a.shape[1:]}, "
                f"{first.layout}) with {raw.name} (samples {raw.a.shape[1:]}, "
                f"{raw.layout}): they must agree in shape and kind"
            )
    y, classes = _concat_labels(raws)
    return RawData(
        np.concatenate([r.a for r in raws]),
        first.layout,
        " + ".join(r.name for r in raws),
        y,
        classes,
        first.table,
    )


def _concat_labels(raws: list[RawData]) -> tuple[np.ndarray | None, tuple | None]:
    """Labels survive only if every source has them; class names are merged."""
    if any(r.y is None for r in raws):
        if any(r.y is not None for r in raws):
            logger.warning("some sources have no labels; loading all without labels")
        return None, None
    if all(r.classes is None for r in raws):
        return np.concatenate([r.y for r in raws]), None
    names = [
        r.classes or tuple(str(v) for v in range(int(r.y.max()) + 1)) for r in raws
    ]
    union = tuple(sorted(set().union(*names)))
    lookup = {c: i for i, c in enumerate(union)}
    y = np.concatenate(
        [
            np.array([lookup[c] for c in n], dtype=np.int64)[r.y]
            for n, r in zip(names, raws, strict=True)
        ]
    )
    return y, union
