"""Image-to-image models for the colorize and segment tasks: U-Net and the plain
encoder-decoder (unet.py), SegNet (segnet.py), their configs in config.py."""
