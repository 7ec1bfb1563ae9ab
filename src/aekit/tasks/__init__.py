"""Image-to-image tasks beside reconstruction: colorization and semantic segmentation.

A task decides what the model's input and target are, how a run is scored and what
it writes; the models (U-Net, plain encoder-decoder, SegNet) and fit() are shared.
`aekit.api.train(..., task=...)` routes here; `aekit evaluate` calls `evaluate_task`
for runs whose task is not "reconstruct".
"""

from __future__ import annotations

from .apply import evaluate_task
from .outputs import write_task_outputs
from .training import resume_task, train_task

# name -> what the model learns; "reconstruct" is the autoencoders' own task
TASKS: dict[str, str] = {
    "reconstruct": "autoencoders: reproduce the input through a code",
    "colorize": "grayscale (L) image -> its colour (Lab a/b or RGB)",
    "segment": "image -> one class id per pixel",
}

__all__ = ["TASKS", "evaluate_task", "resume_task", "train_task", "write_task_outputs"]
