"""One training loop for every aekit model, on one process or many.

Batches come from tensors held in memory or from a file read in chunks
(aekit.training.batching), the optimisers are those the model states
(aekit.training.phases; one fused AdamW unless it states more) with a cosine,
cosine-floor or constant learning rate, validation drives early stopping, and every
completed epoch leaves a checkpoint that `resume` continues exactly (every
optimiser's moments too): each epoch's randomness is derived from (seed, epoch), so
a resumed run draws the same batches and noise as one that never stopped.
Started by torchrun, the same loop runs under DistributedDataParallel: each rank
takes its share of every batch, validation sums are added up over ranks, and rank 0
alone writes.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..errors import AekitError
from ..models import is_conditional
from ..models.base import Model
from . import distributed, phases, selection
from .batching import Batches, Data
from .budget import TOLERANCE, model_budget
from .checkpoint import (
    load_training_state,
    load_weights,
    save_training_state,
    save_weights,
    update_training_state,
)
from .config import TrainConfig
from .distributed import Ranks
from .hardware import (
    autocast,
    keep_freed_memory,
    prefers_channels_last,
    resolve_device,  # noqa: F401  (aekit.training.loop.resolve_device, as before)
    resolve_precision,
)
from .history import History, write_history
from .noise import Noise
from .optim import (
    Optimisers,
    Schedulers,
    make_optimizer,
    make_scheduler,
    resolve_schedule,
)
from .validation import epoch_seed, evaluate_loss, mean_over_ranks

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.safetensors"  # last completed epoch, with optimizer state
WEIGHTS = "model.safetensors"  # best epoch by validation loss
HISTORY = "history.csv"
START = selection.START  # a solution start's weights (the start rule)

Progress = Callable[[str, dict[str, Any]], None]  # (event, info); events below


class TrainingDiverged(AekitError):
    """The loss became NaN or inf; the last completed epoch's checkpoint is kept."""


def fit(
    model: Model,
    train: Data,
    val: Data,
    config: TrainConfig,
    *,
    out: str | Path | None = None,
    resume: bool = False,
    progress: Progress | None = None,
) -> History:
    """Train `model` in place; with `out`, keep checkpoints and history there.

    `train` and `val` are Datasets or StreamDatasets (aekit.data.open_stream).
    Events sent to `progress` (on rank 0): "epoch_start" {epoch, epochs, steps},
    "step" {epoch, step, loss}, "epoch_end" {the history row}.
    """
    device = distributed.local_device(resolve_device(config.device))
    ranks = distributed.setup(device)
    config = model_budget(config, len(train), ranks.size, model)  # epochs from data
    config = resolve_schedule(config, model)
    if device.type == "cpu":
        keep_freed_memory()  # no page faults on every step (aekit.training.hardware)
    config = dataclasses.replace(
        config,
        precision=resolve_precision(
            config.precision, device, model, config.batch_size // ranks.size
        ),  # the rows each rank's matrix products see
    )
    loop, batches, val = _prepare(model, train, val, config, device, ranks, out)
    loop.emit = (progress if ranks.is_main else None) or loop.emit
    history = (
        _restore(loop.out_path, model, loop.optimizer, loop.scheduler)
        if resume
        else History()
    )
    history.precision = config.precision
    if not resume and getattr(model, "starts_at_solution", False):
        loop.score_start(history, val)

    started = time.perf_counter()
    with torch.random.fork_rng(devices=_rng_devices(device)):
        try:
            for epoch in range(len(history.rows), config.epochs):
                if loop.patience_spent(history, len(batches)):  # stopped before
                    history.stop_reason = "early-stopped"
                    break
                if loop.out_of_time(history, time.perf_counter() - started):
                    history.stop_reason = "time-limit"
                    break
                loop.run_epoch(epoch, batches, val, history)
        except KeyboardInterrupt:
            history.stop_reason = "interrupted"
        finally:
            model.to(memory_format=torch.contiguous_format)
    distributed.barrier()  # rank 0's last files are written before anyone reads them
    loop.select(history, val)  # a solution start kept unless clearly beaten
    distributed.barrier()
    return history


