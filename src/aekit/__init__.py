"""aekit: autoencoders as courses teach them and practitioners use them.

Train, inspect, evaluate and deploy shallow, deep, convolutional, sparse, denoising
and variational autoencoders from one command or a few lines of Python.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .version import __version__

LAYER = "interfaces"  # the package root: lazy names for the facade

# name -> module, resolved on first use: `import aekit` stays cheap and inert
_EXPORTS = {
    "train": "interfaces.api",
    "reconstruct": "interfaces.api",
    "encode": "interfaces.api",
    "decode": "interfaces.api",
    "sample": "interfaces.api",
    "denoise": "interfaces.api",
    "info": "interfaces.api",
    "datasets": "interfaces.api",
    "load_run": "run",
    "Run": "run",
    "fit": "training.loop",
    "TrainConfig": "training.loop",
    "History": "training.loop",
    "load_dataset": "data",
    "Dataset": "data",
    "Scaling": "data",
    "DATASETS": "data",
    "MODELS": "models",
    "build_model": "models",
    "AekitError": "errors",
    "Noise": "training.noise",
    "export_onnx": "interfaces.export",
    "plot": "analysis.plots",
    "write_report": "analysis.report",
    "interpolate": "analysis.latent",
    "traverse": "analysis.latent",
    "attribute_vector": "analysis.attributes",
    "add_vector": "analysis.attributes",
    "edit": "analysis.attributes",
    "latent_arithmetic": "analysis.attributes",
    "redraw_as": "analysis.attributes",
    "evaluate": "tasks",
    "detect": "analysis.anomaly",
    "colorize": "tasks.colorize",
    "segment": "tasks.segment",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'aekit' has no attribute {name!r}")
