"""The training layer: the one loop, its config, batching, validation, checkpoints,
second stages, DDP, hardware (device, precision, threads) and input noise.

Importing this package loads nothing: the command line reads the training config
(aekit.training.config) without torch.
"""

LAYER = "training"  # the layer this package is; tests/test_layers.py reads it
