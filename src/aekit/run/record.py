"""A run's record (config.json) and the trained model read back from it.

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

from ..data import Dataset, Scaling
from ..data.io import read_json, write_json
from ..errors import AekitError
from ..models import Capabilities, ModelSpec, model_from_record, model_record, spec_of
from ..models.base import Model
from ..training.checkpoint import check_checkpoint, load_weights
from ..training.loop import WEIGHTS, TrainConfig
from .conditions import n_classes
from .readers import read_metrics

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
    def n_classes(self) -> int:
        """Label ids 0..n-1 that the data had (0 when it had no labels)."""
        return len(self.classes or ()) or int(self.record["data"].get("n_classes") or 0)

    @property
    def condition_columns(self) -> tuple[str, ...] | None:
        """The CSV columns a run is conditioned on (`--condition COL1,COL2`)."""
        columns = self.record["data"].get("condition")
        return tuple(columns) if isinstance(columns, list) else None

    @property
    def data_spec(self) -> dict[str, Any]:
        return self.record["data"]

    @property
    def spec(self) -> ModelSpec:
        return spec_of(self.model_name)

    @property
    def capabilities(self) -> Capabilities:
        return self.spec.capabilities

    @property
    def input_kind(self) -> str:
        """vector, image or sequence: what the run's samples are."""
        kind = self.record["data"].get("kind")
        return kind or ("image" if len(self.sample_shape) == 3 else "vector")

    @property
    def task(self) -> str:
        return self.record.get("task", "reconstruct")

    @property
    def metrics(self) -> dict[str, Any]:
        return read_metrics(self.path / "metrics.json")


def as_run(run: Run | str | Path) -> Run:
    """A Run, loading it when given its directory."""
    return run if isinstance(run, Run) else load_run(run)


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
    runtime: dict[str, Any] | None = None,
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
            "n_classes": n_classes(data),
            "feature_names": list(getattr(data, "feature_names", None) or []) or None,
            "n_train": n_train,
            "n_val": n_val,
        },
        "training": dataclasses.asdict(train_config),
        # what the training computed with: threads, processes (torchrun's world size)
        "runtime": runtime or {},
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
    if not isinstance(version, int) or isinstance(version, bool):
        raise AekitError(
            f"{path / CONFIG} has no valid format_version ({version!r}); it is "
            "damaged or was not written by aekit"
        )
    if version > FORMAT_VERSION:
        raise AekitError(
            f"{path / CONFIG} has run format {version!r}, newer than this aekit reads "
            f"({FORMAT_VERSION}); upgrade aekit"
        )
    if version < FORMAT_VERSION:  # no older format exists yet; migrate here
        raise AekitError(
            f"{path / CONFIG} has run format {version}, older than any this aekit "
            f"reads ({FORMAT_VERSION})"
        )
    for key in ("model", "data", "training"):
        if not isinstance(record.get(key), dict):
            raise AekitError(f"{path / CONFIG} lacks its {key!r} section")
    return record


def load_run(path: str | Path) -> Run:
    """Read a run back: config.json rebuilds the model, safetensors fills it."""
    path = Path(path)
    record = read_run_config(path)
    if not (path / WEIGHTS).is_file():
        raise AekitError(f"{path} holds no trained weights yet ({WEIGHTS} missing)")
    check_checkpoint(path / WEIGHTS, "weights")  # blame a bad file before config
    model = build_run_model(record, path, weights=path / WEIGHTS)
    try:
        scaling = Scaling.from_dict(record["data"]["scaling"])
        train_config = TrainConfig(**record["training"])
        shape = record["data"]["sample_shape"]
        if not (isinstance(shape, list) and all(_positive_int(v) for v in shape)):
            raise ValueError(f"sample_shape {shape!r} is not a list of sizes")
        wants = getattr(getattr(model, "config", None), "input_shape", None)
        if wants is not None and tuple(shape) != tuple(wants):
            raise ValueError(
                f"the data's sample_shape {shape} is not the model's input_shape "
                f"{list(wants)}"
            )
    except (KeyError, TypeError, ValueError) as e:  # AekitError is a ValueError
        raise AekitError(f"{path / CONFIG} is malformed: {_one_line(e)}") from e
    load_weights(path / WEIGHTS, model)
    bad = [k for k, t in model.state_dict().items() if not torch.isfinite(t).all()]
    if bad:
        raise AekitError(
            f"{path / WEIGHTS} holds NaN or inf weights ({bad[0]}); the run diverged "
            "or the file was altered, so its outputs would be meaningless"
        )
    model.eval()
    return Run(path, model, record["model"]["name"], scaling, train_config, record)


def build_run_model(
    record: dict[str, Any], path: Path, *, weights: Path | None = None
) -> Model:
    """The untrained model a run's config.json describes.

    With `weights` (the file that will fill it), the model is first built on the
    meta device, which allocates nothing: a damaged or hand-edited config.json
    describing a model bigger than that file is refused before memory is taken.
    """
    try:
        if weights is not None and weights.is_file():
            with torch.device("meta"):
                shapes = model_from_record(record["model"]).state_dict().values()
            need = sum(t.numel() * t.element_size() for t in shapes)
            if need > weights.stat().st_size:
                raise AekitError(
                    f"describes a model of {need:,} bytes, but {weights.name} holds "
                    f"only {weights.stat().st_size:,}: the two do not belong together"
                )
        return model_from_record(record["model"])
    except (AekitError, TypeError, ValueError, RuntimeError, OverflowError) as e:
        raise AekitError(f"{path / CONFIG}: {_one_line(e)}") from e


def _one_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def versions() -> dict[str, str]:
    from ..version import __version__

    return {
        "aekit": __version__,
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
