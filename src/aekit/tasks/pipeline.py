"""Training a run end to end, for every task: check, create, fit, write outputs.

One orchestration serves reconstruction (autoencoders) and the image-to-image tasks:
`prepare` reads the data and builds the seeded model, checking every option before
anything touches the disk; `train` creates the run directory (rank 0 alone under
torchrun), records it, fits and writes the outputs; `resume` continues a run with
the settings it recorded.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Any

import torch

from ..data import Dataset
from ..data.io import remove_stale_temps, write_json
from ..errors import AekitError
from ..run import (
    Run,
    create_run_dir,
    default_run_dir,
    discard_replaced,
    load_run,
    read_run_config,
    release_run_dir,
    restore_replaced,
    write_run_config,
)
from ..training import distributed
from ..training.budget import describe as describe_budget
from ..training.checkpoint import check_checkpoint
from ..training.config import TrainConfig
from ..training.hardware import resolve_device
from ..training.loop import CHECKPOINT, Progress, fit
from . import task_named
from .autoencoding import DATA_OPTIONS, OUTPUT_ROWS
from .pipeline_checks import (
    check_fit_prior,
    epochs_done,
    recorded_config,
    resolved,
    reuse_threads,
)
from .task import Prepared

log = logging.getLogger(__name__)

TRAIN_OPTIONS = tuple(f.name for f in dataclasses.fields(TrainConfig))
RESUMABLE = ("epochs", "patience")  # what a resumed run may change


def train(
    data: Any = "mnist-5k",
    model: str | None = None,
    *,
    task: str = "reconstruct",
    out: str | Path | None = None,
    overwrite: bool = False,
    pictures: bool = True,
    report: bool = True,
    progress: Progress | None = None,
    fit_prior: bool = True,
    **options: Any,
) -> Run:
    """Check everything, then create the run directory, fit and write the outputs;
    a run that samples through a learned prior (a VQ-VAE) fits it too, unless
    `fit_prior` is False (fit it later with aekit.tasks.learned_prior.fit_prior)."""
    config = TrainConfig(**{k: options.pop(k) for k in TRAIN_OPTIONS if k in options})
    resolve_device(config.device)  # a device that is not there fails before the disk
    prepared = prepare(task, data, model, options, config)
    check_fit_prior(prepared.model_name, fit_prior)
    config = resolved(config, prepared.model, len(prepared.train))
    ranks = int(os.environ.get("WORLD_SIZE", "1"))
    chosen = prepared.data_spec.setdefault("chosen", {})
    chosen["budget"] = describe_budget(config, len(prepared.train), ranks)
    log.info("budget: %s", chosen["budget"])
    log.info("%d process(es) train (world size %d)", ranks, ranks)
    target = Path(out) if out is not None else None

    def make_dir() -> tuple[Path, Path | None]:
        path = target or default_run_dir(prepared.model_name, prepared.train.name)
        return path, create_run_dir(path, overwrite)

    # under torchrun rank 0 makes the run directory and the others learn its name
    path, replaced = distributed.on_main(make_dir, config.device)
    try:
        if distributed.main_process():
            write_run_config(
                path,
                model_name=prepared.model_name,
                model=prepared.model,
                data=prepared.train,
                data_spec=prepared.data_spec,
                train_config=config,
                task=task,
                n_train=len(prepared.train),
                n_val=len(prepared.val),
                runtime={
                    "threads": torch.get_num_threads(),
                    "world_size": ranks,
                    # what the run was asked to leave; a resume leaves no more
                    "outputs": {"pictures": bool(pictures), "report": bool(report)},
                },
            )
        history = _fit_replacing(prepared, config, path, replaced, progress)
        return finish(path, prepared, history, pictures, report, fit_prior=fit_prior)
    finally:
        release_run_dir(path)  # another train may write here now


def prepare(
    task: str,
    data: Any,
    model: str | None,
    options: dict[str, Any],
    config: TrainConfig,
) -> Prepared:
    """The seeded model and its data for a task; raises on any bad option."""
    return task_named(task).prepare(data, model, options, config)


def resume(
    path: str | Path,
    *,
    pictures: bool = True,
    report: bool = True,
    progress: Progress | None = None,
    fit_prior: bool = True,
    **options: Any,
) -> Run:
    """Continue a run from its last completed epoch with its recorded settings;
    only RESUMABLE options may change, and the record is rewritten only once the
    resume is accepted."""
    path = Path(path)
    record = read_run_config(path)
    check_fit_prior(str(record.get("model", {}).get("name", "")), fit_prior)
    given = {k for k, v in options.items() if v is not None}
    if given - set(RESUMABLE):
        raise AekitError(
            f"a resumed run keeps its settings; only {', '.join(RESUMABLE)} may "
            f"change, not {', '.join(sorted(given - set(RESUMABLE)))}"
        )
    if record["data"].get("source") is None:
        raise AekitError(
            f"{path} was trained on in-memory data, which cannot be reloaded"
        )
    changes = {k: options[k] for k in given}
    try:
        config = dataclasses.replace(recorded_config(record["training"]), **changes)
    except (TypeError, ValueError) as e:  # AekitError is a ValueError
        raise AekitError(f"{path / 'config.json'}: training section: {e}") from e
    checkpoint = path / CHECKPOINT
    # killed before the first epoch completed: start again, the same run
    restart = not checkpoint.exists() and not (path / "metrics.json").exists()
    if not checkpoint.exists() and not restart:
        raise AekitError(f"nothing to resume: no {CHECKPOINT} in {path}")
    if not restart:
        state = check_checkpoint(checkpoint, "training")  # blame a bad file first
        done = epochs_done(state)
        if done is not None and config.epochs < done:
            raise AekitError(
                f"{path} has trained {done} epochs already; --epochs must be at "
                f"least {done}"
            )
    reuse_threads(record)
    asked = (record.get("runtime") or {}).get("outputs") or {}
    pictures = pictures and asked.get("pictures", True)  # --no-pictures holds
    report = report and asked.get("report", True)  # --no-report holds
    prepared = _reprepare(path, record, config, start=restart)
    if distributed.main_process():
        for stale in remove_stale_temps(path):  # a killed run's files
            log.info("removed %s, left by an interrupted run", stale)
        record["training"] = dataclasses.asdict(config)
        write_json(path / "config.json", record)
    history = fit(
        prepared.model,
        prepared.train,
        prepared.val,
        config,
        out=path,
        resume=not restart,
        progress=progress,
    )
    return finish(path, prepared, history, pictures, report, fit_prior=fit_prior)


def finish(
    out: Path,
    prepared: Prepared,
    history: Any,
    pictures: bool,
    report: bool = True,
    *,
    fit_prior: bool = True,
) -> Run:
    """Read the run back and (rank 0) write its metrics, pictures and report."""
    if not history.rows:
        raise AekitError(
            "training stopped before the first epoch completed; nothing saved"
        )
    run = load_run(out)
    run.history = history
    if not distributed.main_process():
        return run
    task_named(prepared.task).write_outputs(
        run, prepared, history, pictures=pictures, report=report, fit_prior=fit_prior
    )
    return run


def _reprepare(
    path: Path, record: dict[str, Any], config: TrainConfig, *, start: bool = False
) -> Prepared:
    """A recorded run's model (initial weights from its seed; `start`: from the
    data too, as at the first start) and data again."""
    task = task_named(record.get("task", "reconstruct"))
    return task.reprepare(path, record, config, start=start)


def _fit_replacing(
    prepared: Prepared,
    config: TrainConfig,
    path: Path,
    replaced: Path | None,
    progress: Progress | None,
) -> Any:
    """fit(), keeping a run that --force replaces until the new one has an epoch:
    then it is deleted; if the new one fails before, it is put back."""
    if replaced is None:
        return fit(
            prepared.model,
            prepared.train,
            prepared.val,
            config,
            out=path,
            progress=progress,
        )

    def watch(event: str, info: dict[str, Any]) -> None:
        if event == "epoch_end":
            discard_replaced(replaced)
        if progress is not None:
            progress(event, info)

    try:
        history = fit(
            prepared.model,
            prepared.train,
            prepared.val,
            config,
            out=path,
            progress=watch,
        )
    except BaseException:
        if not (path / CHECKPOINT).exists():
            restore_replaced(path, replaced)
        raise
    if not history.rows:
        restore_replaced(path, replaced)
    return history


__all__ = [
    "DATA_OPTIONS",
    "OUTPUT_ROWS",
    "Dataset",
    "Prepared",
    "finish",
    "prepare",
    "resume",
    "train",
]
