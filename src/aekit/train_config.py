"""What a training run is set to: the one frozen dataclass that config.json stores."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import AekitError
from .options import PRECISIONS, option


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = option(30, "passes over the training data", metavar="N")
    # with lr 2e-3: 1.3-2.8x lower MSE than 128 / 1e-3 (mnist-5k)
    batch_size: int = option(64, "examples per step", metavar="N")
    lr: float = option(2e-3, "AdamW learning rate", metavar="LR")
    weight_decay: float = option(
        1e-4, "AdamW weight decay (never on biases and scalars)", metavar="W"
    )
    schedule: str = option(
        "cosine",
        "learning rate: cosine (to 0 over all steps) or constant",
        choices=("cosine", "constant"),
    )
    val_fraction: float = option(
        0.1, "held-out share (seeded) for early stopping and metrics", metavar="F"
    )
    seed: int = option(
        0, "seed of the split, initial weights, batches and noise", metavar="N"
    )
    patience: int = option(
        10, "early-stopping patience in epochs; 0 is off", metavar="EPOCHS"
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
        checks = [
            (self.epochs >= 1, f"epochs must be at least 1, got {self.epochs}"),
            (
                self.batch_size >= 1,
                f"batch size must be at least 1, got {self.batch_size}",
            ),
            (
                self.lr > 0 and math.isfinite(self.lr),
                f"lr must be positive, got {self.lr}",
            ),
            (self.weight_decay >= 0, "weight decay must be >= 0"),
            (
                self.schedule in ("cosine", "constant"),
                "schedule must be cosine or constant",
            ),
            (0 < self.val_fraction < 1, "validation fraction must be in (0, 1)"),
            (self.patience >= 0, "patience must be >= 0"),
            (
                self.precision in PRECISIONS,
                "precision must be auto, fp32 or bf16",
            ),
            (self.grad_clip >= 0, "grad clip must be >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise AekitError(message)
        if self.noise is not None:
            from .noise import Noise  # torch, needed only once a config is made

            Noise.parse(self.noise)
