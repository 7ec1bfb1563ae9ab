"""Config fields that carry their command-line help.

Importable without torch: `aekit --help` and argument errors are answered from
these alone. The model configs (each family's config.py) and TrainConfig
(aekit.training.config) declare their fields with `option`, and aekit.interfaces.cli
builds its options from them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

LAYER = "base"  # below every layer: any layer may import it


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
