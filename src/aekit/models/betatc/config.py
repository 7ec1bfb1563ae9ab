"""BetaTCVAEConfig: the beta-TC-VAE's options, torch-free."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import AekitError
from ..options import option
from ..vae.config import VAEConfig


@dataclass(frozen=True)
class BetaTCVAEConfig(VAEConfig):
    """beta-TC-VAE (aekit.models.betatc): the KL split into three weighted terms."""

    tc_weight: float = option(
        6.0,
        "weight of the total correlation term (beta of beta-TC-VAE)",
        metavar="B",
    )
    dataset_size: int = option(
        0, "training examples, for the minibatch-weighted estimator", cli=False
    )  # set from the data; 0: the batch is taken for the data set

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.tc_weight < 0:
            raise AekitError(f"tc_weight must be >= 0, got {self.tc_weight}")
        if self.dataset_size < 0:
            raise AekitError("dataset_size must be >= 0")
