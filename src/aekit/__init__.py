"""aekit: autoencoders as courses teach them and practitioners use them.

Train, inspect, evaluate and deploy shallow, deep, convolutional, sparse, denoising
and variational autoencoders from one command or a few lines of Python.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .version import __version__

# name -> module, resolved on first use: `import aekit` stays cheap and inert
_EXPORTS = {
    "train": "api",
    "reconstruct": "api",
    "encode": "api",
    "decode": "api",
    "sample": "api",
    "denoise": "api",
    "info": "api",
    "datasets": "api",
    "load_run": "run",
    "Run": "run",
    "fit": "trainer",
    "TrainConfig": "trainer",
    "History": "trainer",
    "load_dataset": "data",
    "Dataset": "data",
    "Scaling": "data",
    "DATASETS": "data",
    "MODELS": "models",
    "build_model": "models",
    "AekitError": "errors",
    "Noise": "noise",
    "export_onnx": "export",
    "plot": "plots",
    "write_report": "report",
    "interpolate": "latent",
    "traverse": "latent",
    "attribute_vector": "attributes",
    "add_vector": "attributes",
    "edit": "attributes",
    "latent_arithmetic": "attributes",
    "redraw_as": "attributes",
    "evaluate": "evaluation",
    "detect": "anomaly",
    "colorize": "tasks.apply",
    "segment": "tasks.apply",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'aekit' has no attribute {name!r}")
