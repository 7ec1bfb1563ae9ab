"""Training on data several times larger than a memory limit, with peak RSS reported.

    python benchmarks/out_of_core.py                      # 4 GiB of images, 1 GiB cap
    python benchmarks/out_of_core.py --limit-mb 512 --times 3

Writes a raw IDX file of MNIST-like 28x28 images (mnist-5k's digits, shifted and
noised; written in pieces, never whole in memory) `--times` larger than the memory
limit, then runs, each as a child process whose heap is capped at the limit
(RLIMIT_DATA: an allocation past it fails):

1. `aekit train --data FILE` without --stream (expected to fail: it loads whole);
2. `aekit train --data FILE --stream ...` for one epoch;
3. `aekit encode RUN FILE` (streams by itself: the file is large);

and prints each one's exit status, wall time and peak RSS as a markdown table.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from aekit.data import load_dataset
from speedlib import machine_header, table

PIECE = 50_000  # images generated and written at a time


def write_images(path: Path, n: int, seed: int = 0) -> None:
    """n 28x28 uint8 images as one raw IDX file, written piece by piece."""
    digits = (load_dataset("mnist-5k").x[:, 0].numpy() * 255).astype(np.uint8)
    rng = np.random.default_rng(seed)
    with open(path, "wb") as f:
        f.write(struct.pack(">BBBB3I", 0, 0, 0x08, 3, n, 28, 28))
        for start in range(0, n, PIECE):
            m = min(PIECE, n - start)
            picked = digits[rng.integers(0, len(digits), m)].astype(np.int16)
            shifted = np.roll(picked, tuple(rng.integers(-2, 3, 2)), axis=(1, 2))
            noisy = shifted + rng.integers(-12, 13, shifted.shape, dtype=np.int16)
            f.write(np.clip(noisy, 0, 255).astype(np.uint8).tobytes())


def run_capped(args: list[str], limit: int, cwd: Path) -> dict:
    """Run `python -m aekit ARGS` with its heap capped; its status, time, peak RSS."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))

    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "aekit", *args],
            cwd=cwd,
            preexec_fn=cap,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak RSS
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        lines = err.read().strip().splitlines() or [""]
    return {
        "status": child.returncode,
        "seconds": time.perf_counter() - started,
        "peak": usage.ru_maxrss / 1024,  # KiB on Linux -> MiB
        "last": lines[-1][:120],
    }


def epoch_rate(run: Path, n_train: int) -> str:
    """Training samples/s of the streamed epoch (its seconds include validation)."""
    history = run / "history.csv"
    if not history.is_file():
        return "n/a"
    with open(history) as f:
        row = next(csv.DictReader(f))
    rate, loss = n_train / float(row["seconds"]), float(row["val_loss"])
    return f"{rate:,.0f} samples/s (validation loss {loss:.4g})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-mb", type=int, default=1024, help="heap cap (MiB)")
    parser.add_argument("--times", type=float, default=4.0, help="data size / cap")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--dir", type=Path, help="where the data goes (default: temp)")
    args = parser.parse_args()
    limit = args.limit_mb << 20
    n = int(args.times * limit / (28 * 28))
    work = args.dir or Path(tempfile.mkdtemp(prefix="aekit-out-of-core-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "big-images-idx3-ubyte"
    print(machine_header("Data larger than memory"))
    print(f"Command: `python benchmarks/out_of_core.py {' '.join(sys.argv[1:])}`\n")
    started = time.perf_counter()
    write_images(data, n)
    size = data.stat().st_size
    print(
        f"Data: {n:,} images of 28x28 in {data.name}, {size / 2**30:.2f} GiB on disk "
        f"({n * 784 * 4 / 2**30:.1f} GiB as float32 in memory); heap cap "
        f"{args.limit_mb} MiB (RLIMIT_DATA): the data is {size / limit:.1f}x the cap; "
        f"written in {time.perf_counter() - started:.0f} s.\n"
    )
    train = ["train", "--data", str(data), "--model", "mlp", "--hidden", "256"]
    train += [
        "--latent-dim",
        "16",
        "--epochs",
        "1",
        "--batch-size",
        str(args.batch_size),
    ]
    train += ["--out", str(work / "run"), "--force", "--quiet", "--no-pictures"]
    steps = [
        ("train, loading whole (no --stream)", train),
        ("train --stream, one epoch", [*train, "--stream"]),
        (
            "encode (streams by itself)",
            ["encode", str(work / "run"), str(data), "--out", str(work / "codes.npy")],
        ),
    ]
    rows = []
    for what, command in steps:
        result = run_capped(command, limit, work)
        rows.append(
            [
                what,
                result["status"],
                f"{result['seconds']:.0f}",
                f"{result['peak']:.0f}",
                result["last"],
            ]
        )
        print(f"  {what}: {result}", file=sys.stderr, flush=True)
    print(
        table(
            ["step", "exit status", "seconds", "peak RSS (MiB)", "last line of stderr"],
            rows,
        )
    )
    rate = epoch_rate(work / "run", n - round(n * 0.1))
    print(f"\nThe streamed epoch: {rate}.")
    print(f"Total time: {time.perf_counter() - started:.0f} s")
    if args.dir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
