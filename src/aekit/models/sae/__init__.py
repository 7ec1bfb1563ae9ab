"""Sparse autoencoders for interpretability (dictionary learning on activations):
ReLU + L1, TopK, BatchTopK and JumpReLU, with AuxK and dead-latent resampling."""

from .config import FAMILIES, SAEConfig

__all__ = ["FAMILIES", "SAEConfig"]
