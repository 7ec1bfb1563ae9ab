"""Which --sparsity values help and which collapse the code (issue 14).

    python benchmarks/sparsity_range.py                      # mlp, 30 epochs
    python benchmarks/sparsity_range.py --epochs 10 --values 0,1e-4,1e-2

Trains the default MLP autoencoder (16-d code) on mnist-5k at each L1 weight, as
`aekit train mnist-5k --sparsity S` does, and prints the validation MSE beside
PCA-16's, the share of near-zero code values, and the dead code units
(aekit.analysis.diagnostics.dead_code_units).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from aekit.analysis.diagnostics import code_unit_spread, dead_code_units
from aekit.analysis.metrics import pca_reconstruction_mse
from aekit.data import load_dataset
from aekit.models import build_model
from aekit.training.loop import TrainConfig, fit
from speedlib import machine_header, mse_loss, table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--values", default="0,1e-5,1e-4,3e-4,1e-3,3e-3,1e-2")
    args = parser.parse_args(argv)
    train, val = load_dataset("mnist-5k").split(0.1, seed=0)
    pca = pca_reconstruction_mse(
        train.x.reshape(len(train), -1).numpy(), val.x.reshape(len(val), -1).numpy(), 16
    )
    print(machine_header(f"--sparsity on mnist-5k: {args.model}, {args.epochs} epochs"))
    rows = []
    for s in (float(v) for v in args.values.split(",")):
        torch.manual_seed(0)
        model = build_model(
            args.model, train.sample_shape, latent_dim=16, output="sigmoid", sparsity=s
        )
        fit(model, train, val, TrainConfig(epochs=args.epochs, seed=0))
        model.eval()
        with torch.no_grad():
            z = model.encode(val.x).float().numpy()
        spread = code_unit_spread(z)
        rows.append(
            [
                s,
                mse_loss(model, val.x) / pca,
                float(np.mean(np.abs(z) < 1e-2)),
                float(np.median(spread)),
                float(spread.max()),
                f"{dead_code_units(z)} of {z.shape[1]}",
            ]
        )
        print(rows[-1], file=sys.stderr, flush=True)
    print(
        table(
            [
                "sparsity",
                "val MSE / PCA-16",
                "|z| < 0.01",
                "median unit std",
                "max unit std",
                "dead units",
            ],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
