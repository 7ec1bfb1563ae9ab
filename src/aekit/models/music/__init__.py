"""MusicVAE, the hierarchical music VAE (Roberts et al. 2018, https://arxiv.org/abs/1803.05428).

The config (config.py) imports no torch, so the registry can list it; the model
lives in model.py and the melody tokens in tokens.py.
"""
