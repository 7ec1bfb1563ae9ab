"""The checks and settings of a training run that the pipeline applies before it
trains: input kinds, class names, the resolved precision, the recorded threads."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Any

import torch

from ..errors import AekitError
from ..models import spec_of
from ..models.base import Model
from ..models.choice import choose_model
from ..training import distributed, hardware
from ..training.budget import model_budget
from ..training.config import TrainConfig
from ..training.hardware import resolve_device, resolve_precision
from ..training.optim import resolve_schedule

log = logging.getLogger(__name__)


def resolved(config: TrainConfig, model: Model, n_train: int) -> TrainConfig:
    """The config with what "auto" and the data size resolve to here (precision,
    the step budget), so that the record says what was used and a resumed run
    uses it again."""
    device = distributed.local_device(resolve_device(config.device))
    ranks = int(os.environ.get("WORLD_SIZE", "1"))
    precision = resolve_precision(
        config.precision, device, model, config.batch_size // max(ranks, 1)
    )
    config = model_budget(config, n_train, ranks, model)
    config = resolve_schedule(config, model)
    return dataclasses.replace(config, precision=precision)


def chosen(model: str | None, data: Any) -> tuple[str, dict[str, Any]]:
    """The model to train and the record of what was chosen for the user and why:
    the model (when not named) and how the series were read and cut."""
    record: dict[str, Any] = {}
    if model is None:
        model, reason = choose_model(data)
        record["model"] = {"name": model, "reason": reason}
        log.info("model %s: %s (--model names another)", model, reason)
    series = getattr(data, "series", None)
    if series is not None and series.chosen:
        record["series"] = list(series.chosen)
        for note in series.chosen:
            log.info("series: %s", note)
    return model, record


def recorded_config(training: dict[str, Any]) -> TrainConfig:
    """A run's recorded training settings; runs recorded before the step budget
    stopped early with no step floor."""
    return TrainConfig(**{"min_steps": 0, **training})


def reuse_threads(record: dict[str, Any]) -> None:
    """A resumed run computes with the thread count it recorded (float sums differ
    between counts), unless the user chose one (--threads)."""
    threads = (record.get("runtime") or {}).get("threads")
    if isinstance(threads, int) and threads >= 1 and not hardware.THREADS_CHOSEN:
        torch.set_num_threads(min(threads, hardware.usable_cores()))


def read_class_names(path: str | Path, data: Any) -> tuple[str, ...]:
    """One name per line, in label id order; at least one per label in the data."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise AekitError(f"cannot read class names from {path}: {e}") from e
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    y = getattr(data, "y", None)
    if y is None:
        raise AekitError(f"--class-names {path}: {data.name} has no labels to name")
    needed = int(y.max()) + 1
    if len(names) < needed:
        raise AekitError(
            f"{path} names {len(names)} classes, but the labels go up to {needed - 1}"
        )
    return names


def check_input_kind(name: str, data: Any) -> None:
    kind = getattr(data, "kind", None) or kind_of(data)
    accepted = spec_of(name).capabilities.inputs
    if kind not in accepted:
        raise AekitError(
            f"model {name!r} takes {' or '.join(accepted)} data, but {data.name} "
            f"holds {kind}s"
        )


def kind_of(data: Any) -> str:
    return "image" if len(data.sample_shape) == 3 else "vector"


def scaling(record: dict[str, Any]) -> Any:
    from ..data import Scaling

    try:
        return Scaling.from_dict(record["data"]["scaling"])
    except (KeyError, TypeError, ValueError) as e:
        raise AekitError(f"config.json: data scaling is malformed ({e})") from e


def epochs_done(state: dict[str, str]) -> int | None:
    """Completed epochs a training checkpoint's metadata records, if it says."""
    try:
        return len(json.loads(state["state"])["rows"])
    except (KeyError, TypeError, ValueError):
        return None


def check_fit_prior(model: str, fit_prior: bool) -> None:
    """Skipping the learned prior (--no-prior) means something only to a model that
    samples through one; to any other it is an option it ignores, so refused."""
    if not fit_prior and spec_of(model).capabilities.sampler != "learned":
        raise AekitError(
            f"--no-prior (fit_prior=False) skips a learned prior, and model {model!r} "
            "has none; it is for models that sample through one (vq-vae)"
        )
