"""Config fields that carry their command-line help, and names the CLI offers.

Importable without torch: `aekit --help` and argument errors are answered from
these alone. The model configs (aekit.models.configs) and TrainConfig declare their
fields with `option`, and aekit.interfaces.cli builds its options from them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

PRECISIONS = (
    "auto",
    "fp32",
    "bf16",
)  # what --precision accepts (aekit.training.hardware)
NOISE_KINDS = ("gaussian", "salt-and-pepper", "mask")  # aekit.training.noise
PROJECTIONS = ("auto", "pca", "tsne", "umap")  # aekit.analysis.latent.projections
# the pictures of a run (aekit.analysis.plots.pictures.PICTURES has one entry for each)
PICTURE_KINDS = (
    "reconstructions",
    "history",
    "latent",
    "manifold",
    "interpolate",
    "traverse",
    "samples",
    "pca",
    "checkerboard",
)
COMPARED = ("latent", "manifold", "interpolate")  # `plot compare`'s default pictures


def option(
    default: Any,
    help: str,
    *,
    flag: str | None = None,
    metavar: str | None = None,
    choices: Sequence[str] | None = None,
    cli: bool = True,
    shown: str | None = None,
) -> Any:
    """A config field with what the command line needs to offer it.

    `flag` overrides the option's name (default: the field's, dashed); `cli=False`
    keeps a field off the command line (set from the data, or by the registry);
    `shown` is the default the help names when the command line decides it.
    """
    meta = {"help": help, "flag": flag, "metavar": metavar, "choices": choices}
    meta |= {"cli": cli, "shown": shown}
    return dataclasses.field(default=default, metadata=meta)
