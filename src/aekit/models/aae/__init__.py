"""The adversarial autoencoder (aekit.models.aae.model)."""
