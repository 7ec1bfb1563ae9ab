"""Image-to-image tasks beside reconstruction: colorization and semantic segmentation.

A task decides what the model's input and target are, how a run is scored and what
it writes; the models (U-Net, plain encoder-decoder, SegNet) and fit() are shared.
aekit.tasks.pipeline trains them as it trains autoencoders; `aekit evaluate` calls
`evaluate_task` for runs whose task is not "reconstruct".
"""

from __future__ import annotations

# name -> what the model learns; "reconstruct" is the autoencoders' own task
TASKS: dict[str, str] = {
    "reconstruct": "autoencoders: reproduce the input through a code",
    "colorize": "grayscale (L) image -> its colour (Lab a/b or RGB)",
    "segment": "image -> one class id per pixel",
}


def __getattr__(name: str):  # aekit.tasks.evaluate_task, as before, loaded lazily
    if name == "evaluate_task":
        from .apply import evaluate_task

        return evaluate_task
    raise AttributeError(f"module 'aekit.tasks' has no attribute {name!r}")


__all__ = ["TASKS", "evaluate_task"]
