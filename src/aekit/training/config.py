"""What a training run is set to: the one frozen dataclass that config.json stores."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from ..errors import AekitError
from ..models.options import option

LAYER = "base"  # below every layer: any layer may import it

# what --precision accepts (aekit.training.hardware decides what "auto" is)
PRECISIONS = ("auto", "fp32", "bf16")
SCHEDULES = ("auto", "cosine", "cosine-floor", "constant")
# cosine-floor's last learning rate, a share of lr
COSINE_FLOOR = 0.1


@dataclass(frozen=True)
class TrainConfig:
    # None: a budget of optimiser steps that fits the data (aekit.training.budget)
    epochs: int | None = option(
        None,
        "passes over the training data",
        metavar="N",
        shown="from the data size",
    )
    # with lr 2e-3: 1.3-2.8x lower MSE than 128 / 1e-3 (mnist-5k)
    batch_size: int = option(64, "examples per step", metavar="N")
    lr: float = option(2e-3, "AdamW learning rate", metavar="LR")
    weight_decay: float = option(
        1e-4, "AdamW weight decay (never on biases and scalars)", metavar="W"
    )
    # auto: constant for models with a posterior (3-6 nats better at 10 epochs, as
    # good at 30), cosine-floor for the rest (better than cosine in 14 of 16 cells)
    schedule: str = option(
        "auto",
        "learning rate: cosine (to 0 over all steps), cosine-floor (cosine to a "
        "tenth of lr), constant, or auto (constant for VAE families, else "
        "cosine-floor)",
        choices=SCHEDULES,
    )
    warmup_steps: int = option(
        0,
        "the learning rate rises linearly from 0 over these first steps",
        metavar="N",
    )
    val_fraction: float = option(
        0.1, "held-out share (seeded) for early stopping and metrics", metavar="F"
    )
    seed: int = option(
        0, "seed of the split, initial weights, batches and noise", metavar="N"
    )
    patience: int | None = option(
        None,
        "early-stopping patience in epochs; 0 is off",
        metavar="EPOCHS",
        shown="from the data size",
    )
    min_steps: int | None = option(
        None,
        "early stopping waits for this many optimiser steps",
        metavar="N",
        shown="the budget's floor",
    )
    time_limit: float = option(
        0.0,
        "seconds: no epoch starts that would end past them; 0 is off (the weights "
        "then depend on the machine's speed)",
        metavar="S",
    )
    precision: str = option(
        "auto",
        "auto: bf16 where the hardware accelerates it and it was measured "
        "as good as fp32 for the model",
        choices=PRECISIONS,
    )
    device: str = option("auto", "auto, cpu, cuda, cuda:N or mps", metavar="DEVICE")
    noise: str | None = option(
        None,
        "denoising: gaussian:0.3, salt-and-pepper:0.1 or mask:0.25",
        metavar="KIND:AMOUNT",
    )
    grad_clip: float = option(0.0, "clip the gradient norm; 0 is off", metavar="NORM")

    def __post_init__(self) -> None:
        for name, lowest in _WHOLE.items():
            if getattr(self, name) is not None or name not in _AUTO:
                _check_whole(name, getattr(self, name), lowest)
        for name in _REAL:
            _check_real(name, getattr(self, name))
        for name in ("schedule", "precision", "device"):
            if not isinstance(getattr(self, name), str):
                raise AekitError(f"{name} must be text, not {getattr(self, name)!r}")
        checks = [
            (self.lr > 0, f"lr must be positive, got {self.lr}"),
            (self.weight_decay >= 0, "weight decay must be >= 0"),
            (
                self.schedule in SCHEDULES,
                "schedule must be auto, cosine, cosine-floor or constant",
            ),
            (0 < self.val_fraction < 1, "validation fraction must be in (0, 1)"),
            (self.warmup_steps >= 0, "warmup steps must be >= 0"),
            (
                self.precision in PRECISIONS,
                "precision must be auto, fp32 or bf16",
            ),
            (self.grad_clip >= 0, "grad clip must be >= 0 (0 is off)"),
            (self.time_limit >= 0, "time limit must be >= 0 seconds (0 is off)"),
        ]
        for ok, message in checks:
            if not ok:
                raise AekitError(message)
        if self.noise is not None:
            if not isinstance(self.noise, str):
                raise AekitError(
                    f"noise must be text like gaussian:0.3, not {self.noise!r}"
                )
            from .noise import Noise  # torch, needed only once a config is made

            Noise.parse(self.noise)


# whole-number fields -> their smallest value; seeds must fit torch's int64 seed
_WHOLE = {
    "epochs": 1,
    "batch_size": 1,
    "seed": 0,
    "patience": 0,
    "warmup_steps": 0,
    "min_steps": 0,
}
_AUTO = ("epochs", "patience", "min_steps")  # None: aekit.training.budget decides
_SEED_MAX = 2**63 - 1
_REAL = ("lr", "weight_decay", "val_fraction", "grad_clip", "time_limit")
_NAMES = {
    "batch_size": "batch size",
    "val_fraction": "validation fraction",
    "min_steps": "min steps",
    "time_limit": "time limit",
}


def _check_whole(name: str, value: object, lowest: int) -> None:
    shown = _NAMES.get(name, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise AekitError(f"{shown} must be a whole number, got {value!r}")
    if value < lowest:
        raise AekitError(f"{shown} must be at least {lowest}, got {value}")
    if name == "seed" and value > _SEED_MAX:
        raise AekitError(f"seed must be at most 2**63 - 1 ({_SEED_MAX}), got {value}")


def _check_real(name: str, value: object) -> None:
    shown = _NAMES.get(name, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise AekitError(f"{shown} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise AekitError(f"{shown} must be a finite number, got {value}")
