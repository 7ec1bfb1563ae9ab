"""The Wasserstein autoencoder, MMD variant (aekit.models.wae.model)."""
