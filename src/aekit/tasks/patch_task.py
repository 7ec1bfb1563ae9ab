"""An image-to-image task's Task methods: training on patches of whole images
(aekit.tasks.training), its outputs and report (.image_outputs, .report), its scores and
its use on whole images (.apply). Importable without torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .image_task import ImageTask
from .task import Prepared


class PatchTask(ImageTask):
    """An ImageTask wired to training, outputs, evaluation and application."""

    report_options: tuple[str, ...] | None = ()  # its report: the held-out patches

    def prepare(self, data, model, options, config) -> Prepared:
        from .training import prepare_task

        name, net, split, spec, settings = prepare_task(
            self, data, model, options, config
        )
        return Prepared(self.name, name, net, *split, spec, settings)

    def reprepare(self, path, record, config, *, start) -> Prepared:
        from ..run import build_run_model, seeded
        from .training import task_data

        net = seeded(config.seed, lambda: build_run_model(record, path))
        spec = record["data"]
        prepared = task_data(self, spec["source"], spec["options"], net, config)
        name = record["model"]["name"]
        return Prepared(self.name, name, net, prepared.train, prepared.val, spec)

    def write_outputs(self, run, prepared, history, *, pictures, report, fit_prior):
        from .image_outputs import write_task_outputs
        from .report import write_task_pictures

        write_task_outputs(self, run, prepared.train, prepared.val, history)
        write_task_pictures(self, run, prepared.val, pictures=pictures, report=report)

    def evaluate(self, run, data=None, **options) -> dict[str, Any]:
        from .apply import evaluate_task

        return evaluate_task(self, run, data, **options)

    def write_report(self, run, out: Path, **options: Any) -> Path:
        """The task's pictures on its held-out patches; the data and picture
        options of autoencoder reports do not apply and are refused."""
        from .report import write_task_report

        self.check_report_options(options)
        return write_task_report(self, run, out)

    def apply(self, run, inputs) -> list[Any]:
        from .apply import input_images

        return self.predict(run, input_images(inputs))
