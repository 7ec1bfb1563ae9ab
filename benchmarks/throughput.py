"""Training and encoding throughput of aekit against a textbook loop and pythae.

    python benchmarks/throughput.py                  # the full run (about 10 min
                                                     # on 2 quiet cores)
    python benchmarks/throughput.py --quick          # a smoke test

For each model (MLP AE, deep 784-512-256-128-32-2 AE, conv AE, conv VAE), batch size
and precision it prints samples/s of aekit's trainer (fit, at its defaults), of a
textbook loop (DataLoader over a TensorDataset) and of pythae 0.1.2's trainer (in
its own virtual environment, --pythae), each timed on its second epoch and run
interleaved, best of --repeats; the machine's matmul ceiling; each model's FLOPs
per sample and the share of the ceiling reached; and the issue's bars.
Output is markdown for BENCHMARKS.md.

pythae runs in its own environment, made once with
    python3 -m venv /tmp/pythae-venv
    /tmp/pythae-venv/bin/pip install torch==2.13.0 pythae==0.1.2
(or --pythae PATH / $PYTHAE_PYTHON); without it its columns read nan and say why.
aekit's fit() lets malloc keep freed memory
(aekit.training.hardware.keep_freed_memory); this script does that at the start, so the
textbook loop has it too, pythae does not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from aekit.data import load_dataset
from aekit.training.hardware import keep_freed_memory, resolve_precision
from speedlib import (
    aekit_epoch_seconds,
    best_of,
    encode_seconds,
    flops_per_sample,
    machine_header,
    matmul_gflops,
    repeat_to,
    table,
    textbook_epoch_seconds,
)
from zoo import MODELS, make_model

HERE = Path(__file__).resolve().parent
STEPS = {"mlp": 32, "deep": 32, "vae": 32, "conv": 8, "conv-vae": 8}  # per epoch


class Pythae:
    """pythae's trainer in its own interpreter, answering one timing per request."""

    def __init__(self, python: str):
        self.why_not = None
        if not Path(python).is_file():
            self.why_not = f"no interpreter at {python} (see BENCHMARKS.md)"
            return
        self.proc = subprocess.Popen(
            [python, str(HERE / "pythae_runner.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def seconds(self, key: str, batch: int, data: Path) -> float:
        if self.why_not:
            return float("nan")
        request = {"model": key, "batch": batch, "data": str(data)}
        request["threads"] = torch.get_num_threads()
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline() or '{"error": "it died"}')
        if "error" in answer:
            self.why_not = answer["error"]
            return float("nan")
        return answer["seconds"]


def time_model(key, x_all, batches, repeats, pythae, scratch):
    """Rows of the training table for one model, all batch sizes."""
    rows = []
    for batch in batches:
        x = repeat_to(x_all, STEPS[key] * batch)
        np.save(scratch, x.numpy())
        contenders = {
            f"{who}-{p}": (lambda f=f, p=p, x=x, b=batch: f(key, x, b, p))
            for who, f in (
                ("aekit", aekit_epoch_seconds),
                ("textbook", textbook_epoch_seconds),
            )
            for p in ("fp32", "bf16")
        }
        contenders["pythae-fp32"] = lambda b=batch: pythae.seconds(key, b, scratch)
        best = best_of(repeats, contenders)
        rate = {name: len(x) / s for name, s in best.items()}
        rows.append((batch, rate))
        print(
            f"  {key} batch {batch}: "
            + ", ".join(f"{k} {v:,.0f}/s" for k, v in rate.items()),
            file=sys.stderr,
            flush=True,
        )
    return rows


def training_table(results, flops, ceiling):
    out = []
    for key, rows in results.items():
        for batch, rate in rows:
            for p in ("fp32", "bf16"):
                ours, textbook = rate[f"aekit-{p}"], rate[f"textbook-{p}"]
                gflops = ours * flops[key][0] / 1e9
                pythae = rate["pythae-fp32"] if p == "fp32" else float("nan")
                out.append(
                    [
                        MODELS[key][2],
                        batch,
                        p,
                        ours,
                        gflops,
                        f"{100 * gflops / ceiling[p]:.1f}%",
                        textbook,
                        ours / textbook,
                        pythae,
                        ours / pythae,
                    ]
                )
    header = [
        "model",
        "batch",
        "precision",
        "aekit samples/s",
        "GFLOP/s",
        "of ceiling",
        "textbook samples/s",
        "aekit / textbook",
        "pythae samples/s",
        "aekit / pythae",
    ]
    return table(header, out)


def bars_table(results, auto):
    """The issue's bars, for what each tool does by default (aekit: precision auto)."""
    out = []
    for key, rows in results.items():
        for batch, rate in rows:
            p = auto(key, batch)
            ours = rate[f"aekit-{p}"]
            vs_text, vs_pythae = (
                ours / rate["textbook-fp32"],
                ours / rate["pythae-fp32"],
            )
            met = vs_text >= 1.2 and (vs_pythae >= 1.5 or np.isnan(vs_pythae))
            out.append(
                [
                    MODELS[key][2],
                    batch,
                    p,
                    ours,
                    vs_text,
                    vs_pythae,
                    "yes" if met else "NO",
                ]
            )
    header = [
        "model",
        "batch",
        "aekit default precision",
        "aekit samples/s",
        "vs textbook fp32 (bar 1.2)",
        "vs pythae (bar 1.5)",
        "bars met",
    ]
    return table(header, out)


def encoding_table(keys, x_all, batches, repeats):
    out = []
    for key in keys:
        for batch in batches:
            x = repeat_to(x_all, 16 * batch)
            best = best_of(
                repeats,
                {
                    p: (lambda p=p, k=key, x=x, b=batch: encode_seconds(k, x, b, p))
                    for p in ("fp32", "bf16")
                },
            )
            out.append(
                [MODELS[key][2], batch, len(x) / best["fp32"], len(x) / best["bf16"]]
            )
    return table(["model", "batch", "fp32 samples/s", "bf16 samples/s"], out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mlp,deep,conv,conv-vae")
    parser.add_argument("--batch-sizes", default="64,128,256,512")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--pythae",
        default=os.environ.get("PYTHAE_PYTHON", "/tmp/pythae-venv/bin/python"),
    )
    parser.add_argument(
        "--quick", action="store_true", help="mlp and conv, batch 64, once"
    )
    parser.add_argument("--threads", type=int, help="torch threads (default: all)")
    args = parser.parse_args()
    if args.quick:
        args.models, args.batch_sizes, args.repeats = "mlp,conv", "64", 1
        STEPS.update({k: max(2, v // 4) for k, v in STEPS.items()})
    if args.threads:
        torch.set_num_threads(args.threads)
    keys = args.models.split(",")
    batches = [int(b) for b in args.batch_sizes.split(",")]
    started = time.perf_counter()
    # fit() sets this once per process; set here, the textbook loop runs with it too
    keep_freed_memory()
    print(machine_header("Training throughput (issue 7)"))
    print(
        f"Command: `python benchmarks/{Path(__file__).name} {' '.join(sys.argv[1:])}`\n"
    )
    ceiling = {
        "fp32": matmul_gflops(torch.float32),
        "bf16": matmul_gflops(torch.bfloat16),
    }
    flops = {key: flops_per_sample(key) for key in keys}

    def auto(key: str, batch: int) -> str:
        return resolve_precision("auto", torch.device("cpu"), make_model(key), batch)

    print(
        f"Ceiling (2048 x 2048 matmul): {ceiling['fp32']:.0f} GFLOP/s float32, "
        f"{ceiling['bf16']:.0f} GFLOP/s bf16.\n"
    )
    print(
        table(
            [
                "model",
                "training MFLOP/sample",
                "encoding MFLOP/sample",
                f"aekit's auto precision at batch {batches[0]}",
            ],
            [
                [
                    MODELS[k][2],
                    flops[k][0] / 1e6,
                    flops[k][1] / 1e6,
                    auto(k, batches[0]),
                ]
                for k in keys
            ],
        )
    )
    x_all = load_dataset("mnist-5k").x
    pythae = Pythae(args.pythae)
    with tempfile.TemporaryDirectory() as tmp:
        results = {
            k: time_model(k, x_all, batches, args.repeats, pythae, Path(tmp) / "x.npy")
            for k in keys
        }
    print(
        "\nTraining samples/s (second epoch, best of",
        args.repeats,
        "interleaved runs):\n",
    )
    print(training_table(results, flops, ceiling))
    if pythae.why_not:
        print(f"\npythae did not run: {pythae.why_not}")
    print(
        "\nThe bars: aekit at its defaults against the textbook loop and pythae "
        "(both float32):\n"
    )
    print(bars_table(results, auto))
    print("\nEncoding samples/s (model.encode, eval mode, no grad):\n")
    print(encoding_table(keys, x_all, batches, args.repeats))
    print(f"\nTotal time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
