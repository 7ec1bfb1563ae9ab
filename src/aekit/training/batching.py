"""The batches of one epoch, for the trainer: this rank's share of each, on the device.

Batches are cut from tensors held in memory (a seeded permutation, no per-sample
Python work) or read from a StreamDataset in shuffled chunks. Under torchrun every
rank draws the same global batches and takes its own contiguous part of each; the
`weight` that comes with a part makes DistributedDataParallel's average of the
ranks' gradients equal the gradient of the whole batch's mean loss, so N processes
train as one process with the same batch size does.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from ..data import Dataset
from ..data.activations import ActivationDataset
from ..data.stream import StreamDataset
from .distributed import Ranks

Data = Dataset | StreamDataset | ActivationDataset
GPU_SHARE = 0.25  # in-memory data moves to the GPU whole if it takes at most this


class Batches:
    """`epoch(seed)` yields (x, target, c, weight) for each step of an epoch; `c` is
    the batch's condition (labels or attributes; None when the data has none)."""

    def __init__(
        self,
        data: Data,
        batch_size: int,
        ranks: Ranks,
        device: torch.device,
        channels_last: bool = False,
        conditional: bool = False,
    ):
        self.data, self.batch_size, self.ranks = data, batch_size, ranks
        self.device, self.channels_last = device, channels_last
        self.stream = isinstance(data, StreamDataset | ActivationDataset)
        self.c = None
        if not self.stream:
            self.x = place(data.x, device)
            self.target = None if data.target is None else place(data.target, device)
            condition = data.condition if conditional else None
            self.c = None if condition is None else place(condition, device)

    def __len__(self) -> int:
        return math.ceil(len(self.data) / self.batch_size)

    def epoch(
        self, seed: int
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, float]]:
        for part, n in self._global_batches(seed):
            mine = part[self.ranks.share(n)]
            weight = len(mine) * self.ranks.size / n
            if len(mine) == 0:  # fewer rows than ranks: step in time, adding nothing
                mine, weight = part[:1], 0.0
            x, target = self._rows(mine)
            on_device = self.to_device(x)
            same = target is x
            target = on_device if same else self.to_device(target)
            c = None if self.stream or self.c is None else self.c[mine].to(self.device)
            yield on_device, target, c, weight

    def _global_batches(self, seed: int) -> Iterator[tuple[torch.Tensor, int]]:
        """Row indices (in memory) or rows (streamed) of each global batch."""
        if self.stream:
            for rows in self.data.batches(self.batch_size, seed):
                yield rows, len(rows)
            return
        g = torch.Generator().manual_seed(seed)
        perm = torch.randperm(len(self.data), generator=g).to(self.x.device)
        for idx in perm.split(self.batch_size):
            yield idx, len(idx)

    def _rows(self, mine: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.stream:
            return mine, mine
        x = self.x[mine]
        return x, (x if self.target is None else self.target[mine])

    def to_device(self, t: torch.Tensor) -> torch.Tensor:
        """A batch on the device: pinned and copied without waiting, NHWC if asked."""
        if t.device != self.device:
            if self.device.type == "cuda":
                t = t.pin_memory()
            t = t.to(self.device, non_blocking=True)
        if self.channels_last and t.ndim == 4:
            t = t.contiguous(memory_format=torch.channels_last)
        return t


def place(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Data moves to a GPU whole when it fits easily, else stays pinned on the host."""
    if device.type != "cuda":
        return t.to(device)
    free, _ = torch.cuda.mem_get_info(device)
    if t.numel() * t.element_size() <= GPU_SHARE * free:
        return t.to(device)
    return t.pin_memory()
