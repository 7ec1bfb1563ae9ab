"""WAEConfig: the WAE-MMD's options, beside its model."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import AekitError
from ..coded_config import CodedConfig
from ..options import option


@dataclass(frozen=True)
class WAEConfig(CodedConfig):
    # lambda = 10 for MNIST in Tolstikhin et al. 2018, section 4
    mmd_weight: float = option(10.0, "weight lambda of the MMD to N(0, I)", metavar="W")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.mmd_weight >= 0:
            raise AekitError(f"mmd_weight must be >= 0, got {self.mmd_weight}")
