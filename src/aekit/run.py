"""The run directory: what training leaves behind and every later command reads.

RUN/config.json          model, data source and scaling, training config, versions
RUN/model.safetensors    best weights (by validation loss)
RUN/checkpoint.safetensors  last completed epoch, with optimizer state (resume)
RUN/history.csv          one row per epoch
RUN/metrics.json         figures of the best model on the validation split
RUN/*.png, report.html   pictures
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .checkpoint import load_weights
from .data import Dataset, Scaling
from .errors import AekitError
from .io import read_json, write_json
from .models import Model, model_from_record, model_record
from .trainer import WEIGHTS, TrainConfig

FORMAT = "aekit-run"
FORMAT_VERSION = 1
CONFIG = "config.json"


@dataclass
class Run:
    """A trained model read back from its run directory, ready to use on the CPU."""

    path: Path
    model: Model  # eval mode
    model_name: str  # the registry name, e.g. "conv-vae"
    scaling: Scaling  # maps model values to the source's units
    train_config: TrainConfig
    record: dict[str, Any]  # the whole config.json
    history: Any = None  # the trainer's History when this Run came from training

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.record["data"]["sample_shape"])

    @property
    def classes(self) -> tuple[str, ...] | None:
        classes = self.record["data"].get("classes")
        return tuple(classes) if classes else None

    @property
    def data_spec(self) -> dict[str, Any]:
        return self.record["data"]

    @property
    def is_variational(self) -> bool:
        return hasattr(self.model, "encode_distribution")

    @property
    def task(self) -> str:
        return self.record.get("task", "reconstruct")

    @property
    def metrics(self) -> dict[str, Any]:
        path = self.path / "metrics.json"
        return read_json(path) if path.is_file() else {}


def write_run_config(
    out: Path,
    *,
    model_name: str,
    model: Model,
    data: Dataset,
    data_spec: dict[str, Any],
    train_config: TrainConfig,
    task: str = "reconstruct",
    n_train: int,
    n_val: int,
) -> dict[str, Any]:
    record = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "task": task,
        "model": model_record(model_name, model),
        "data": {
            **data_spec,
            "name": data.name,
            "sample_shape": list(data.sample_shape),
            "scaling": data.scaling.to_dict(),
            "classes": list(data.classes) if data.classes else None,
            "n_train": n_train,
            "n_val": n_val,
        },
        "training": dataclasses.asdict(train_config),
        "versions": versions(),
    }
    write_json(out / CONFIG, record)
    return record


def read_run_config(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise AekitError(f"no such run directory: {path}")
    if not (path / CONFIG).is_file():
        raise AekitError(f"{path} is not an aekit run directory (no {CONFIG})")
    record = read_json(path / CONFIG)
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise AekitError(f"{path / CONFIG} is not an aekit run configuration")
    version = record.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise AekitError(
            f"{path / CONFIG} has run format {version!r}, newer than this aekit reads "
            f"({FORMAT_VERSION}); upgrade aekit"
        )
    if (
        version < FORMAT_VERSION
    ):  # no older format exists yet; here is where it migrates
        raise AekitError(f"{path / CONFIG} has an unknown old run format {version}")
    for key in ("model", "data", "training"):
        if not isinstance(record.get(key), dict):
            raise AekitError(f"{path / CONFIG} lacks its {key!r} section")
    return record


def load_run(path: str | Path) -> Run:
    """Read a run back: config.json rebuilds the model, safetensors fills it."""
    path = Path(path)
    record = read_run_config(path)
    model = build_run_model(record, path)
    try:
        scaling = Scaling.from_dict(record["data"]["scaling"])
        train_config = TrainConfig(**record["training"])
    except (KeyError, TypeError) as e:
        raise AekitError(f"{path / CONFIG} is malformed: {e}") from e
    if not (path / WEIGHTS).is_file():
        raise AekitError(f"{path} holds no trained weights yet ({WEIGHTS} missing)")
    load_weights(path / WEIGHTS, model)
    model.eval()
    return Run(path, model, record["model"]["name"], scaling, train_config, record)


def build_run_model(record: dict[str, Any], path: Path) -> Model:
    """The untrained model a run's config.json describes."""
    try:
        return model_from_record(record["model"])
    except AekitError as e:
        raise AekitError(f"{path / CONFIG}: {e}") from e


def versions() -> dict[str, str]:
    from . import __version__

    return {
        "aekit": __version__,
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
