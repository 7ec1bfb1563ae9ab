"""The analysis layer: read a trained run through the layers below and measure,
score and draw it (metrics, evaluation, likelihood, probes, clustering, anomaly
scores, latent paths, pictures, the report); nothing here trains.

Importing this package loads nothing.
"""

LAYER = "analysis"  # the layer this package is; tests/test_layers.py reads it
