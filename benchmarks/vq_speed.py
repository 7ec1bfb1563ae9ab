"""One training epoch of `vq-vae` beside one of `conv-vae`, both at their defaults,
in one run on one machine (issue 25, item 5).

    python benchmarks/vq_speed.py                                  # Fashion-MNIST
    python benchmarks/vq_speed.py --data mnist-5k --rounds 3
    python benchmarks/vq_speed.py --src ../other-checkout/src      # another version

Each round trains both models with `aekit train --data X --model M --epochs 1`
(plus --no-prior --no-pictures --no-report: the PixelCNN prior stage, the pictures
and the report come after the epoch and are not timed) and reads the epoch's
wall time from the run's history.csv ("seconds": the optimiser steps and the
validation pass of that epoch, nothing else). The two models alternate order from
round to round so that a shared machine's load falls on both alike; the table
gives each round and the median, and the ratio vq-vae / conv-vae of the medians.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from speedlib import machine_header, table  # noqa: E402

MODELS = ("vq-vae", "conv-vae")
DEFAULT_DATA = str(REPO.parent / "shared" / "data" / "fashion-mnist")


def epoch_seconds(model: str, data: str, out: Path, src: Path) -> float:
    """Train `model` for one epoch at its defaults; the epoch's seconds."""
    command = [
        sys.executable, "-m", "aekit", "train", "--data", data, "--model", model,
        "--epochs", "1", "--no-pictures", "--no-report", "--out", str(out), "--force",
    ]  # fmt: skip
    if model == "vq-vae":
        command.append("--no-prior")
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{model}: exit {done.returncode}\n{done.stderr[-2000:]}")
    with open(out / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return float(rows[0]["seconds"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--src",
        type=Path,
        default=REPO / "src",
        help="the aekit sources to time (default: this checkout)",
    )
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {m: [] for m in MODELS}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            order = MODELS if r % 2 == 0 else MODELS[::-1]
            for model in order:
                out = Path(tmp) / f"{model}-{r}"
                times[model].append(epoch_seconds(model, args.data, out, args.src))
                print(f"round {r + 1} {model}: {times[model][-1]:.1f} s", flush=True)
    median = {m: statistics.median(v) for m, v in times.items()}
    print()
    print(machine_header(f"One epoch at the defaults: {Path(args.data).name}"))
    rows = [[m, *times[m], median[m]] for m in MODELS]
    header = ["model", *(f"round {r + 1} (s)" for r in range(args.rounds)), "median"]
    print(table(header, rows))
    print()
    print(f"vq-vae / conv-vae, one epoch: {median['vq-vae'] / median['conv-vae']:.2f}x")


if __name__ == "__main__":
    main()
