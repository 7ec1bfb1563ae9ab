"""Validation MSE against seconds: aekit, pythae 0.1.2 and a textbook loop (issue 14).

    /work/venv-pythae/bin/python benchmarks/vs_peers.py               # ~10 min, 2 cores
    python benchmarks/vs_peers.py --epochs 3 --models mlp             # a smoke test

The same networks (aekit's default MLP and conv autoencoders, 16-d code, built by
aekit.models.build_model from the same seed) on the same rows (mnist-5k, aekit's
seeded 90/10 split) trained three ways:

- aekit: aekit.training.loop.fit with TrainConfig's defaults, as `aekit train` runs it;
- pythae: pythae 0.1.2's AE and BaseTrainer (Adam, lr 1e-3, batch 64), the aekit
  network passed as its encoder and decoder; skipped with the reason when pythae
  does not import (it lives in its own virtual environment, see pythae_runner.py);
- textbook: a DataLoader over a TensorDataset, plain Adam, lr 1e-3, batch 64, MSE.

After each epoch the validation MSE (float32, model units) is measured on a paused
clock, so the curves show training time only. Prints the time each takes to reach
0.6x PCA-16's MSE (first epoch at or below it) and writes results/vs_peers.png.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from aekit.analysis.metrics import pca_reconstruction_mse
from aekit.data import load_dataset
from aekit.models import build_model
from aekit.training.loop import TrainConfig, fit
from speedlib import machine_header, mse_loss, table

RESULTS = Path(__file__).resolve().parent / "results"
BAR = 0.6  # the bench's bar: a 16-d code at most 0.6x PCA-16's MSE
ARCH = {"mlp": "MLP 784-512-256-128-16", "conv": "conv 32,64 / 16"}


class Curve:
    """(wall s, CPU s, val MSE) after each epoch; the evaluation's time left out."""

    def __init__(self, model, val_x):
        self.model, self.val_x = model, val_x
        self.points: list[tuple[float, float, float]] = []
        self.paused_wall = self.paused_cpu = 0.0
        self.start_wall, self.start_cpu = time.perf_counter(), time.process_time()

    def epoch_end(self) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        was_training = self.model.training
        mse = mse_loss(self.model, self.val_x)
        self.model.train(was_training)
        self.points.append(
            (
                wall - self.start_wall - self.paused_wall,
                cpu - self.start_cpu - self.paused_cpu,
                mse,
            )
        )
        self.paused_wall += time.perf_counter() - wall
        self.paused_cpu += time.process_time() - cpu


def network(name: str, shape, seed: int = 0):
    torch.manual_seed(seed)
    return build_model(name, shape, latent_dim=16, output="sigmoid")


def train_aekit(name, train, val, epochs):
    model = network(name, train.sample_shape)
    curve = Curve(model, val.x)
    config = TrainConfig(epochs=epochs, patience=0, seed=0)

    def progress(event, info):
        if event == "epoch_end":
            curve.epoch_end()

    fit(model, train, val, config, progress=progress)
    return curve


def train_textbook(name, train, val, epochs):
    model = network(name, train.sample_shape)
    torch.manual_seed(0)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(train.x), batch_size=64, shuffle=True
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    curve = Curve(model, val.x)
    for _ in range(epochs):
        model.train()
        for (x,) in loader:
            loss = F.mse_loss(model(x), x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        curve.epoch_end()
    return curve


def train_pythae(name, train, val, epochs):
    from pythae.data.datasets import BaseDataset
    from pythae.models import AE, AEConfig
    from pythae.trainers import BaseTrainer, BaseTrainerConfig
    from pythae.trainers.training_callbacks import TrainingCallback

    from pythae_runner import Decoder, Encoder

    net = network(name, train.sample_shape)
    model = AE(
        AEConfig(input_dim=train.sample_shape, latent_dim=16),
        encoder=Encoder(net),
        decoder=Decoder(net),
    )
    curve = Curve(net, val.x)

    class OnEpochEnd(TrainingCallback):
        def on_epoch_end(self, training_config, **kwargs):
            curve.epoch_end()

    with tempfile.TemporaryDirectory() as out:
        config = BaseTrainerConfig(
            output_dir=out,
            per_device_train_batch_size=64,
            per_device_eval_batch_size=64,
            num_epochs=epochs,
            learning_rate=1e-3,
            no_cuda=True,
            steps_saving=None,
            seed=0,
        )
        labels = torch.zeros(len(train))
        trainer = BaseTrainer(
            model,
            BaseDataset(train.x, labels),
            None,
            config,
            callbacks=[OnEpochEnd()],
        )
        curve.start_wall, curve.start_cpu = time.perf_counter(), time.process_time()
        trainer.train()
    return curve


def time_to(points, target):
    """(wall, CPU) seconds at the first epoch at or below target, else None."""
    return next(((w, c) for w, c, mse in points if mse <= target), None)


def plot(curves, pca, path):
    from matplotlib.figure import Figure

    names = sorted({m for m, _ in curves}, key=list(ARCH).index)
    fig = Figure(figsize=(5.5 * len(names), 4.2), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names, strict=True):
        for (m, who), curve in curves.items():
            if m == name:
                w, _, mse = zip(*curve.points, strict=True)
                ax.plot(w, np.array(mse) / pca, marker=".", label=who)
        ax.axhline(BAR, color="grey", ls="--", lw=1, label=f"{BAR}x PCA-16")
        ax.axhline(1.0, color="grey", ls=":", lw=1, label="PCA-16")
        ax.set_yscale("log")
        ax.set_xlabel("training seconds (wall clock)")
        ax.set_ylabel("validation MSE / PCA-16's")
        ax.set_title(f"{ARCH[name]} on mnist-5k")
        ax.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--models", default="mlp,conv")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads (0: torch's default)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "vs_peers.png")
    args = parser.parse_args(argv)
    if args.threads:  # 1 on a busy shared machine: CPU seconds then mean something
        torch.set_num_threads(args.threads)
    train, val = load_dataset("mnist-5k").split(0.1, seed=0)  # aekit's split
    pca = pca_reconstruction_mse(
        train.x.reshape(len(train), -1).numpy(), val.x.reshape(len(val), -1).numpy(), 16
    )
    trainers = {"aekit": train_aekit, "textbook": train_textbook}
    try:
        from importlib.metadata import version

        import pythae  # noqa: F401

        trainers["pythae " + version("pythae")] = train_pythae
    except ImportError as e:
        print(f"pythae skipped: {e}", file=sys.stderr)
    print(machine_header(f"vs peers: mnist-5k, {args.epochs} epochs"))
    print(f"PCA-16 validation MSE {pca:.5f}; bar {BAR}x = {BAR * pca:.5f}\n")
    curves, rows = {}, []
    for name in args.models.split(","):
        for who, train_fn in trainers.items():
            curve = train_fn(name, train, val, args.epochs)
            curves[name, who] = curve
            reached = time_to(curve.points, BAR * pca)
            wall, cpu, mse = curve.points[-1]
            rows.append(
                [
                    ARCH[name],
                    who,
                    "not reached" if reached is None else f"{reached[0]:.1f}",
                    "not reached" if reached is None else f"{reached[1]:.1f}",
                    mse / pca,
                    wall,
                    cpu,
                ]
            )
            print(rows[-1], file=sys.stderr, flush=True)
    print(
        table(
            [
                "network",
                "trainer",
                f"s to {BAR}x PCA-16",
                f"CPU s to {BAR}x",
                f"final / PCA ({args.epochs} ep)",
                "total s",
                "total CPU s",
            ],
            rows,
        )
    )
    plot(curves, pca, args.out)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
