"""A user's first try: short runs of the default conv and MLP autoencoders (issue 14).

    python benchmarks/first_minutes.py                    # conv and MLP, 5 epochs
    python benchmarks/first_minutes.py --epochs 30        # a full run
    python benchmarks/first_minutes.py --data digits --epochs 2
    python benchmarks/first_minutes.py --models conv --set norm=none

Trains each model as `aekit train DATA --model M --epochs N` does (build_model with
the CLI's defaults, the seeded split, TrainConfig's defaults,
aekit.training.loop.fit) and prints the validation MSE beside PCA's with the same code
size, and the seconds the run took. `--set key=value` overrides a model or training
option, to measure one
change at a time. Bar: the conv autoencoder with a 16-d code at 5 epochs on mnist-5k
reaches at most 0.8x PCA-16's MSE.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

import torch

from aekit.analysis.metrics import pca_reconstruction_mse
from aekit.data import load_dataset
from aekit.models import MODELS, build_model
from aekit.training.loop import TrainConfig, fit
from speedlib import machine_header, mse_loss, table

TRAIN_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}


def parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def run_one(name, train, val, epochs, latent_dim, overrides, seed=0):
    """(val MSE, seconds, CPU seconds, epochs run) of one model trained the CLI's way;
    CPU seconds (all threads) compare runs on a shared, busy machine."""
    train_opts = {k: v for k, v in overrides.items() if k in TRAIN_FIELDS}
    model_fields = {f.name for f in dataclasses.fields(MODELS[name].config)}
    model_opts = {k: v for k, v in overrides.items() if k in model_fields}
    config = TrainConfig(epochs=epochs, seed=seed, **train_opts)
    torch.manual_seed(config.seed)  # as aekit.interfaces.api._seeded
    model = build_model(
        name,
        train.sample_shape,
        latent_dim=latent_dim,
        output="sigmoid",  # the CLI's choice for data in [0, 1]
        **model_opts,
    )
    start, cpu = time.perf_counter(), time.process_time()
    history = fit(model, train, val, config)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return mse_loss(model, val.x), seconds, cpu, len(history.rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="mnist-5k")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--models", default="conv,mlp")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads (0: torch's default)"
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    overrides = {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.set)}
    if args.threads:  # 1 on a busy shared machine: CPU seconds then mean something
        torch.set_num_threads(args.threads)
    data = load_dataset(args.data)
    train, val = data.split(0.1, seed=0)  # TrainConfig's val_fraction and seed
    pca = pca_reconstruction_mse(
        train.x.reshape(len(train), -1).numpy(),
        val.x.reshape(len(val), -1).numpy(),
        args.latent_dim,
    )
    print(machine_header(f"First minutes: {args.data}, {args.epochs} epochs"))
    print(f"overrides: {overrides or 'none'}; PCA-{args.latent_dim} MSE {pca:.5f}\n")
    rows = []
    for name in args.models.split(","):
        for seed in range(args.seeds):
            mse, seconds, cpu, ran = run_one(
                name, train, val, args.epochs, args.latent_dim, overrides, seed
            )
            rows.append([name, seed, ran, mse, mse / pca, seconds, cpu])
            print(f"{name} seed {seed}: ratio {mse / pca:.3f}", file=sys.stderr)
    print(
        table(["model", "seed", "epochs", "val MSE", "/ PCA", "seconds", "CPU s"], rows)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
