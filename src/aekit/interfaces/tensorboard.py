"""TensorBoard event files from training: a progress callback for
`aekit.training.loop.fit`.

Each epoch's history row becomes scalars grouped by loss term (`loss/train`,
`loss/val`, `recon/train`, ...), plus the learning rate and seconds per epoch;
each step's loss is logged as `step/loss` against the global step. A resumed run
purges events past the epoch it restarts from, so curves never double back.
Needs the `tensorboard` package (`pip install 'aekit[tensorboard]'`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import AekitError

log = logging.getLogger(__name__)

Progress = Callable[[str, dict[str, Any]], None]


class TensorBoardProgress:
    """A `progress=` callback writing TensorBoard events to `logdir`; call `close()`."""

    def __init__(self, logdir: str | Path):
        try:
            import tensorboard  # noqa: F401  (torch.utils.tensorboard needs it)
        except ImportError as e:
            raise AekitError(
                "--tensorboard needs the tensorboard package: "
                "pip install 'aekit[tensorboard]'"
            ) from e
        self.logdir = Path(logdir)
        self.writer: Any = None
        self.steps = 0  # optimiser steps per epoch

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        if event == "epoch_start":
            self.steps = int(info["steps"])
            if self.writer is None:
                self._open(first_epoch=int(info["epoch"]))
        if self.writer is None:
            return
        if event == "step":
            step = (int(info["epoch"]) - 1) * self.steps + int(info["step"])
            self.writer.add_scalar("step/loss", float(info["loss"]), step)
        elif event == "epoch_end":
            self._epoch(info)

    def _open(self, first_epoch: int) -> None:
        from torch.utils.tensorboard import SummaryWriter

        # a resumed run starts again at first_epoch: drop anything logged past it
        purge = first_epoch if first_epoch > 1 else None
        try:
            self.writer = SummaryWriter(str(self.logdir), purge_step=purge)
        except OSError as e:
            raise AekitError(
                f"cannot write TensorBoard events to {self.logdir}: {e}"
            ) from e
        log.info("writing TensorBoard events to %s", self.logdir)

    def _epoch(self, row: dict[str, Any]) -> None:
        epoch = int(row["epoch"])
        for key, value in row.items():
            if key == "epoch" or not isinstance(value, int | float):
                continue
            if not math.isfinite(value):
                continue
            self.writer.add_scalar(_tag(key), float(value), epoch)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _tag(key: str) -> str:
    """train_recon -> recon/train, val_loss -> loss/val; lr and seconds stay."""
    for split in ("train", "val"):
        if key.startswith(split + "_"):
            return f"{key[len(split) + 1 :]}/{split}"
    return "epoch/" + key


def combine(*callbacks: Progress | None) -> Progress | None:
    """One progress callback that calls each of `callbacks` in turn (Nones skipped)."""
    active = [c for c in callbacks if c is not None]
    if not active:
        return None
    if len(active) == 1:
        return active[0]

    def progress(event: str, info: dict[str, Any]) -> None:
        for callback in active:
            callback(event, info)

    return progress
