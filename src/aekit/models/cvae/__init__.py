"""The conditional VAE (Sohn et al. 2015, https://papers.nips.cc/paper/5775): the
model in model.py, its config CVAEConfig in config.py."""
