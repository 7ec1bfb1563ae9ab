"""A run's prior and encoder distribution, built from its declared capabilities."""

from __future__ import annotations

from ..models.distributions import (
    FittedGaussian,
    LearnedCodePrior,
    ModelPrior,
    Posterior,
    Prior,
    posterior_of,
)
from ..run.codes import read_code_stats, sample_gaussian
from ..run.record import Run


def prior_of(run: Run) -> Prior:
    """The prior the run samples from: the model's, a fitted Gaussian, a learned
    prior over codes (a trained stage), or none."""
    sampler = run.capabilities.sampler
    if sampler == "prior":
        return ModelPrior(run.model)
    if sampler == "learned":
        from ..training.stages import load_stage

        return LearnedCodePrior(load_stage(run.path, "prior"))
    if sampler == "fitted":
        mean, cov = read_code_stats(run.path, run.model.latent_dim)
        return FittedGaussian(mean, cov, sample_gaussian)
    return Prior()


def posterior_of_run(run: Run) -> Posterior:
    caps = run.capabilities
    return posterior_of(run.model, caps.posterior, caps.codes)


def prior_kind(run: Run) -> str:
    """The prior's kind, read from the declaration without loading anything."""
    sampler = run.capabilities.sampler
    if sampler == "prior":
        return ModelPrior(run.model).kind
    return sampler or "none"


def walks_prior(run: Run) -> bool:
    """Pictures (manifold, traverse) walk the model's declared prior, not the codes."""
    return run.capabilities.sampler == "prior"
