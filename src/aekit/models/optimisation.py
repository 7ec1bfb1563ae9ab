"""How a model trains: its optimisers, what each minimises, how often and how fast.

A model states a tuple of `Phase`s (Model.optimisation); the training loop gives each
phase an AdamW over that phase's parameter group and runs the phases in order on every
batch. The default is one phase over every parameter on "loss": plain training.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import AekitError


@dataclass(frozen=True)
class Phase:
    """One optimiser: the parameter group it steps and the loss term it minimises.

    steps: how many times it steps per batch, each on a fresh forward pass (k
    discriminator steps per generator step). lr_scale: its learning rate as a
    multiple of --lr. with_previous: it steps together with the phase before it, on
    that phase's forward pass (simultaneous updates, as one optimiser would).
    """

    group: str
    loss: str = "loss"
    steps: int = 1
    lr_scale: float = 1.0
    with_previous: bool = False

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise AekitError(f"phase {self.group!r} steps at least once per batch")
        if not self.lr_scale > 0:
            raise AekitError(f"phase {self.group!r} needs a positive learning rate")


def rounds(phases: tuple[Phase, ...]) -> list[list[Phase]]:
    """The phases grouped into rounds that share one forward pass, in order."""
    if not phases or phases[0].with_previous:
        raise AekitError("a model's first phase cannot step with a previous one")
    out: list[list[Phase]] = []
    for phase in phases:
        if phase.with_previous:
            if phase.steps != out[-1][0].steps:
                raise AekitError(
                    f"phase {phase.group!r} steps with {out[-1][0].group!r}, "
                    "so it takes as many steps"
                )
            out[-1].append(phase)
        else:
            out.append([phase])
    return out
