"""What an image-to-image task decides: how its pairs are read (input -> target), the
model settings the data decide (channels, output, loss), its metric, its pictures
and what applying it writes.

aekit.tasks.training, .image_outputs, .report and .apply run the rest for any ImageTask;
aekit.tasks.patch_task wires them to the Task interface. Importable without torch.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .task import Task

if TYPE_CHECKING:
    import numpy as np
    import torch
    from matplotlib.figure import Figure

    from ..data import Dataset
    from ..data.paired import ImagePairs
    from ..run import Run

PATCH_OPTIONS = ("patch_size", "patches_per_image")  # every image task cuts patches


class ImageTask(Task):
    """An image-to-image task trained on patches of whole images (a model without
    a code: U-Net, encoder-decoder, SegNet), scored on whole images."""

    default_model = "unet"
    evaluate_options: tuple[str, ...] = ()

    # -- what a subclass decides ---------------------------------------------------
    @abstractmethod
    def read_source(self, data: Any, opts: dict[str, Any]) -> ImagePairs:
        """Whole images (and targets) of a source that is not a demo name."""

    @abstractmethod
    def check_pairs(self, pairs: ImagePairs) -> ImagePairs:
        """The pairs this task can train on (or a clear error)."""

    @abstractmethod
    def model_options(self, pairs: ImagePairs, opts: dict[str, Any]) -> dict[str, Any]:
        """Model settings the task and data decide: channels, output, loss, weights."""

    @abstractmethod
    def patches(
        self, part: ImagePairs, size: int, opts: dict[str, Any], *, seed: int
    ) -> Dataset:
        """Training pairs cut from whole images: input patches and their targets."""

    @abstractmethod
    def settings(self, pairs: ImagePairs, opts: dict[str, Any]) -> dict[str, Any]:
        """What inference needs later (colour space, palette, ...), in config.json."""

    @abstractmethod
    def predict(self, run: Run, pairs: ImagePairs) -> list[np.ndarray]:
        """The run's prediction for each whole image, any size."""

    @abstractmethod
    def patch_scores(self, run: Run, val: Dataset, out: torch.Tensor) -> dict[str, Any]:
        """The task's metric on held-out patches and the model's outputs for them."""

    @abstractmethod
    def image_scores(self, run: Run, pairs: ImagePairs) -> dict[str, Any]:
        """The task's metric on whole images with their truth."""

    @abstractmethod
    def predictions_figure(self, run: Run, val: Dataset, out: torch.Tensor) -> Figure:
        """Held-out patches: input, prediction and truth."""

    def extra_figures(
        self, run: Run, val: Dataset, out: torch.Tensor
    ) -> dict[str, Figure]:
        """Pictures beyond history and predictions (segment: IoU per class)."""
        return {}

    def warnings(self, run: Run, out: torch.Tensor) -> list[str]:
        """Warnings about the held-out outputs, kept in metrics.json."""
        return []

    def evaluation_options(self, run: Run, options: dict[str, Any]) -> dict[str, Any]:
        """How to read data named for evaluating a run (its masks, ...)."""
        return dict(options)

    def accepts_model(self, spec: Any) -> bool:
        """Whether a registered model (its ModelSpec) can learn this task: the
        models declare the tasks they serve."""
        return self.name in spec.capabilities.tasks

    # -- shared --------------------------------------------------------------------
    def read_pairs(
        self, data: Any, opts: dict[str, Any], split: str = "train"
    ) -> ImagePairs:
        """Whole images (and targets) of the task's data: a demo name, a folder,
        files, or ImagePairs."""
        from ..data.demo import IMAGE_DEMOS, demo_pairs
        from ..data.paired import ImagePairs

        if isinstance(data, ImagePairs):
            pairs = data
        elif isinstance(data, (str, Path)) and str(data) in IMAGE_DEMOS:
            pairs = demo_pairs(str(data), split)
        else:
            pairs = self.read_source(data, opts)
        return self.check_pairs(pairs)
