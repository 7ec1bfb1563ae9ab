"""beta-TC-VAE (Chen et al. 2018, https://arxiv.org/abs/1802.04942): the model in
model.py, its config BetaTCVAEConfig in config.py."""
