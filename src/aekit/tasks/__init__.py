"""Tasks: what a run learns. Reconstruction (the autoencoders' own), colorization and
semantic segmentation, each one module implementing aekit.tasks.task.Task.

`TASKS` maps the name config.json records as "task" to its Task; every caller looks
a run's task up here (`task_named`) instead of branching on its name. A new task is
one module plus one line here. Importable without torch.
"""

from __future__ import annotations

from typing import Any

from ..errors import AekitError
from .colorize import COLORIZE
from .reconstruct import RECONSTRUCT
from .segment import SEGMENT
from .task import Task

LAYER = "tasks"  # the layer this package is; tests/test_layers.py reads it

TASKS: dict[str, Task] = {
    "reconstruct": RECONSTRUCT,
    "colorize": COLORIZE,
    "segment": SEGMENT,
}


def task_named(name: str) -> Task:
    """The registered task called `name` (as config.json records it)."""
    if name not in TASKS:
        raise AekitError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    return TASKS[name]


def evaluate(run: Any, data: Any = None, **options: Any) -> dict[str, Any]:
    """A run's evaluation by its task: the autoencoder suite
    (aekit.analysis.evaluation), or a task's own scores on whole images."""
    from ..run import as_run

    run = as_run(run)
    return task_named(run.task).evaluate(run, data, **options)


evaluate_task = evaluate  # its name before the Task registry

__all__ = ["TASKS", "Task", "evaluate", "evaluate_task", "task_named"]
