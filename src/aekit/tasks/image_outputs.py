"""What a finished image-to-image training leaves in its run: metrics.json, and the
pieces its pictures are drawn from (predictions, class colours, IoU per class)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from matplotlib.figure import Figure

from ..data import Dataset
from ..data.io import write_json
from ..inference import batched
from ..run import Run

if TYPE_CHECKING:
    from .image_task import ImageTask

log = logging.getLogger(__name__)

N_SHOWN = 8  # validation patches in predictions.png
DOMINANT_SHARE = 0.95  # a class predicted on more of the pixels than this is warned of


def predict_batches(
    model: torch.nn.Module, x: torch.Tensor, batch: int = 64
) -> torch.Tensor:
    """Outputs for equally sized inputs (N, C, H, W), in eval mode, on the CPU."""
    device = next(model.parameters()).device
    model.eval()
    return batched(lambda xb: model(xb.to(device)).float().cpu(), x, batch_size=batch)


def task_settings(run: Run) -> dict[str, Any]:
    return run.data_spec.get("task") or {}


def write_task_outputs(
    task: ImageTask, run: Run, train: Dataset, val: Dataset, history: Any
) -> dict[str, Path]:
    """metrics.json: loss terms and task scores on the validation patches
    (aekit.tasks.report draws the pictures and the report)."""
    out = predict_batches(run.model, val.x)
    best = next(r for r in history.rows if r["epoch"] == history.best_epoch)
    metrics: dict[str, Any] = {
        "task": run.task,
        "best_epoch": history.best_epoch,
        "epochs_run": len(history.rows),
        "stop_reason": history.stop_reason,
        "train_seconds": round(sum(r["seconds"] for r in history.rows), 3),
        "parameters": sum(p.numel() for p in run.model.parameters()),
        **{k: v for k, v in best.items() if k.startswith("val_")},
    }
    scores = task.patch_scores(run, val, out)
    metrics |= {f"val_{k}": v for k, v in scores.items()}
    warnings = task.warnings(run, out)
    for warning in warnings:
        log.warning("%s", warning)
    if warnings:
        metrics["warnings"] = warnings
    return {"metrics": write_json(run.path / "metrics.json", metrics)}


def task_pictures(
    task: ImageTask, run: Run, val: Dataset, out: torch.Tensor
) -> dict[str, Figure]:
    """A task run's own pictures: training curves, predictions beside the truth
    and the task's own (segment: each class's IoU on the held-out patches)."""
    from ..analysis.plots.kinds import PictureOptions, history

    return {
        "history": history(run, None, PictureOptions()),
        "predictions": task.predictions_figure(run, val, out),
        **task.extra_figures(run, val, out),
    }


def class_iou_figure(run: Run, scores: dict[str, Any]) -> Figure:
    """One bar per class: its intersection over union on the held-out patches."""
    names = [k[4:] for k in scores if k.startswith("iou_")]
    values = [scores[f"iou_{n}"] for n in names]
    fig = Figure(figsize=(max(4.0, 0.6 * len(names) + 2), 3.2), layout="constrained")
    ax = fig.subplots()
    ax.bar(range(len(names)), [v if v is not None else 0.0 for v in values])
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("IoU")
    ax.set_title(
        f"{run.path.name}: IoU per class (mean {scores['miou']:.3f}, "
        f"pixel accuracy {scores['pixel_accuracy']:.3f})"
    )
    for i, v in enumerate(values):
        if v is None:
            ax.text(i, 0.02, "absent", ha="center", rotation=90, fontsize=8)
    return fig


def dominant_class_warning(
    predicted: np.ndarray, classes: Any, share: float = DOMINANT_SHARE
) -> str | None:
    """A warning when one class takes more than `share` of the predicted pixels
    (a model that has learned only the background, say); None otherwise."""
    counts = np.bincount(np.asarray(predicted).reshape(-1))
    if counts.sum() == 0:
        return None
    top = int(counts.argmax())
    fraction = counts[top] / counts.sum()
    if fraction <= share:
        return None
    name = class_names(classes, top + 1)[top]
    return (
        f"class {name!r} is predicted on {fraction:.1%} of the held-out pixels: the "
        "model may not have learned the other classes yet (train longer, or "
        "--class-weights auto)"
    )


def class_names(classes: Any, n: int) -> list[str]:
    """The names of the first `n` class ids (numbers where a run has none)."""
    names = list(classes or [])
    return [names[i] if i < len(names) else str(i) for i in range(n)]


def add_class_legend(
    fig: Figure, palette: np.ndarray, classes: Any, n_classes: int
) -> Figure:
    """One coloured patch per class with its name, below the pictures."""
    from matplotlib.patches import Patch

    names = class_names(classes, n_classes)
    handles = [
        Patch(facecolor=palette[i], edgecolor="black", label=name)
        for i, name in enumerate(names)
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(6, len(names)))
    return fig


def class_colours(ids: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """(H, W) class ids -> (H, W, 3) palette colours; ignored pixels white."""
    known = ids < len(palette)
    out = np.ones((*ids.shape, 3), np.float32)
    out[known] = palette[ids[known]]
    return out


def as_chw(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images).transpose(0, 3, 1, 2).astype(np.float32))
