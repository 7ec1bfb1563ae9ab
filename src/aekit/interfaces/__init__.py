"""The interfaces: the command line, the Python API, the scikit-learn estimators, the
explorer, ONNX export, benchmarks and TensorBoard; wiring only, nothing imports them.

Importing this package loads nothing: `aekit --help` answers without torch.
"""

LAYER = "interfaces"  # the layer this package is; tests/test_layers.py reads it
