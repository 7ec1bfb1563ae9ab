"""VAE-GAN (Larsen et al. 2016, https://arxiv.org/abs/1512.09300): the model in
model.py, its config VAEGANConfig in config.py."""
