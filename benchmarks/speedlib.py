"""What the speed benchmarks share: the machine header, the models, the contenders
(aekit's trainer and a textbook loop), FLOP counts and markdown tables."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

import aekit
from aekit.data import Dataset
from aekit.training.hardware import bf16_accelerated, prefers_channels_last
from aekit.training.loop import TrainConfig, fit
from zoo import SHAPE, make_model


def machine_header(title: str) -> str:
    """A markdown preamble naming the machine, so figures can be compared later."""
    cpu = platform.processor() or platform.machine()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        cpu = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in lscpu.splitlines()
                if "Model name" in ln
            ),
            cpu,
        )
    except OSError:
        pass
    load = (
        ", ".join(f"{v:.2f}" for v in os.getloadavg())
        if hasattr(os, "getloadavg")
        else "?"
    )
    return "\n".join(
        [
            f"### {title}",
            "",
            f"- CPU: {cpu}; {os.cpu_count()} logical cores; torch "
            f"{torch.__version__} with {torch.get_num_threads()} threads; aekit "
            f"{aekit.__version__}",
            f"- bf16 in hardware: {bf16_accelerated(torch.device('cpu'))}; "
            f"load average at start: {load}",
            "",
        ]
    )


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def repeat_to(x: torch.Tensor, n: int) -> torch.Tensor:
    """n rows of x, cycling (a synthetic epoch of the size a timing needs)."""
    return x[torch.arange(n) % len(x)].contiguous()


# -- the contenders: each trains `epochs` epochs and returns the last epoch's seconds
def aekit_epoch_seconds(key: str, x: torch.Tensor, batch: int, precision: str) -> float:
    """aekit's own loop (fit) at its defaults; validation on one batch only."""
    train = Dataset(x, name="bench")
    val = Dataset(x[:batch], name="bench-val")
    config = TrainConfig(epochs=2, batch_size=batch, precision=precision, patience=0)
    history = fit(make_model(key), train, val, config)
    return history.rows[-1]["seconds"]


def textbook_epoch_seconds(
    key: str, x: torch.Tensor, batch: int, precision: str
) -> float:
    """The loop a PyTorch tutorial teaches: DataLoader over a TensorDataset, Adam,
    zero_grad / backward / step (the model's own loss, autocast for bf16)."""
    from torch.utils.data import DataLoader, TensorDataset

    model = make_model(key)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(x), batch_size=batch, shuffle=True)
    seconds = 0.0
    for _ in range(2):
        started = time.perf_counter()
        model.train()
        for (xb,) in loader:
            with torch.autocast("cpu", torch.bfloat16, enabled=precision == "bf16"):
                loss = model.loss(xb, xb)["loss"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds = time.perf_counter() - started
    return seconds


def encode_seconds(key: str, x: torch.Tensor, batch: int, precision: str) -> float:
    """model.encode over x in batches, as aekit encode runs it (eval, no grad)."""
    model = make_model(key).eval()
    cpu = torch.device("cpu")
    fmt = torch.channels_last if prefers_channels_last(model, cpu, precision) else None
    if fmt is not None:
        model.to(memory_format=fmt)
    seconds = 0.0
    with (
        torch.no_grad(),
        torch.autocast("cpu", torch.bfloat16, enabled=precision == "bf16"),
    ):
        for _ in range(2):
            started = time.perf_counter()
            for i in range(0, len(x), batch):
                model.encode(x[i : i + batch])
            seconds = time.perf_counter() - started
    return seconds


def flops_per_sample(key: str, batch: int = 64) -> tuple[float, float]:
    """(training, encoding) FLOPs per sample: forward + backward of the loss, and
    the encoder's forward, as torch.utils.flop_counter counts them (2 per MAC)."""
    from torch.utils.flop_counter import FlopCounterMode

    model, x = make_model(key), torch.rand(batch, *SHAPE)
    with FlopCounterMode(display=False) as counter:
        model.loss(x, x)["loss"].backward()
    train = counter.get_total_flops() / batch
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model.encode(x)
    return train, counter.get_total_flops() / batch


def matmul_gflops(dtype: torch.dtype, n: int = 2048, seconds: float = 1.0) -> float:
    """The machine's ceiling: best GFLOP/s of an n x n matrix product."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    best = 0.0
    deadline = time.perf_counter() + seconds
    torch.mm(a, b)  # warm-up: kernels chosen, pages touched
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * n**3 / (time.perf_counter() - started) / 1e9)
    return best


def best_of(
    repeats: int, contenders: dict[str, Callable[[], float]]
) -> dict[str, float]:
    """Each contender's lowest time, run interleaved so machine noise hits all alike."""
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(repeats):
        for name, run in contenders.items():
            best[name] = min(best[name], run())
    return best


def mse_loss(model: Any, x: torch.Tensor) -> float:
    """Validation MSE of a trained model in float32, in model units."""
    model.eval()
    with torch.no_grad():
        return float(
            sum(
                F.mse_loss(model(x[i : i + 512]), x[i : i + 512], reduction="sum")
                for i in range(0, len(x), 512)
            )
            / x.numel()
        )
