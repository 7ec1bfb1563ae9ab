"""The run layer: the run directory is the artifact every later command reads.

RUN/config.json             model, data source and scaling, training config, versions
RUN/model.safetensors       best weights (by validation loss)
RUN/checkpoint.safetensors  last completed epoch, with optimizer state (resume)
RUN/history.csv             one row per epoch
RUN/metrics.json            figures of the best model on the validation split
RUN/code_stats.json         mean and covariance of the training codes
RUN/stages/NAME/            a second-stage fit (a learned prior), a run of its own
RUN/*.png, report.html      pictures
"""

from __future__ import annotations

from .codes import CODE_STATS, read_code_stats, sample_codes, write_code_stats
from .create import (
    check_run_dir,
    create_run_dir,
    default_run_dir,
    discard_replaced,
    release_run_dir,
    restore_replaced,
    seeded,
)
from .data import dataset_from, in_memory, load_inputs, run_data, run_splits
from .record import (
    CONFIG,
    FORMAT,
    FORMAT_VERSION,
    Run,
    as_run,
    build_run_model,
    load_run,
    read_run_config,
    versions,
    write_run_config,
)

LAYER = "run"  # the layer this package is; tests/test_layers.py reads it

__all__ = [
    "CODE_STATS",
    "CONFIG",
    "FORMAT",
    "FORMAT_VERSION",
    "Run",
    "as_run",
    "build_run_model",
    "check_run_dir",
    "create_run_dir",
    "release_run_dir",
    "dataset_from",
    "default_run_dir",
    "discard_replaced",
    "in_memory",
    "load_inputs",
    "load_run",
    "read_code_stats",
    "read_run_config",
    "restore_replaced",
    "run_data",
    "run_splits",
    "sample_codes",
    "seeded",
    "versions",
    "write_code_stats",
    "write_run_config",
]
