"""Data loading: every source becomes a Dataset of float32 samples and its Scaling."""

from __future__ import annotations

from .builtin import DATASETS
from .dataset import Dataset, Scaling, check_finite
from .sources import load_dataset
from .stream import StreamDataset, open_stream

__all__ = [
    "DATASETS",
    "Dataset",
    "Scaling",
    "StreamDataset",
    "check_finite",
    "load_dataset",
    "open_stream",
]