def _prepare(
    model: Model,
    train: Data,
    val: Data,
    config: TrainConfig,
    device: torch.device,
    ranks: Ranks,
    out: str | Path | None,
) -> tuple[_Loop, Batches, Data]:
    """The model on its device, this rank's batches and validation share, the loop."""
    channels_last = prefers_channels_last(model, device, config.precision)
    model.to(device, memory_format=_memory_format(channels_last))
    conditional = is_conditional(model)
    if conditional and None in (getattr(d, "condition", None) for d in (train, val)):
        raise AekitError(
            f"{model.name} is conditional, but the data has no labels or attributes "
            "to condition on"
        )
    batches = Batches(
        train, config.batch_size, ranks, device, channels_last, conditional
    )
    if ranks.distributed:  # each rank validates its share; the sums are added up
        if len(val) < ranks.size:
            raise AekitError(f"{len(val)} validation samples for {ranks.size} ranks")
        val = val.subset(torch.arange(len(val))[ranks.share(len(val))])
    stages = phases.build(model, config, make_optimizer)
    if len(stages) + len(stages[0]) > 2 and ranks.distributed:
        raise AekitError(
            f"{model.name or type(model).__name__} steps several parameter groups "
            "on their own losses and trains in one process; drop --nproc"
        )
    optimizers = [stage.optimizer for round_ in stages for stage in round_]
    optimizer = optimizers[0] if len(optimizers) == 1 else Optimisers(optimizers)
    schedulers = [make_scheduler(o, config, len(batches)) for o in optimizers]
    out = Path(out) if out is not None else None
    loop = _Loop(
        model,
        distributed.objective(model, device, ranks),
        stages,
        optimizer,
        schedulers[0] if len(schedulers) == 1 else Schedulers(schedulers),
        config,
        out,
        noise=Noise.parse(config.noise) if config.noise else None,
        bounds=(0.0, 1.0) if train.scaling.domain == "unit" else None,
        emit=lambda event, info: None,
        ranks=ranks,
        sync_every=1 if device.type == "cpu" else 16,  # host syncs stall a GPU
        conditional=conditional,
    )
    return loop, batches, val


@dataclass
class _Loop:
    """What one epoch needs: the model, its optimiser and schedule, and the settings."""

    model: Model
    objective: Callable[..., dict[str, torch.Tensor]]  # (x, target, c) -> terms
    stages: list[list[phases.Stage]]  # the model's optimisers, in rounds
    optimizer: torch.optim.Optimizer | Optimisers  # all of them, as the file has them
    scheduler: torch.optim.lr_scheduler.LambdaLR | Schedulers
    config: TrainConfig
    out_path: Path | None  # the run directory; only rank 0 writes there
    noise: Noise | None
    bounds: tuple[float, float] | None
    emit: Progress
    ranks: Ranks
    sync_every: int  # steps between looks at the loss from the host
    conditional: bool = False  # the model takes the data's condition

    @property
    def out(self) -> Path | None:
        """Where this process writes: the run directory on rank 0, nowhere else."""
        return self.out_path if self.ranks.is_main else None

    def run_epoch(
        self, epoch: int, batches: Batches, val: Data, history: History
    ) -> None:
        """Train, validate, record and checkpoint one epoch."""
        started = time.perf_counter()
        info = {"epoch": epoch + 1, "epochs": self.config.epochs, "steps": len(batches)}
        self.emit("epoch_start", info)
        row = {"epoch": epoch + 1, **self.train_epoch(epoch, batches, history)}
        row |= {f"val_{k}": v for k, v in self.validate(val).items()}
        row |= {
            "lr": self.scheduler.get_last_lr()[0],
            "seconds": time.perf_counter() - started,
        }
        self.end_epoch(history, row)
        self.emit("epoch_end", row)

    def validate(self, val: Data) -> dict[str, float]:
        return evaluate_loss(
            self.model,
            val.x,
            val.target,
            self.config,
            self.noise,
            self.bounds,
            self.ranks,
            c=val.condition if self.conditional else None,
        )

    def score_start(self, history: History, val: Data) -> None:
        """A model that starts at a solution (PCA) is its own first candidate:
        best epoch 0, kept unless an epoch validates clearly better (select)."""
        history.best_val_loss, history.best_epoch = self.validate(val)["loss"], 0
        history.start_val_loss = history.best_val_loss
        if self.out is not None:
            save_weights(self.out / WEIGHTS, self.model)
            save_weights(self.out / START, self.model)

    def select(self, history: History, val: Data) -> None:
        """The start rule (aekit.training.selection): the best epoch replaces a
        solution start's weights only when its gain is clear; the model is left
        holding the weights kept.

        The decision goes into the checkpoint before model.safetensors changes,
        so a run killed in between resumes the decision, not a comparison of the
        start with itself."""
        out = self.out_path
        if out is None or history.start_val_loss is None or not history.rows:
            return
        if history.selection is None:  # not decided before a kill
            c = val.condition if self.conditional else None
            args = (val, self.config, self.noise, self.bounds, self.ranks, c)
            paths = out / START, out / WEIGHTS
            decision = selection.compare(self.model, *paths, history, *args).to_dict()
            history.selection = decision
            if decision["kept"] == "start":
                history.best_epoch, history.best_val_loss = 0, decision["start_loss"]
            if self.out is not None:
                update_training_state(self.out / CHECKPOINT, history.state())
        kept_start = history.selection["kept"] == "start"
        load_weights(out / (START if kept_start else WEIGHTS), self.model)
        if kept_start:
            distributed.barrier()  # every rank read model.safetensors before
            if self.out is not None:
                save_weights(self.out / WEIGHTS, self.model)
        if self.ranks.is_main:
            log.info("%s", selection.describe(history.selection))

    def train_epoch(
        self, epoch: int, batches: Batches, history: History
    ) -> dict[str, float]:
        """One pass over shuffled batches; returns the mean of each loss term."""
        model, config = self.model, self.config
        seed = epoch_seed(config.seed, epoch)  # batches, noise and VAE draws
        torch.manual_seed(seed + 7919 * self.ranks.rank)  # each rank its own noise
        model.train()
        model.set_epoch(epoch)
        sums: dict[str, torch.Tensor] = {}
        pending: list[torch.Tensor] = []  # losses the host has not looked at yet
        seen = 0
        for step, (x, target, c, weight) in enumerate(batches.epoch(seed)):
            if self.noise is not None:
                x = self.noise(x, bounds=self.bounds)

            def forward(x=x, target=target, c=c) -> dict[str, torch.Tensor]:
                with autocast(x.device, config.precision):
                    return self.objective(x, target, *(() if c is None else (c,)))

            terms = forward()
            loss = terms["loss"]
            pending.append(loss.detach())
            if len(pending) == self.sync_every or step == len(batches) - 1:
                self._look(pending, epoch, step, history)  # NaN check, progress
            phases.step(self.stages, terms, forward, weight, config.grad_clip)
            self.scheduler.step()
            rows = len(x) if weight > 0 else 0  # a stand-in row adds nothing
            for key, value in terms.items():
                sums[key] = sums.get(key, 0.0) + value.detach().float() * rows
            seen += rows
        return {f"train_{k}": v for k, v in mean_over_ranks(sums, seen).items()}

    def _look(
        self, pending: list[torch.Tensor], epoch: int, step: int, history: History
    ) -> None:
        """One host sync for several steps: stop on NaN (all ranks alike), report."""
        losses = distributed.all_reduce_sum(torch.stack(pending).float())
        first = step - len(pending) + 1
        for i, value in enumerate((losses / self.ranks.size).tolist()):
            if not math.isfinite(value):
                _diverged(self.out, history, epoch, first + i, value)
            self.emit(
                "step", {"epoch": epoch + 1, "step": first + i + 1, "loss": value}
            )
        pending.clear()

    def end_epoch(self, history: History, row: dict[str, float]) -> None:
        """Record the epoch, keep the best weights, checkpoint."""
        history.rows.append(row)
        history.selection = None  # a decision before this epoch no longer holds
        # the metric the model selects its best checkpoint on ("loss" unless stated)
        score = row[f"val_{getattr(self.model, 'selection_metric', 'loss')}"]
        if score < history.best_val_loss - TOLERANCE * abs(
            history.best_val_loss if math.isfinite(history.best_val_loss) else 0.0
        ):
            history.best_val_loss, history.best_epoch = score, row["epoch"]
            if self.out is not None:
                save_weights(self.out / WEIGHTS, self.model)
        if self.out is not None:
            write_history(self.out / HISTORY, history.rows)
            state = history.state() | {"scheduler": self.scheduler.state_dict()}
            save_training_state(
                self.out / CHECKPOINT, self.model, self.optimizer, state
            )

    def patience_spent(self, history: History, steps_per_epoch: int) -> bool:
        """No gain for `patience` epochs, once `min_steps` steps have been taken."""
        waited = len(history.rows) - history.best_epoch
        floor = len(history.rows) * steps_per_epoch >= self.config.min_steps
        return bool(history.rows) and floor and 0 < self.config.patience <= waited

    def out_of_time(self, history: History, seconds: float) -> bool:
        """Whether one more epoch (as long as the slowest so far) passes time_limit."""
        if not self.config.time_limit or not history.rows:
            return False
        longest = max(r["seconds"] for r in history.rows)
        return seconds + longest > self.config.time_limit


