"""The inference layer: a loaded run's model applied in batches, one batch policy.

aekit.inference.batched encodes, decodes, reconstructs and samples (the sampler the
model declares) and picks the conditions of a conditional run; aekit.inference.images
runs a fully convolutional model over whole images of any size.
"""

from __future__ import annotations

from .batched import (
    BATCH,
    batched,
    check_codes,
    class_conditions,
    condition_values,
    data_conditions,
    decode,
    draw_codes,
    encode,
    posterior_stats,
    reconstruct,
    reconstruct_samples,
    sample,
    sample_conditions,
)

LAYER = "inference"  # the layer this package is; tests/test_layers.py reads it

__all__ = [
    "BATCH",
    "batched",
    "check_codes",
    "class_conditions",
    "condition_values",
    "data_conditions",
    "decode",
    "draw_codes",
    "encode",
    "posterior_stats",
    "reconstruct",
    "reconstruct_samples",
    "sample",
    "sample_conditions",
]
