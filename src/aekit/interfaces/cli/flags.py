"""Config field names as the command line spells them (mmd_weight -> --mmd-weight)."""

from __future__ import annotations

import dataclasses
import re


def option_flags() -> dict[str, str]:
    """Every config field that `aekit train` offers -> its flag."""
    from ...models.registry import MODELS
    from ...training.config import TrainConfig

    flags: dict[str, str] = {}
    for config in [*(spec.config for spec in MODELS.values()), TrainConfig]:
        for f in dataclasses.fields(config):
            if f.metadata.get("cli"):
                name = f.metadata.get("flag") or f.name
                flags[f.name] = "--" + name.replace("_", "-")
    return flags


def as_flags(message: str, flags: dict[str, str]) -> str:
    """`message` with each field name written as its flag. Only names with an
    underscore are rewritten: no word of prose looks like one, while a plain word
    (beta, prior, output) may mean what it says, except in a list of options."""
    message = LISTS.sub(lambda m: m.group(1) + _listed(m.group(2), flags), message)
    names = sorted((n for n in flags if "_" in n), key=len, reverse=True)
    if not names:
        return message
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, names)) + r")(?!\w)")
    return pattern.sub(lambda m: flags[m.group(1)], message)


# "takes no option(s) a, b; it takes c, d": lists of option names, all rewritten
LISTS = re.compile(r"(takes no option\(s\) |it takes )([\w]+(?:, [\w]+)*)")


def _listed(names: str, flags: dict[str, str]) -> str:
    """The flags of the listed names; a field the command line does not offer (set
    from the data) is left out, since no flag sets it."""
    return ", ".join(flags[n] for n in names.split(", ") if n in flags) or names
