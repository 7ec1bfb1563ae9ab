"""The contract every aekit model keeps, so the trainer and tools need know no more."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .optimisation import Phase

Condition = torch.Tensor | None  # (B,) class indices or (B, K) attribute vectors


class Model(nn.Module):
    """encode(x, c) -> z, decode(z, c) -> x_hat, forward(x, c), loss(x, target, c).

    `c` is an optional condition: a class index or a vector of attributes per
    example. Models whose registry entry is not `conditional` ignore it, so every
    caller may pass what the data has. `loss` returns a dict of scalar tensors that
    must hold "loss" (what the first optimiser minimises); a model that trains with
    several optimisers (Capabilities.optimisers) names its parameter groups in
    `parameter_groups` and returns "<group>_loss" for each group after the first.
    Every other key is logged as its own column. `x_hat` is in model units, after
    the output activation, so it can be compared with `x` directly.
    """

    config: Any  # a frozen dataclass; the checkpoint stores it and rebuilds from it
    name: str = ""  # the registry name; build_model and model_from_record set it
    # True once init_from_data made the initial weights a solution (a PCA start):
    # the trainer then scores them too, so training can only keep or improve them
    starts_at_solution: bool = False
    # the validation term that picks the best checkpoint: reconstruction or ELBO,
    # never an adversarial term (the loop reads it)
    selection_metric: str = "loss"
    # versions of each training sample the model draws on the fly (augmentation);
    # the default step budget counts the data this many times (training.budget)
    data_views: int = 1

    def absent_state(self) -> dict[str, torch.Tensor]:
        """State a run saved before it existed loads as: name -> value (the
        checkpoint loader fills what a file lacks from here; none by default)."""
        return {}

    def encode(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        raise NotImplementedError  # (B, *shape) -> (B, latent)

    def decode(self, z: torch.Tensor, c: Condition = None) -> torch.Tensor:
        raise NotImplementedError  # (B, latent) -> (B, *shape)

    def forward(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        return self.decode(self.encode(x, c), c)

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: Condition = None
    ) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def prior_codes(self, eps: torch.Tensor, c: Condition = None) -> torch.Tensor:
        """Codes drawn from the model's prior, given standard-normal `eps` (n, d):
        N(0, I) as it is; richer priors (mixtures) transform it."""
        return eps

    def prior_name(self) -> str:
        """The prior in words, for titles: what a sample's code is drawn from."""
        return "the prior N(0, I)"

    def prior_moments(
        self, c: Condition = None
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(mean, std), each (latent,), of a Gaussian prior under one condition c:
        N(0, I) here; None where the prior is no single Gaussian (a mixture).
        Pictures that walk the prior (manifold, traverse) read it."""
        d = self.latent_dim
        return torch.zeros(d), torch.ones(d)

    def log_prior(self, z: torch.Tensor, c: Condition = None) -> torch.Tensor:
        """log p(z) (p(z|c) for a conditional prior) per row of z (B, d): N(0, I)
        unless a family's prior differs (aekit.analysis.likelihood's estimates use
        it)."""
        return -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)

    def prior_fit(self, codes: torch.Tensor, *, seed: int = 0) -> dict[str, Any] | None:
        """How well codes (N, latent) of the evaluation data match the prior, by the
        family's own measure (a WAE's MMD, an AAE's discriminator accuracy), for
        `aekit evaluate`; None where a family has none."""
        return None

    def init_from_data(self, x: torch.Tensor) -> None:
        """Called once with (a sample of) the training data before the first step,
        never on resume; models that start from the data (PCA) override it."""

    def set_epoch(self, epoch: int) -> None:
        """Called by the trainer before each epoch; models with schedules use it."""

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """One optimiser per group, in order; the first group minimises "loss"."""
        return {"model": [p for p in self.parameters() if p.requires_grad]}

    def optimisation(self) -> tuple[Phase, ...]:
        """The optimisers this model trains with, one Phase per parameter group, in
        the order each batch steps them (aekit.models.optimisation). The default:
        one AdamW on "loss"; a model with more groups steps them together, each on
        its own "<group>_loss", on one forward pass."""
        names = list(self.parameter_groups())
        return tuple(
            Phase(name, "loss" if i == 0 else f"{name}_loss", with_previous=i > 0)
            for i, name in enumerate(names)
        )

    @property
    def latent_dim(self) -> int:
        return int(self.config.latent_dim)
