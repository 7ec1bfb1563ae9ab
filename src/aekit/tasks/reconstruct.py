"""The reconstruction task: autoencoders reproduce their input through a code.

Training is aekit.tasks.autoencoding; evaluation and the report are the analysis
layer's (aekit.analysis.evaluation, aekit.analysis.report). Importable without torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .task import Prepared, Task

EVALUATE_OPTIONS = (
    "normal_classes",
    "anomaly_labels",
    "k",
    "nll_examples",
    "probe",
    "compress",
    "samples",
    "seed",
    "factors",
    "progress",
)


class Reconstruct(Task):
    name = "reconstruct"
    summary = "autoencoders: reproduce the input through a code"
    evaluate_options = EVALUATE_OPTIONS

    @property
    def noun(self) -> str:
        return "an autoencoder"

    def prepare(self, data, model, options, config) -> Prepared:
        from .autoencoding import prepare_reconstruction

        return prepare_reconstruction(data, model, options, config)

    def reprepare(self, path, record, config, *, start) -> Prepared:
        from .autoencoding import reprepare_reconstruction

        return reprepare_reconstruction(path, record, config, start=start)

    def write_outputs(self, run, prepared, history, *, pictures, report, fit_prior):
        from .autoencoding import write_reconstruction_outputs

        write_reconstruction_outputs(
            run,
            prepared,
            history,
            pictures=pictures,
            report=report,
            fit_prior=fit_prior,
        )

    def evaluate(self, run, data=None, **options) -> dict[str, Any]:
        from ..analysis.evaluation import evaluate

        return evaluate(run, data, **options)

    def write_report(self, run, out: Path, **options: Any) -> Path:
        from ..analysis.report import write_report

        return write_report(run, out=out, **options)


RECONSTRUCT = Reconstruct()
