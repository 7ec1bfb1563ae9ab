"""The one in-memory data type every source is turned into, and its scaling."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import torch

from ..errors import AekitError

Layout = Literal["d", "hw", "hwc", "chw", "cw"]
Kind = Literal["vector", "image", "sequence"]
_KINDS = {2: "vector", 3: "sequence", 4: "image"}  # by x.ndim


@dataclass(frozen=True)
class Scaling:
    """Maps model values back to the source's units: source = x * scale + offset.

    `offset` and `scale` are scalars (images) or one value per feature (CSV).
    `domain` says what the model sees: "unit" data lies in [0, 1] and suits a
    sigmoid output with MSE or BCE; "real" data is standardised and suits an
    identity output with MSE (a Gaussian decoder).
    `layout` is how the source arranged one sample, so outputs come back in it:
    "d" vectors, "hw" grayscale images, "hwc" channels-last, "chw" channels-first,
    "cw" sequences (channels, time steps), whose per-channel values also apply to a
    whole (T, C) series.
    """

    offset: float | tuple[float, ...] = 0.0  # added after scaling back
    scale: float | tuple[float, ...] = 1.0  # multiplied when scaling back
    domain: Literal["unit", "real"] = "unit"  # picks the output activation
    layout: Layout = "chw"  # source arrangement of one sample

    def __post_init__(self) -> None:
        for name in ("offset", "scale"):
            value = getattr(self, name)
            if isinstance(value, (list, np.ndarray)):
                object.__setattr__(self, name, tuple(float(v) for v in value))
        if self.domain not in ("unit", "real"):
            raise AekitError(
                f"scaling domain must be 'unit' or 'real', not {self.domain!r}"
            )
        if self.layout not in ("d", "hw", "hwc", "chw", "cw"):
            raise AekitError(f"unknown sample layout {self.layout!r}")
        scale = np.asarray(self.scale, dtype=np.float64)
        if not np.all(np.isfinite(scale)) or np.any(scale == 0):
            raise AekitError("scaling has a zero or non-finite scale")
        if not np.all(np.isfinite(np.asarray(self.offset, dtype=np.float64))):
            raise AekitError("scaling has a non-finite offset (NaN or inf)")

    # -- model space <-> source space ------------------------------------------
    def to_source(self, x: torch.Tensor | np.ndarray) -> np.ndarray:
        """(N, C, H, W), (N, C, T) or (N, D) model values -> float32 source units."""
        a = (
            x.detach().float().cpu().numpy()
            if isinstance(x, torch.Tensor)
            else np.asarray(x)
        )
        a = a.astype(np.float32, copy=False)
        a = self._broadcast(a, self.scale) * a + self._broadcast(a, self.offset)
        if (
            self.domain == "unit"
        ):  # outputs of a sigmoid: keep them in the source's range
            lo = self._broadcast(a, self.offset)
            a = np.clip(a, lo, lo + self._broadcast(a, self.scale))
        return self._to_layout(a).astype(np.float32, copy=False)

    def from_source(self, a: np.ndarray) -> torch.Tensor:
        """Array in source units and layout -> float32 tensor (N, C, H, W) or (N, D)."""
        a = self._from_layout(np.asarray(a, dtype=np.float32))
        a = (a - self._broadcast(a, self.offset)) / self._broadcast(a, self.scale)
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))

    def _broadcast(self, a: np.ndarray, value: float | tuple[float, ...]) -> Any:
        if isinstance(value, tuple):
            v = np.asarray(value, dtype=np.float32)
            if a.ndim == 2 and v.shape[0] == a.shape[1]:
                return v[None, :]
            if a.ndim == 4 and v.shape[0] == a.shape[1]:  # per channel
                return v[None, :, None, None]
            if a.ndim == 3 and v.shape[0] == a.shape[1]:  # per channel of sequences
                return v[None, :, None]
            raise AekitError(
                f"scaling has {v.shape[0]} values but the data has shape {a.shape[1:]}"
            )
        return np.float32(value)

    def _to_layout(self, a: np.ndarray) -> np.ndarray:
        if self.layout == "hw" and a.ndim == 4:
            return a[:, 0]
        if self.layout == "hwc" and a.ndim == 4:
            return a.transpose(0, 2, 3, 1)
        return a

    def _from_layout(self, a: np.ndarray) -> np.ndarray:
        if self.layout == "hw" and a.ndim == 3:
            return a[:, None]
        if self.layout == "hwc" and a.ndim == 4:
            return a.transpose(0, 3, 1, 2)
        return a

    # -- JSON round trip -------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def plain(v: float | tuple[float, ...]) -> float | list[float]:
            return list(v) if isinstance(v, tuple) else float(v)

        return {
            "offset": plain(self.offset),
            "scale": plain(self.scale),
            "domain": self.domain,
            "layout": self.layout,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scaling:
        try:
            return cls(
                offset=_tuple_or_float(d["offset"]),
                scale=_tuple_or_float(d["scale"]),
                domain=d["domain"],
                layout=d["layout"],
            )
        except (KeyError, TypeError, ValueError) as e:
            raise AekitError(f"scaling record is malformed: {e}") from e


def _tuple_or_float(v: Any) -> float | tuple[float, ...]:
    return tuple(float(x) for x in v) if isinstance(v, list) else float(v)


@dataclass
class Dataset:
    """Float32 samples, optional integer labels and paired targets, and their scaling.

    `x` is (N, C, H, W) for images, (N, C, T) for sequences (windows of a series,
    piano rolls) or (N, D) for vectors; `kind` says which. `target`, when present,
    is what an image-to-image model should output for each sample (colour for
    colorization, class ids for segmentation); autoencoders reconstruct `x`.
    """

    x: torch.Tensor  # (N, C, H, W), (N, C, T) or (N, D), float32, model units
    y: torch.Tensor | None = None  # (N,) int64 class labels
    scaling: Scaling = field(default_factory=Scaling)
    name: str = "data"  # where it came from: a built-in name or a path
    classes: tuple[str, ...] | None = None  # label names; classes[y] names a label
    target: torch.Tensor | None = None  # (N, ...) paired targets, image-to-image tasks
    kind: Kind | None = None  # None: told by x's shape
    # how windows map back to their source series (data.series.SeriesInfo); a subset
    # no longer tiles the series, so subset() drops it
    series: Any = None
    c: torch.Tensor | None = None  # (N, K) attribute conditions; None: the labels
    feature_names: tuple[str, ...] | None = None  # (D,) a table's column names
    # (N,) which independent unit each sample belongs to: a validation split of
    # windows groups overlapping ones into spans (SeriesInfo.spans); None: each its own
    units: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.x, torch.Tensor):
            self.x = torch.as_tensor(np.asarray(self.x))
        if self.x.dtype != torch.float32:
            self.x = self.x.float()
        if self.x.ndim not in _KINDS:
            raise AekitError(
                f"{self.name}: samples must be vectors (N, D), sequences (N, C, T) or "
                f"images (N, C, H, W), got shape {tuple(self.x.shape)}"
            )
        if self.kind is None:
            self.kind = _KINDS[self.x.ndim]  # type: ignore[assignment]
        elif self.kind != _KINDS[self.x.ndim]:
            raise AekitError(
                f"{self.name}: samples of shape {tuple(self.x.shape[1:])} are not "
                f"of kind {self.kind!r}"
            )
        if len(self.x) == 0:
            raise AekitError(f"{self.name}: no samples")
        check_finite(self.x, self.name)
        if self.y is not None:
            self.y = torch.as_tensor(np.asarray(self.y)).long().reshape(-1)
            if len(self.y) != len(self.x):
                raise AekitError(
                    f"{self.name}: {len(self.y)} labels for {len(self.x)} samples"
                )
        if self.target is not None and len(self.target) != len(self.x):
            raise AekitError(
                f"{self.name}: {len(self.target)} targets for {len(self.x)} samples"
            )
        if self.classes is not None:
            self.classes = tuple(str(c) for c in self.classes)
        if self.c is not None:
            self.c = torch.as_tensor(np.asarray(self.c), dtype=torch.float32)
            self.c = self.c.reshape(len(self.c), -1)
            if len(self.c) != len(self.x):
                raise AekitError(
                    f"{self.name}: {len(self.c)} conditions for {len(self.x)} samples"
                )
            check_finite(self.c, f"{self.name} (conditions)")
        if self.feature_names is not None:
            self.feature_names = tuple(str(n) for n in self.feature_names)
            if self.x.ndim != 2 or len(self.feature_names) != self.x.shape[1]:
                raise AekitError(
                    f"{self.name}: {len(self.feature_names)} feature names for "
                    f"samples of shape {tuple(self.x.shape[1:])}"
                )

    def __len__(self) -> int:
        return len(self.x)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    @property
    def is_image(self) -> bool:
        return self.x.ndim == 4

    @property
    def condition(self) -> torch.Tensor | None:
        """What a conditional model is given: attribute vectors, else the labels."""
        return self.c if self.c is not None else self.y

    def subset(self, index: torch.Tensor | Sequence[int] | slice) -> Dataset:
        if not isinstance(index, slice):
            index = torch.as_tensor(index, dtype=torch.long)
        return replace(
            self,
            x=self.x[index],
            y=None if self.y is None else self.y[index],
            target=None if self.target is None else self.target[index],
            series=None,
            c=None if self.c is None else self.c[index],
            units=None if self.units is None else self.units[index],
        )

    def split(self, val_fraction: float, seed: int = 0) -> tuple[Dataset, Dataset]:
        """Seeded random split into (train, validation), each with a sample or more.

        Windows of a series split in time instead (SeriesInfo.split_index): the
        end of each series validates, so overlapping windows never leak a step."""
        if not 0.0 < val_fraction < 1.0:
            raise AekitError(
                f"validation fraction must be in (0, 1), got {val_fraction}"
            )
        n = len(self)
        if n < 2:
            raise AekitError(
                f"{self.name}: {n} sample(s) cannot be split for validation"
            )
        timed = self.series.split_index(val_fraction) if self.series else None
        if timed is not None:
            spans = torch.as_tensor(self.series.spans(timed[1]))
            return self.subset(timed[0]), replace(self.subset(timed[1]), units=spans)
        n_val = min(max(1, round(n * val_fraction)), n - 1)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
        return self.subset(perm[n_val:]), self.subset(perm[:n_val])

    def label_name(self, label: int) -> str:
        if self.classes is not None and 0 <= label < len(self.classes):
            return self.classes[label]
        return str(label)


def check_finite(x: torch.Tensor | np.ndarray, name: str) -> None:
    """Raise naming the first sample (row) that holds NaN or inf."""
    t = torch.as_tensor(x)
    if not t.is_floating_point():
        return
    bad = ~torch.isfinite(t.reshape(len(t), -1)).all(dim=1)
    if bool(bad.any()):
        row = int(bad.nonzero()[0, 0])
        raise AekitError(
            f"{name}: sample {row} (row {row}, counting from 0) holds NaN or inf; "
            f"{int(bad.sum())} such sample(s) in all"
        )
