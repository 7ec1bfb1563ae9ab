"""VAE-GAN's weights and the learning-rate schedule against the plain VAE's samples.

    PYTHONPATH=src python benchmarks/vaegan_weights.py --data mnist-5k --epochs 10

The protocol of benchmarks/generative.py (its seeded split, its classifier and its
`score`: test MSE and the Fréchet distance of 1,000 samples): aekit's MLP VAE and
VAE-GAN (hidden 512, 256, code 16) with their defaults, with a constant learning
rate, and with heavier adversarial or feature terms.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aekit import inference  # noqa: E402
from aekit.analysis.sample_quality import train_classifier  # noqa: E402
from aekit.interfaces import api
from generative import load, print_table, score  # noqa: E402

SETTINGS = [
    ("vae", {}),
    ("vae", {"schedule": "constant"}),
    ("vae-gan", {}),
    ("vae-gan", {"schedule": "constant"}),
    ("vae-gan", {"schedule": "constant", "gan_weight": 0.5}),
    ("vae-gan", {"schedule": "constant", "feature_weight": 1.0, "gan_weight": 0.5}),
    ("vae-gan", {"schedule": "constant", "pixel_weight": 0.5, "feature_weight": 1.0}),
]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="mnist-5k")
    p.add_argument("--rows", type=int, default=5000)
    p.add_argument("--epochs", type=int, default=10)
    args = p.parse_args()
    torch.set_num_threads(1)
    train, test = load(args.data, args.rows)
    classifier = train_classifier(train, int(train.y.max()) + 1, seed=0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (model, options) in enumerate(SETTINGS):
            started = time.perf_counter()
            run = api.train(
                train,
                model,
                out=Path(tmp) / str(i),
                epochs=args.epochs,
                patience=0,
                latent_dim=16,
                hidden=(512, 256),
                pictures=False,
                report=False,
                **options,
            )
            seconds = {"train": time.perf_counter() - started}
            recon = inference.reconstruct(run, test.x)
            samples = inference.sample(run, 1000, seed=0)
            name = f"{model} {json.dumps(options)}" if options else model
            rows.append(score(name, recon, samples, test, classifier, seconds))
            print(json.dumps(rows[-1]), flush=True)
    print_table(rows, ["model", "test_mse", "frechet", "train_seconds"])


if __name__ == "__main__":
    main()