def _memory_format(channels_last: bool) -> torch.memory_format:
    return torch.channels_last if channels_last else torch.contiguous_format


def _rng_devices(device: torch.device) -> list[int]:
    return [device.index or 0] if device.type == "cuda" else []


def _restore(out: Path | None, model: Model, optimizer: Any, scheduler: Any) -> History:
    if out is None or not (out / CHECKPOINT).is_file():
        raise AekitError(f"nothing to resume: no {CHECKPOINT} in {out}")
    flags = [
        {k: g[k] for k in ("fused", "foreach") if k in g}
        for g in optimizer.param_groups
    ]
    state = load_training_state(out / CHECKPOINT, model, optimizer)
    for group, kept in zip(optimizer.param_groups, flags, strict=True):
        group.update(kept)  # how to step is this machine's choice, not the file's
    try:
        scheduler.load_state_dict(state["scheduler"])
        return History.from_state(state)
    except (KeyError, TypeError) as e:
        raise AekitError(
            f"{out / CHECKPOINT}: training state is malformed ({e})"
        ) from e


def _diverged(out: Path | None, history: History, epoch: int, step: int, loss: float):
    kept = (
        f"the checkpoint of epoch {len(history.rows)} is kept in {out}"
        if history.rows and out is not None
        else "no epoch had completed"
    )
    raise TrainingDiverged(
        f"loss became {loss} at epoch {epoch + 1}, step {step + 1}; "
        "training stopped and "
        f"{kept}. Try a lower --lr or --grad-clip 1.0"
    )
