"""What a training run is set to: the one frozen dataclass that config.json stores."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import AekitError
from .hardware import PRECISIONS
from .noise import Noise


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30
    batch_size: int = 64  # with lr 2e-3: 1.3-2.8x lower MSE than 128 / 1e-3 (mnist-5k)
    lr: float = 2e-3
    weight_decay: float = 1e-4  # AdamW; never applied to biases and scalars
    schedule: str = "cosine"  # "cosine" (to 0 over all steps) or "constant"
    warmup_steps: int = 0  # the rate rises linearly from 0 over these first steps
    val_fraction: float = 0.1  # held out, seeded, for early stopping and metrics
    seed: int = 0
    patience: int = 10  # epochs without a better validation loss; 0 never stops early
    precision: str = "auto"  # bf16 where fast and measured safe (aekit.hardware)
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", "mps"
    noise: str | None = (
        None  # denoising: "gaussian:0.3", "salt-and-pepper:0.1", "mask:0.25"
    )
    grad_clip: float = 0.0  # max gradient norm; 0 is off

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
            (self.warmup_steps >= 0, "warmup steps must be >= 0"),
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
            Noise.parse(self.noise)
