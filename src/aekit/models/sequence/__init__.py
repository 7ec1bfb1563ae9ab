"""Sequence autoencoders for (C, T) windows: 1-D convolutional and LSTM, plain or VAE
(model.py), their recurrent bodies (recurrent.py), their configs in config.py."""
