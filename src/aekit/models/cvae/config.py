"""CVAEConfig: the conditional VAE's options, torch-free."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import AekitError
from ..options import option
from ..vae.config import VAEConfig


@dataclass(frozen=True)
class CVAEConfig(VAEConfig):
    """A VAE whose encoder and decoder also see a condition (aekit.models.cvae)."""

    classes: int = option(
        10, "how many class labels the condition takes", cli=False
    )  # set from the data
    attributes: int = option(
        0, "width of attribute conditions; 0: the condition is a label", cli=False
    )  # set by --condition COL1,COL2
    # a conditional model's own default: a learned Gaussian p(z|c) per condition
    prior: str = option(
        "conditional",
        "prior over codes: conditional (a learned N(m_c, s_c^2) per condition), "
        "standard N(0, I), mog:K or vamp:K",
        metavar="conditional|standard|mog:K|vamp:K",
    )

    decoder_condition: str = option(
        "every",
        "where a conditional decoder sees the condition: every hidden layer, or "
        "its input (beside the code) only",
        choices=("every", "input"),
    )

    @property
    def takes_condition(self) -> bool:
        return True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.attributes < 0 or (self.attributes == 0 and self.classes < 1):
            raise AekitError("a conditional VAE needs classes >= 1 or attributes >= 1")
