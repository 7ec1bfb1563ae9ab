"""Deterministic autoencoders (MLP or convolutional body, the classic regularisers):
the model in model.py, its config AutoencoderConfig in config.py."""
