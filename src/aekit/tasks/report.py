"""A colorize or segment run's pictures (history, predictions, IoU per class) and
its report.html, after training or drawn again later from its held-out patches."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ..analysis.plots.compose import figure_png
from ..analysis.report import write_html
from ..data import Dataset
from ..data.io import write_bytes
from ..run import Run, build_run_model
from ..run.create import seeded
from .image_outputs import predict_batches, task_pictures
from .training import task_data

if TYPE_CHECKING:
    from .image_task import ImageTask

log = logging.getLogger(__name__)


def write_task_pictures(
    task: ImageTask,
    run: Run,
    val: Dataset,
    *,
    pictures: bool = True,
    report: bool = True,
) -> dict[str, Path]:
    """The task pictures as PNG files (unless `pictures` is False) and report.html
    embedding them (unless `report` is False); a picture that fails is skipped."""
    try:
        figures = task_pictures(task, run, val, predict_batches(run.model, val.x))
    except Exception as e:  # a picture never costs the trained run or its metrics
        log.warning("no task pictures: %s", e)
        figures = {}
    pngs: dict[str, bytes | str] = {k: figure_png(f) for k, f in figures.items()}
    written: dict[str, Path] = {}
    if pictures:
        for kind, png in pngs.items():
            written[kind] = write_bytes(run.path / f"{kind}.png", png)
    if report:
        written["report"] = write_html(run, pngs, run.path / "report.html")
    return written


def write_task_report(task: ImageTask, run: Run, out: Path) -> Path:
    """The task's pictures and record as one page; the held-out patches are cut
    again as training cut them."""
    spec, config = run.data_spec, run.train_config
    net = seeded(config.seed, lambda: build_run_model(run.record, run.path))
    prepared = task_data(task, spec["source"], spec["options"], net, config)
    out_patches = predict_batches(run.model, prepared.val.x)
    figures = task_pictures(task, run, prepared.val, out_patches)
    return write_html(run, {k: figure_png(f) for k, f in figures.items()}, out)
