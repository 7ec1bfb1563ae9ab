"""Data loading: every source becomes a Dataset of float32 samples and its Scaling."""

from __future__ import annotations

from .builtin import DATASETS
from .dataset import Dataset, Scaling, check_finite
from .music import load_music, piano_roll_to_midi
from .series import load_series
from .sources import load_dataset
from .stream import StreamDataset, open_stream
from .windows import window_scores_to_steps, windows_to_series

LAYER = "data"  # the layer this package is; tests/test_layers.py reads it

__all__ = [
    "DATASETS",
    "Dataset",
    "Scaling",
    "StreamDataset",
    "check_finite",
    "load_dataset",
    "load_music",
    "load_series",
    "open_stream",
    "piano_roll_to_midi",
    "window_scores_to_steps",
    "windows_to_series",
]
