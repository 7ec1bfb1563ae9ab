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
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data import Dataset
from ..data.io import read_json, remove_stale_temps, write_json
from ..data.memory import allocation_guard
from ..errors import AekitError
from ..models import build_model, spec_of
from ..models.base import Model
from ..run import (
    Run,
    build_run_model,
    create_run_dir,
    dataset_from,
    default_run_dir,
    discard_replaced,
    in_memory,
    load_run,
    read_run_config,
    release_run_dir,
    restore_replaced,
    run_data,
    seeded,
    write_run_config,
)
from ..run.conditions import n_classes
from ..training import distributed
from ..training.budget import describe as describe_budget
from ..training.checkpoint import check_checkpoint
from ..training.config import TrainConfig
from ..training.hardware import resolve_device
from ..training.loop import CHECKPOINT, Progress, fit
from .model_options import data_model_options, model_defaults
from .pipeline_checks import (
    check_input_kind,
    chosen,
    epochs_done,
    kind_of,
    read_class_names,
    recorded_config,
    resolved,
    reuse_threads,
    scaling,
)

log = logging.getLogger(__name__)

# api.train's data options -> load_dataset's keywords ("channels" is the conv widths)
DATA_OPTIONS = {
    "image_size": "image_size",
    "image_channels": "channels",
    "label_column": "label_column",
    "split": "split",
    "stream": "stream",
    "window": "window",
    "stride": "stride",
    "steps_per_beat": "steps_per_beat",
    "bars": "bars",
    "beats_per_bar": "beats_per_bar",
    "pitch_range": "pitch_range",
    "columns": "columns",
    "missing": "missing",
}
TRAIN_OPTIONS = tuple(f.name for f in dataclasses.fields(TrainConfig))
RESUMABLE = ("epochs", "patience")  # what a resumed run may change
OUTPUT_ROWS = 5_000  # rows of a streamed data set that metrics and pictures use


@dataclass
class Prepared:
    """A model and its data, ready to train; nothing written yet."""

    task: str
    model_name: str
    model: Model
    train: Any  # Dataset or StreamDataset
    val: Any
    data_spec: dict[str, Any]  # how to read the data again: source, options, ...
    settings: dict[str, Any] | None = None  # what a task's inference needs


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
    if task != "reconstruct":
        from .training import prepare_task

        name, net, split, spec, settings = prepare_task(
            task, data, model, options, config
        )
        return Prepared(task, name, net, *split, spec, settings)
    if model is not None and task not in spec_of(model).capabilities.tasks:
        raise AekitError(f"model {model!r} does not reconstruct; use --task")
    data_opts = {
        DATA_OPTIONS[k]: options.pop(k)
        for k in list(DATA_OPTIONS)
        if options.get(k) is not None
    }
    class_names = options.pop("class_names", None)
    condition = options.pop("condition", None)
    dataset, data_spec = dataset_from(data, data_opts, condition=condition)
    name, data_spec["chosen"] = chosen(model, dataset)
    if class_names is not None:
        dataset.classes = read_class_names(class_names, dataset)
    check_input_kind(name, dataset)
    train_set, val_set = dataset.split(config.val_fraction, seed=config.seed)
    options = {
        **data_model_options(
            name, dataset, len(train_set), condition, bars=data_opts.get("bars")
        ),
        **options,
    }
    model_options = model_defaults(name, dataset, options)

    def build() -> Model:
        return build_model(name, dataset.sample_shape, **model_options)

    # weights, gradients and two Adam moments, counted on the meta device first,
    # and a batch's codes and outputs through forward and backward (a few copies)
    with torch.device("meta"):
        meta = build()
        size = 16 * sum(p.numel() for p in meta.parameters())
        size += 4 * sum(b.numel() for b in meta.buffers())
    width = meta.latent_dim + math.prod(dataset.sample_shape)
    size += 4 * 16 * config.batch_size * width
    with allocation_guard("build and train the model", nbytes=size):
        net = seeded(config.seed, build)
        seeded(config.seed, lambda: net.init_from_data(in_memory(train_set, 20_000).x))
    data_spec["kind"] = getattr(dataset, "kind", None) or kind_of(dataset)
    if spec_of(name).capabilities.conditional:
        data_spec.setdefault("condition", "label")
        data_spec["n_classes"] = n_classes(dataset)
    return Prepared(task, name, net, train_set, val_set, data_spec)


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
    train, val = prepared.train, prepared.val
    if prepared.task != "reconstruct":
        from .outputs import write_task_outputs
        from .report import write_task_pictures

        write_task_outputs(run, train, val, history)
        write_task_pictures(run, val, pictures=pictures, report=report)
        return run
    from ..analysis.outputs import write_outputs

    prior = _fit_learned_prior(run, train, val) if fit_prior else None
    train, val = in_memory(train, OUTPUT_ROWS), in_memory(val, OUTPUT_ROWS)
    write_outputs(run, train, val, history, pictures=pictures, report=report)
    if prior is not None:  # metrics.json says how the prior was fitted
        write_json(out / "metrics.json", {**read_json(out / "metrics.json"), **prior})
    return run


def _fit_learned_prior(run: Run, train: Any, val: Any) -> dict[str, Any] | None:
    """A VQ-VAE's PixelCNN prior, fitted right after it, so the run samples."""
    from .learned_prior import fit_prior, needs_prior, prior_summary

    if not needs_prior(run):
        return None
    return {"prior": prior_summary(fit_prior(run, data=(train, val)))}


def _reprepare(
    path: Path, record: dict[str, Any], config: TrainConfig, *, start: bool = False
) -> Prepared:
    """A recorded run's model (initial weights from its seed; `start`: from the
    data too, as at the first start) and data again."""
    task = record.get("task", "reconstruct")
    net = seeded(config.seed, lambda: build_run_model(record, path))
    name = record["model"]["name"]
    if task != "reconstruct":
        from .training import task_data

        spec = record["data"]
        prepared = task_data(task, spec["source"], spec["options"], net, config)
        return Prepared(task, name, net, prepared.train, prepared.val, spec)
    run = Run(path, net, name, scaling(record), config, record)
    train, val = run_data(run).split(config.val_fraction, seed=config.seed)
    if start:
        seeded(config.seed, lambda: net.init_from_data(in_memory(train, 20_000).x))
    return Prepared(task, name, net, train, val, record["data"])


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


__all__ = ["Dataset", "Prepared", "finish", "prepare", "resume", "train"]
