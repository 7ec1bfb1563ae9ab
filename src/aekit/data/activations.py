"""A network's activations at one layer as a data set: computed from the network's
inputs batch by batch while they are read (never the whole activation set in
memory), scaled to the SAE's units by one number (E||a|| = sqrt(D) on a sample)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from ..errors import AekitError
from .dataset import Dataset, Scaling
from .stream import RowView, StreamDataset

Read = Callable[[torch.Tensor], torch.Tensor]  # (B, *input) -> (B, D) activations
SCALE_ROWS = 4096  # inputs whose activations fix the scale
READ_ROWS = 1024  # inputs sent through the network at once outside training


@dataclass
class ActivationDataset:
    """The activations `read` gives for the rows of `inputs` (a Dataset or a
    StreamDataset of the network's inputs), in the SAE's units (`scaling` maps them
    back to the layer's own)."""

    inputs: Dataset | StreamDataset
    read: Read
    scaling: Scaling
    name: str
    width: int
    target = None  # an SAE reconstructs its input
    series = None
    kind = "vector"

    def __len__(self) -> int:
        return len(self.inputs)

    @property
    def y(self) -> torch.Tensor | None:
        return self.inputs.y

    @property
    def classes(self) -> tuple[str, ...] | None:
        return self.inputs.classes

    def label_name(self, label: int) -> str:
        if self.classes is not None and 0 <= label < len(self.classes):
            return self.classes[label]
        return str(label)

    @property
    def x(self) -> RowView:
        return RowView(self)  # type: ignore[arg-type]

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return (self.width,)

    @property
    def is_image(self) -> bool:
        return False

    def activations(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, *input) network inputs -> (B, D) activations in the SAE's units."""
        out = []
        with torch.no_grad():
            for part in inputs.split(READ_ROWS):
                a = self.read(part).detach().float().cpu().reshape(len(part), -1)
                if not bool(torch.isfinite(a).all()):
                    raise AekitError(f"{self.name}: the layer gave NaN or inf")
                out.append(a)
        a = torch.cat(out) if out else torch.zeros(0, self.width)
        return self.scaling.from_source(a.numpy())

    def rows(self, positions: np.ndarray) -> torch.Tensor:
        return self.activations(self.inputs.x[positions])

    def batches(self, batch_size: int, seed: int) -> Iterator[torch.Tensor]:
        """One epoch in shuffled order: each batch's inputs read, then sent through
        the network."""
        if isinstance(self.inputs, StreamDataset):
            for x in self.inputs.batches(batch_size, seed):
                yield self.activations(x)
            return
        g = torch.Generator().manual_seed(seed)
        for index in torch.randperm(len(self), generator=g).split(batch_size):
            yield self.activations(self.inputs.x[index])

    def split(
        self, val_fraction: float, seed: int = 0
    ) -> tuple[ActivationDataset, ActivationDataset]:
        """The inputs' own seeded split, each part read through the network."""
        train, val = self.inputs.split(val_fraction, seed=seed)
        return replace(self, inputs=train), replace(self, inputs=val)

    def subset(self, positions: Any) -> ActivationDataset:
        return replace(self, inputs=self.inputs.subset(positions))

    def load(self, n: int | None = None, seed: int = 0) -> Dataset:
        """Up to n rows' activations (a seeded random choice) as a Dataset."""
        keep = np.arange(len(self))
        if n is not None and n < len(self):
            rng = np.random.default_rng(seed)
            keep = np.sort(rng.choice(len(self), n, replace=False))
        y = None if self.y is None else self.y[torch.from_numpy(keep)]
        x = self.rows(keep)
        return Dataset(x, y=y, scaling=self.scaling, name=self.name)

    def map(self, fn: Callable[[torch.Tensor], torch.Tensor], batch_size: int) -> Any:
        """fn over the rows' activations in order, batch by batch, into one array."""
        out = None
        with torch.no_grad():
            for start in range(0, len(self), batch_size):
                rows = np.arange(start, min(start + batch_size, len(self)))
                result = fn(self.rows(rows)).float().cpu().numpy()
                if out is None:
                    out = np.empty((len(self), *result.shape[1:]), np.float32)
                out[start : start + len(result)] = result
        return out


def activation_dataset(
    inputs: Dataset | StreamDataset,
    read: Read,
    name: str,
    scaling: Scaling | None = None,
) -> ActivationDataset:
    """The activations of `inputs` under `read`; without `scaling`, one scale fitted
    so that the activations of up to SCALE_ROWS inputs have E||a|| = sqrt(D) (the
    usual normalisation of SAE inputs, one number so the geometry is kept)."""
    if len(inputs) == 0:
        raise AekitError(f"{name}: no inputs to read activations from")
    rows = np.arange(min(len(inputs), SCALE_ROWS))
    unit = Scaling(domain="real", layout="d")
    probe = ActivationDataset(inputs, read, unit, name, 0)
    sample = probe.rows(rows)
    width = int(sample.shape[1])
    if scaling is None:
        mean_norm = float(sample.double().norm(dim=1).mean())
        if not mean_norm > 0:
            raise AekitError(f"{name}: the layer's activations are all zero")
        scaling = Scaling(scale=mean_norm / width**0.5, domain="real", layout="d")
    return ActivationDataset(inputs, read, scaling, name, width)
