"""Training speed and quality on mnist-5k and Fashion-MNIST, beside PCA (issue 2).

    python benchmarks/train_quality.py          # about 10 min on 2 quiet cores
    python benchmarks/train_quality.py --quick  # a smoke test

For each model: training samples/s at float32 and bf16 and the validation MSE (in
float32, model units) next to PCA's with the same code size, on mnist-5k; on the
60,000 Fashion-MNIST images (--fashion, when present) at aekit's default precision.
The bf16 / float32 ratio of the validation loss is what aekit.training.hardware's "auto"
rests on (within 2%). In the same run, aekit's loop and a textbook loop (DataLoader
over a TensorDataset) train the same model on the same rows, interleaved. Bar:
the conv autoencoder with a 16-dim code reaches at most 0.6x PCA-16's MSE.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

from aekit.analysis.metrics import pca_reconstruction_mse
from aekit.data import load_dataset
from aekit.training.hardware import resolve_precision
from aekit.training.loop import TrainConfig, evaluate_loss, fit
from speedlib import (
    aekit_epoch_seconds,
    best_of,
    machine_header,
    mse_loss,
    repeat_to,
    table,
    textbook_epoch_seconds,
)
from zoo import MODELS, make_model

FASHION = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist"


def train_one(key, train, val, epochs, precision, seed):
    """(samples/s after the first epoch, val MSE, val loss (fp32), precision used)."""
    model = make_model(key, seed, train.sample_shape)
    config = TrainConfig(epochs=epochs, precision=precision, seed=seed, patience=0)
    history = fit(model, train, val, config)
    seconds = [r["seconds"] for r in history.rows[1:]] or [history.rows[0]["seconds"]]
    rate = len(train) / statistics.median(seconds)  # epoch seconds include validation
    scored = TrainConfig(precision="fp32", seed=seed)
    loss = evaluate_loss(model, val.x, None, scored)["loss"]
    return rate, mse_loss(model, val.x), loss, history.precision


def quality_rows(name, data, keys, epochs, precisions, seeds):
    train, val = data.split(0.1, seed=0)
    flat = (
        train.x.reshape(len(train), -1).numpy(),
        val.x.reshape(len(val), -1).numpy(),
    )
    pca = {}
    rows = []
    for key in keys:
        k = MODELS[key][1]["latent_dim"]
        pca.setdefault(k, pca_reconstruction_mse(*flat, k))
        results = {}
        for p in precisions:
            runs = [train_one(key, train, val, epochs, p, s) for s in seeds]
            results[p] = [statistics.mean(r[i] for r in runs) for i in range(3)]
            resolved = runs[0][3]
            rate, mse, loss = results[p]
            ratio = (
                f"{loss / results['fp32'][2]:.4f}"
                if p != "fp32" and "fp32" in results
                else ""
            )
            rows.append(
                [
                    name,
                    MODELS[key][2],
                    resolved,
                    epochs,
                    rate,
                    mse,
                    pca[k],
                    mse / pca[k],
                    loss,
                    ratio,
                ]
            )
            print(f"  {name} {key} {p}: {rows[-1][4:]}", file=sys.stderr, flush=True)
    return rows


def loop_rows(data, keys, repeats):
    """aekit's loop at its default precision and the textbook loop, same rows."""
    x = repeat_to(data.x, 64 * 64)
    rows = []
    for key in keys:
        p = resolve_precision("auto", torch.device("cpu"), make_model(key), 64)
        best = best_of(
            repeats,
            {
                "aekit": lambda key=key, p=p: aekit_epoch_seconds(key, x, 64, p),
                "textbook fp32": lambda key=key: textbook_epoch_seconds(
                    key, x, 64, "fp32"
                ),
                "textbook same": lambda key=key, p=p: textbook_epoch_seconds(
                    key, x, 64, p
                ),
            },
        )
        rate = {k: len(x) / v for k, v in best.items()}
        rows.append(
            [
                MODELS[key][2],
                p,
                rate["aekit"],
                rate["textbook fp32"],
                rate["aekit"] / rate["textbook fp32"],
                rate["textbook same"],
                rate["aekit"] / rate["textbook same"],
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mlp,deep,conv,vae,conv-vae")
    parser.add_argument("--epochs", type=int, default=10, help="on mnist-5k")
    parser.add_argument("--fashion", type=Path, default=FASHION)
    parser.add_argument("--fashion-epochs", type=int, default=3)
    parser.add_argument("--seeds", default="0", help="averaged, e.g. 0,1,2")
    parser.add_argument("--repeats", type=int, default=2, help="loop timings, best of")
    parser.add_argument(
        "--quick", action="store_true", help="2 models, 2 epochs, no Fashion"
    )
    args = parser.parse_args()
    if args.quick:
        args.models, args.epochs, args.fashion, args.repeats = "mlp,conv", 2, None, 1
    keys, seeds = args.models.split(","), [int(s) for s in args.seeds.split(",")]
    started = time.perf_counter()
    print(machine_header("Training quality on mnist-5k and Fashion-MNIST (issue 2)"))
    print(f"Command: `python benchmarks/train_quality.py {' '.join(sys.argv[1:])}`\n")
    mnist = load_dataset("mnist-5k")
    rows = quality_rows("mnist-5k", mnist, keys, args.epochs, ("fp32", "bf16"), seeds)
    if args.fashion is not None and args.fashion.is_dir():
        fashion = load_dataset(args.fashion)
        rows += quality_rows(
            "fashion-mnist", fashion, keys, args.fashion_epochs, ("auto",), seeds[:1]
        )
    elif args.fashion is not None:
        print(f"(no Fashion-MNIST at {args.fashion}: skipped)\n")
    header = [
        "data",
        "model",
        "precision",
        "epochs",
        "train samples/s",
        "val MSE",
        "PCA val MSE",
        "MSE / PCA",
        "val loss",
        "bf16 / fp32 loss",
    ]
    print(
        f"Seeds {args.seeds}; batch 64, lr 2e-3, cosine schedule (aekit's defaults); "
        "validation: 10% of each data set, seed 0, scored in float32.\n"
    )
    print(table(header, rows))
    bar = "Bar (conv AE, 16-dim code, mnist-5k: MSE <= 0.6x PCA-16)"
    for r in rows:
        if r[0] == "mnist-5k" and r[1] == MODELS["conv"][2]:
            verdict = "met" if r[7] <= 0.6 else "NOT met"
            print(f"\n{bar} at {r[2]}: {r[7]:.2f}x, {verdict}.")
    print(
        "\naekit's loop against the textbook loop (4,096 mnist-5k rows, batch 64, "
        f"second epoch, best of {args.repeats} interleaved runs):\n"
    )
    print(
        table(
            [
                "model",
                "aekit precision",
                "aekit samples/s",
                "textbook fp32 samples/s",
                "ratio",
                "textbook same-precision samples/s",
                "ratio",
            ],
            loop_rows(mnist, keys, args.repeats),
        )
    )
    print(f"\nTotal time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
