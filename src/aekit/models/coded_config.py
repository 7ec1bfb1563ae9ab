"""CodedConfig: the body and code options of the deterministic-code families."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import AekitError
from .configs import (
    ACTIVATION_NAMES,
    OUTPUTS,
    check_choice,
    check_numbers,
    positive_int_tuple,
)
from .options import option


@dataclass(frozen=True)
class CodedConfig:
    """The body and code options of a deterministic-code family (wae, aae): an MLP
    body always, so no conv option."""

    # fields older runs recorded that no longer exist: dropped when such a run loads
    # (the MLP body never read them)
    RETIRED: ClassVar[tuple[str, ...]] = ("channels", "upsample")
    input_shape: tuple[int, ...] = option((), "(C, H, W) or (D,)", cli=False)
    latent_dim: int = option(8, "code size", metavar="N")
    body: str = option("mlp", "always mlp", cli=False)  # the registry name fixes it
    hidden: tuple[int, ...] = option((512, 256), "MLP widths", metavar="W,W,...")
    activation: str = option("relu", "hidden activation", choices=ACTIVATION_NAMES)
    output: str = option("sigmoid", "set from the data's scaling", cli=False)

    def __post_init__(self) -> None:
        check_numbers(self)
        shape = positive_int_tuple(self.input_shape, "input_shape", allow_empty=True)
        hidden = positive_int_tuple(self.hidden, "hidden", allow_empty=True)
        object.__setattr__(self, "input_shape", shape)
        object.__setattr__(self, "hidden", hidden)
        dim = self.latent_dim
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise AekitError(f"latent_dim must be at least 1, got {dim}")
        check_choice(self.activation, ACTIVATION_NAMES, "activation")
        check_choice(self.output, OUTPUTS, "output")
