"""What a training run did, epoch by epoch: the History the loop fills and returns,
and its history.csv."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.io import write_csv


@dataclass
class History:
    rows: list[dict[str, float]] = field(default_factory=list)  # one per epoch
    best_epoch: int = 0  # 1-based; 0 before any epoch completed, or the start's
    best_val_loss: float = math.inf
    # completed | early-stopped | time-limit | interrupted
    stop_reason: str = "completed"
    precision: str = "fp32"  # what "auto" (or the config) resolved to
    start_val_loss: float | None = None  # a solution start's validation loss
    selection: dict[str, Any] | None = None  # the start rule's decision (selection)

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps to resume (JSON-able)."""
        return {
            "rows": self.rows,
            "best_epoch": self.best_epoch,
            "best_val_loss": self.best_val_loss,
            "start_val_loss": self.start_val_loss,
            "selection": self.selection,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> History:
        """The History a checkpoint's state resumes (KeyError/TypeError if bad)."""
        return cls(
            rows=state["rows"],
            best_epoch=state["best_epoch"],
            best_val_loss=state["best_val_loss"],
            start_val_loss=state.get("start_val_loss"),
            selection=state.get("selection"),
        )


def write_history(path: Path, rows: list[dict[str, float]]) -> None:
    """history.csv: one row per epoch, every column any row has."""
    fields: dict[str, None] = {}
    for row in rows:
        fields |= dict.fromkeys(row)
    write_csv(path, rows, list(fields))
