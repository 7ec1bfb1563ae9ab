"""Configuration of the sparse autoencoders used for dictionary learning on a
network's activations: ReLU + L1 (Bricken et al. 2023, "Towards Monosemanticity"),
TopK (Gao et al. 2024, https://arxiv.org/abs/2406.04093), BatchTopK (Bussmann et al.
2024, https://arxiv.org/abs/2412.06410) and JumpReLU (Rajamanoharan et al. 2024,
https://arxiv.org/abs/2407.14435). A frozen dataclass, importable without torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...errors import AekitError
from ..configs import check_choice, check_numbers, positive_int_tuple
from ..options import option

FAMILIES = ("relu-l1", "topk", "batch-topk", "jumprelu")
EXPANSION = 8  # the dictionary's default size: this many times the input width
# each family's own options, and what 0 (unset) stands for; another family refuses them
USES = {
    "k": ("topk", "batch-topk"),
    "l1": ("relu-l1",),
    "threshold": ("jumprelu",),
    "bandwidth": ("jumprelu",),
    "l0_weight": ("jumprelu",),
}
DEFAULTS = {"l1": 1.0, "threshold": 0.1, "bandwidth": 0.05, "l0_weight": 1.0}


@dataclass(frozen=True)
class SAEConfig:
    input_shape: tuple[int, ...] = option((), "(D,) or any shape", cli=False)
    latent_dim: int = option(
        0,
        "code size: the dictionary's latents (SAE: 0 means 8x the input width)",
        metavar="N",
        shown="16, 8x the input width for sae",
    )
    sae: str = option("topk", "SAE: the sparse family", choices=FAMILIES)
    k: int = option(
        0,
        "SAE: active latents per input (topk, batch-topk; 0: 32, or the "
        "dictionary's size if smaller)",
        shown="0",
    )
    l1: float = option(
        0.0,
        "SAE: weight of the L1 penalty, sum |f_i| ||d_i|| (relu-l1; 0: "
        f"{DEFAULTS['l1']:g})",
        metavar="W",
    )
    threshold: float = option(
        0.0,
        "SAE: initial JumpReLU threshold, in the SAE's units (inputs scaled by "
        f"one number to E||x|| = sqrt(D)) (jumprelu; 0: {DEFAULTS['threshold']:g})",
        metavar="T",
    )
    bandwidth: float = option(
        0.0,
        "SAE: width of the straight-through kernel of the JumpReLU threshold "
        f"(jumprelu; 0: {DEFAULTS['bandwidth']:g})",
        metavar="EPS",
    )
    l0_weight: float = option(
        0.0,
        f"SAE: weight of the L0 penalty (jumprelu; 0: {DEFAULTS['l0_weight']:g})",
        metavar="W",
    )
    aux_k: int = option(
        0,
        "SAE: dead latents the AuxK loss reconstructs the residual with "
        "(0: half the input width; -1: no AuxK)",
        metavar="N",
    )
    aux_weight: float = option(1 / 32, "SAE: weight of the AuxK loss", metavar="W")
    dead_steps: int = option(
        200,
        "SAE: training steps a latent may stay silent before it counts as dead",
        metavar="STEPS",
    )
    resample_every: int = option(
        0,
        "SAE: every this many steps re-initialise dead latents at badly "
        "reconstructed inputs (0: never)",
        metavar="STEPS",
    )
    output: str = option("identity", "the SAE's output is linear", cli=False)

    def __post_init__(self) -> None:
        check_numbers(self)
        set_ = object.__setattr__
        shape = positive_int_tuple(self.input_shape, "input_shape", allow_empty=False)
        set_(self, "input_shape", shape)
        width = math.prod(shape)
        if self.latent_dim == 0:
            set_(self, "latent_dim", EXPANSION * width)
        check_choice(self.sae, FAMILIES, "sae family")
        if self.output != "identity":
            raise AekitError("an SAE reconstructs with a linear output (identity)")
        if not isinstance(self.latent_dim, int) or self.latent_dim < 1:
            raise AekitError(f"latent_dim must be at least 1, got {self.latent_dim}")
        for name, families in USES.items():
            value = getattr(self, name)
            if self.sae not in families:
                if value != 0:
                    raise AekitError(
                        f"--{name.replace('_', '-')} is an option of sae "
                        f"{' and '.join(families)}, not {self.sae}"
                    )
                continue
            if value < 0:
                raise AekitError(f"{name} must not be negative, got {value}")
            if value == 0:
                set_(self, name, DEFAULTS.get(name, min(32, self.latent_dim)))
        if "topk" in self.sae and self.k > self.latent_dim:
            raise AekitError(f"k must be in 1..{self.latent_dim}, got {self.k}")
        if not isinstance(self.k, int):
            raise AekitError(f"k must be a whole number, got {self.k}")
        if self.aux_k == 0:
            set_(self, "aux_k", max(1, min(self.latent_dim, width // 2)))
        if self.aux_k < -1 or self.aux_k > self.latent_dim:
            raise AekitError(f"aux_k must be -1, 0 or 1..{self.latent_dim}")
        if self.aux_weight < 0:
            raise AekitError("aux_weight must not be negative")
        if self.dead_steps < 1 or self.resample_every < 0:
            raise AekitError("dead_steps must be positive, resample_every >= 0")
