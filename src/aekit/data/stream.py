"""Data larger than memory: .npy and raw IDX files read in shuffled chunks.

Nothing is memory-mapped: resident pages of a map count towards the process's RSS,
so rows are read with explicit reads into small buffers and scaled per batch. An
epoch visits the data in chunks of contiguous rows, in a shuffled chunk order, with
the rows of a window of chunks shuffled together; memory holds one window at most.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ..errors import AekitError
from . import arrayfile
from .arrayfile import ArrayFile, array_file
from .dataset import Dataset, Scaling
from .files import fit_scaling, infer_layout
from .idx import find_idx_images, labels_for, pick_split, read_idx

WINDOW_CHUNKS = 16  # chunks shuffled together: one window, 64 MiB of raw rows at most


class RowView:
    """`x` of a StreamDataset: rows read and scaled when indexed, never all at once."""

    def __init__(self, data: StreamDataset):
        self.data = data
        self.shape = (len(data), *data.sample_shape)
        self.ndim, self.dtype = len(self.shape), torch.float32

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: slice | np.ndarray | torch.Tensor) -> torch.Tensor:
        if isinstance(index, slice):
            positions = np.arange(*index.indices(len(self)))
        else:
            positions = index
        return self.data.rows(np.asarray(positions, dtype=np.int64))


@dataclass
class StreamDataset:
    """A Dataset read from disk on demand: the same attributes, rows in model units.

    `index` maps positions to the file's rows (sorted, so reads run forward);
    `x[a:b]` reads rows as a float32 tensor, `batches` walks them in chunks.
    """

    file: ArrayFile
    scaling: Scaling
    layout: str  # the file's own layout; the scaling may have come from a run
    name: str
    index: np.ndarray  # (n,) int64 file rows, sorted
    y: torch.Tensor | None = None  # (n,) labels of these rows, when the file has them
    classes: tuple[str, ...] | None = None
    transpose: bool = False  # EMNIST stores images column by column
    target = None  # autoencoders reconstruct x; paired targets are not streamed
    series = None  # windows of a series are cut in memory, never streamed

    def __len__(self) -> int:
        return len(self.index)

    @property
    def x(self) -> RowView:
        return RowView(self)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """(D,) or (C, H, W), as the model sees one sample."""
        shape = self.file.shape[1:]
        if self.transpose:
            shape = (shape[1], shape[0])
        return {
            "d": shape,
            "hw": (1, *shape),
            "hwc": (shape[-1], *shape[:2]),
            "chw": shape,
        }[self.layout]

    @property
    def is_image(self) -> bool:
        return len(self.sample_shape) == 3

    def rows(self, positions: np.ndarray) -> torch.Tensor:
        """Rows at `positions` (any order) in model units, float32."""
        return self.scale(self.file.take(self.index[positions]), positions)

    def scale(self, raw: np.ndarray, positions: np.ndarray) -> torch.Tensor:
        """Raw rows (read at `positions`) -> model units; NaN or inf is refused."""
        if self.transpose:
            raw = raw.transpose(0, 2, 1)
        if raw.dtype.kind == "f" and not np.isfinite(raw).all():
            bad = ~np.isfinite(raw.reshape(len(raw), -1)).all(1)
            row = int(self.index[positions][bad][0])
            raise AekitError(
                f"{self.name}: row {row} (counting from 0) holds NaN or inf"
            )
        return replace(self.scaling, layout=self.layout).from_source(raw)

    def subset(self, positions: np.ndarray | torch.Tensor) -> StreamDataset:
        keep = np.sort(np.asarray(positions, dtype=np.int64))
        y = None if self.y is None else self.y[torch.from_numpy(keep)]
        return replace(self, index=self.index[keep], y=y)

    def split(
        self, val_fraction: float, seed: int = 0
    ) -> tuple[StreamDataset, StreamDataset]:
        """The rows Dataset.split would pick, each part kept in file order."""
        n = len(self)
        if not 0.0 < val_fraction < 1.0 or n < 2:
            raise AekitError(
                f"{self.name}: cannot split {n} sample(s) by {val_fraction}"
            )
        n_val = min(max(1, round(n * val_fraction)), n - 1)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).numpy()
        return self.subset(perm[n_val:]), self.subset(perm[:n_val])

    def batches(self, batch_size: int, seed: int) -> Iterator[torch.Tensor]:
        """One epoch: chunks in shuffled order, rows shuffled within each window.

        A window stays in the file's own dtype (uint8 images: a quarter of float32);
        each batch is scaled as it is cut from it.
        """
        rng = np.random.default_rng(seed)
        per_chunk = max(1, arrayfile.CHUNK_BYTES // max(1, self.file.row_bytes))
        starts = np.arange(0, len(self), per_chunk)
        rng.shuffle(starts)
        held, held_at = None, None  # the start of a batch that spans two windows
        for w in range(0, len(starts), WINDOW_CHUNKS):
            chunks = starts[w : w + WINDOW_CHUNKS]
            at = np.concatenate(
                [np.arange(s, min(s + per_chunk, len(self))) for s in chunks]
            )
            rng.shuffle(at)
            raw = self.file.take(self.index[at])
            if held is not None and len(held):  # finish the batch the last window began
                need = batch_size - len(held)
                first, first_at = (
                    np.concatenate([held, raw[:need]]),
                    np.concatenate([held_at, at[:need]]),
                )
                if len(first) == batch_size:
                    yield self.scale(first, first_at)
                    raw, at = raw[need:], at[need:]
                else:  # the whole window fits in that one batch
                    held, held_at = first, first_at
                    continue
            cut = len(raw) - len(raw) % batch_size
            for i in range(0, cut, batch_size):
                yield self.scale(raw[i : i + batch_size], at[i : i + batch_size])
            held, held_at = raw[cut:].copy(), at[cut:]
            del raw  # before the next window is read: one window in memory, not two
        if held is not None and len(held):
            yield self.scale(held, held_at)

    def map(
        self, fn: Callable[[torch.Tensor], torch.Tensor], batch_size: int
    ) -> np.ndarray:
        """fn over the rows in file order, batch by batch, into one array.

        The output is allocated once: a growing list of small per-batch results
        scatters them over the heap, which then grows with every batch.
        """
        out = None
        with torch.no_grad():
            for start in range(0, len(self), batch_size):
                result = fn(self.x[start : start + batch_size]).float().cpu().numpy()
                if out is None:
                    out = np.empty((len(self), *result.shape[1:]), np.float32)
                out[start : start + len(result)] = result
        return out

    def load(self, n: int | None = None, seed: int = 0) -> Dataset:
        """Up to n rows (a seeded random choice) as an in-memory Dataset."""
        keep = np.arange(len(self))
        if n is not None and n < len(self):
            keep = np.sort(
                np.random.default_rng(seed).choice(len(self), n, replace=False)
            )
        y = None if self.y is None else self.y[torch.from_numpy(keep)]
        return Dataset(
            self.rows(keep),
            y=y,
            scaling=self.scaling,
            name=self.name,
            classes=self.classes,
        )


def open_stream(
    source: str | os.PathLike, *, split: str = "train", scaling: Scaling | None = None
) -> StreamDataset:
    """An .npy or raw IDX file (or a folder of IDX files) read in chunks, not loaded.

    Without `scaling`, one pass over the file fits it by the rules of in-memory data
    (and refuses NaN or inf); with a trained run's scaling, that one is applied.
    """
    if not isinstance(source, str | os.PathLike):
        raise AekitError("streaming reads one .npy or raw IDX file (or IDX folder)")
    path = Path(source).expanduser()
    if path.is_dir():
        path = pick_split(find_idx_images(path), split, path)[0]
    if not path.is_file():
        raise AekitError(
            f"no such file: {source} (streaming reads an .npy or raw IDX file)"
        )
    file = array_file(path)
    is_idx = file.path.suffix.lower() not in (".npy", ".safetensors")
    layout = (
        "hw" if is_idx and len(file.shape) == 3 else infer_layout(file.shape, str(path))
    )
    y = _labels(path, file.shape[0]) if is_idx else None
    transpose = is_idx and "emnist" in path.name.lower()
    data = StreamDataset(
        file,
        Scaling(layout=layout),
        layout,
        str(path),
        np.arange(file.shape[0]),
        y,
        None,
        transpose,
    )
    if scaling is None:
        scaling = fit_stream_scaling(data)
    elif (layout == "d") != (scaling.layout == "d"):
        raise AekitError(
            f"{path}: vectors and images do not mix (the model saw {scaling.layout})"
        )
    return replace(data, scaling=scaling)


def _labels(images: Path, n: int) -> torch.Tensor | None:
    found = labels_for(images)
    if found is None:
        return None
    y = read_idx(found)
    if y.ndim != 1 or len(y) != n:
        raise AekitError(f"{found}: expected {n} labels, got shape {y.shape}")
    return torch.from_numpy(y.astype(np.int64))


def fit_stream_scaling(data: StreamDataset) -> Scaling:
    """fit_scaling's rules from one chunked pass: range, or per-feature mean and std."""
    lo, hi, total, squares = math.inf, -math.inf, 0.0, 0.0
    step = max(1, arrayfile.CHUNK_BYTES // max(1, data.file.row_bytes))
    for start in range(0, data.file.shape[0], step):
        a = data.file.read(start, min(start + step, data.file.shape[0]))
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            bad = start + int(
                np.flatnonzero(~np.isfinite(a.reshape(len(a), -1)).all(1))[0]
            )
            raise AekitError(
                f"{data.name}: row {bad} (counting from 0) holds NaN or inf"
            )
        lo, hi = min(lo, float(a.min())), max(hi, float(a.max()))
        if data.layout == "d":
            total = total + a.sum(0, dtype=np.float64)
            squares = squares + np.square(a, dtype=np.float64).sum(0)
    dtype = data.file.dtype.newbyteorder("=")
    probe = (
        np.array([lo, hi]).astype(dtype).reshape(2, *([1] * (len(data.file.shape) - 1)))
    )
    scaling = fit_scaling(probe, data.layout)  # the rules need only dtype and range
    if scaling.domain == "unit":
        return scaling
    n = data.file.shape[0]  # vectors off [0, 1]: standardise per feature
    mean = total / n
    std = np.sqrt(np.maximum(squares / n - mean**2, 0.0))
    constant = (std < np.finfo(np.float32).tiny) | (std <= 1e-7 * np.abs(mean))
    std[constant] = 1.0
    return Scaling(offset=tuple(mean), scale=tuple(std), domain="real", layout="d")
