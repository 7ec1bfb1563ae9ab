"""The variational autoencoder (Kingma & Welling 2014, https://arxiv.org/abs/1312.6114):
the model in model.py, its config VAEConfig in config.py."""
