"""VQ-VAE (van den Oord et al. 2017, https://arxiv.org/abs/1711.00937) and the
PixelCNN prior over its code grid (https://arxiv.org/abs/1606.05328): model.py,
pixelcnn.py, their configs in config.py."""
