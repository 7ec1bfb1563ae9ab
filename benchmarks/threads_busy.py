"""What the reproducible thread default costs on a busy machine.

aekit's default is one torch thread per two cores this process may use, whatever
else runs (the same command gives the same weights); `--threads auto` follows the
cores idle at start instead. This trains the same model for the same steps with the
default, with every core, with one thread, and with `auto`, beside BUSY
spinning processes, interleaved in one run so that the machine's drift hits every
setting alike, and prints seconds and the ratio to the default.

    python benchmarks/threads_busy.py [--busy 0,1,3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import statistics
import time

import torch


def spin(stop) -> None:
    while not stop.is_set():
        pass


def train_seconds(threads: int | str, steps: int) -> float:
    from aekit.data import load_dataset
    from aekit.models import build_model
    from aekit.training.hardware import set_threads
    from aekit.training.loop import TrainConfig, fit

    set_threads(threads)
    data = load_dataset("mnist-5k").subset(slice(0, steps * 64))
    train, val = data.split(0.1, seed=0)
    torch.manual_seed(0)
    model = build_model("conv", data.sample_shape, latent_dim=16, output="sigmoid")
    started = time.perf_counter()
    fit(model, train, val, TrainConfig(epochs=1, precision="fp32"))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--busy", default="0,1,3")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(f"{platform.processor() or platform.machine()}, {cores} cores usable")
    settings = {"default": None, "every core": cores, "1 thread": 1, "auto": "auto"}
    for busy in [int(b) for b in args.busy.split(",")]:
        stop = mp.Event()
        spinners = [mp.Process(target=spin, args=(stop,)) for _ in range(busy)]
        for p in spinners:
            p.start()
        time.sleep(0.5)
        times: dict[str, list[float]] = {k: [] for k in settings}
        try:
            for _ in range(args.repeats):
                for name, threads in settings.items():
                    times[name].append(train_seconds(threads, args.steps))
        finally:
            stop.set()
            for p in spinners:
                p.join()
        base = statistics.median(times["default"])
        row = ", ".join(
            f"{k} {statistics.median(v):.2f} s ({statistics.median(v) / base:.2f}x)"
            for k, v in times.items()
        )
        print(f"{busy} busy process(es): {row}")


if __name__ == "__main__":
    main()
