"""Second-stage fits: a model trained on what a finished run produces (a learned
prior over its codes), kept in the run directory as RUN/stages/NAME/.

A stage is trained by the same loop as the run (aekit.training.loop.fit), so it has its
own best weights, checkpoint and history, and resumes like any run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ..data.io import read_json, write_json
from ..errors import AekitError
from ..models import model_from_record, model_record
from ..models.base import Model
from .checkpoint import check_checkpoint, load_weights
from .config import TrainConfig
from .loop import WEIGHTS, History, Progress, fit

STAGES = "stages"
RECORD = "stage.json"


def stage_dir(run_dir: Path, name: str) -> Path:
    return Path(run_dir) / STAGES / name


def fit_stage(
    run_dir: Path,
    name: str,
    model: Model,
    train: Any,
    val: Any,
    config: TrainConfig,
    *,
    resume: bool = False,
    progress: Progress | None = None,
) -> History:
    """Train `model` (a registered model) as stage `name` of the run in `run_dir`."""
    out = stage_dir(run_dir, name)
    out.mkdir(parents=True, exist_ok=True)
    if not resume:
        write_json(
            out / RECORD,
            {
                "format": "aekit-stage",
                "model": model_record(model.name, model),
                "training": dataclasses.asdict(config),
            },
        )
    return fit(model, train, val, config, out=out, resume=resume, progress=progress)


def has_stage(run_dir: Path, name: str) -> bool:
    return (stage_dir(run_dir, name) / WEIGHTS).is_file()


def load_stage(run_dir: Path, name: str) -> Model:
    """A stage's best model, in eval mode on the CPU."""
    path = stage_dir(run_dir, name)
    if not has_stage(run_dir, name):
        raise AekitError(
            f"{run_dir} has no fitted {name} (no {STAGES}/{name}/{WEIGHTS}); "
            "fit it again with `aekit fit-prior RUN`"
        )
    record = read_json(path / RECORD)
    if not isinstance(record, dict) or record.get("format") != "aekit-stage":
        raise AekitError(f"{path / RECORD} is not an aekit stage record")
    check_checkpoint(path / WEIGHTS, "weights")
    try:
        model = model_from_record(record["model"])
    except (KeyError, TypeError) as e:
        raise AekitError(f"{path / RECORD} is malformed ({e})") from e
    load_weights(path / WEIGHTS, model)
    return model.eval()
