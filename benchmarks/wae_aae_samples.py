"""Sample quality of WAE-MMD and the adversarial autoencoder beside the VAE, on the
same data, network, code size, epochs and seeds.

    python benchmarks/wae_aae_samples.py --data mnist-5k --epochs 20 --seeds 0,1

A seeded subset of `--rows` images is cut into test (1,000) and train (the rest;
aekit keeps 10% of it for validation). Every model has the same MLP body (--hidden)
and code size; the VAE, WAE and AAE run at their defaults otherwise (WAE lambda 10,
AAE one discriminator step per autoencoder step). Figures, on the test images:
reconstruction MSE per pixel; `frechet`, the sample-quality number of
aekit.analysis.sample_quality (the Fréchet distance between 1,000 samples decoded
from N(0, I) and the test images in the features of one classifier trained on the
train images, the same for every model; the floor is the train images' own distance
to the test images); `mmd`, the IMQ-kernel MMD of the test codes (a VAE's posterior
means) to as many N(0, I) draws (the WAE's own penalty, 0 when the codes follow the
prior); `d_acc`, the AAE discriminator's accuracy at telling test codes from prior
draws (0.5: it cannot); train seconds. One row per model and seed, then the mean.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from aekit import inference  # noqa: E402
from aekit.analysis.sample_quality import frechet_distance  # noqa: E402
from aekit.interfaces import api  # noqa: E402
from aekit.models.wae.model import imq_mmd  # noqa: E402
from generative import N_SAMPLES, features, judge, print_table  # noqa: E402


def run_one(model: str, seed: int, train, test, args, classifier) -> dict:
    started = time.perf_counter()
    run = api.train(
        train,
        model,
        out=Path(args.out) / f"{model}-{seed}",
        overwrite=True,
        epochs=args.epochs,
        patience=0,
        seed=seed,
        hidden=tuple(int(w) for w in args.hidden.split(",")),
        latent_dim=args.latent_dim,
        pictures=False,
        report=False,
    )
    seconds = time.perf_counter() - started
    recon = torch.as_tensor(inference.reconstruct(run, test.x))
    samples = inference.sample(run, N_SAMPLES, seed=0)
    codes = torch.as_tensor(inference.encode(run, test.x)).float()
    g = torch.Generator().manual_seed(seed)
    row = {
        "model": model,
        "seed": seed,
        "test_mse": float(((recon - test.x) ** 2).mean()),
        "frechet": frechet_distance(
            features(classifier, samples), features(classifier, test.x)
        ),
        "mmd": float(imq_mmd(codes, torch.randn(codes.shape, generator=g))),
        "train_seconds": round(seconds, 1),
    }
    if model == "aae":
        fit = run.model.prior_fit(codes, seed=seed)
        row["d_acc"] = fit["discriminator_accuracy"]
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="mnist-5k")
    p.add_argument("--rows", type=int, default=5000)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--latent-dim", type=int, default=8)
    p.add_argument("--hidden", default="512,256")
    p.add_argument("--models", default="vae,wae,aae")
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--out", default="/tmp/bench-wae-aae")
    args = p.parse_args()
    torch.set_num_threads(1)
    train, test, classifier = judge(args.data, args.rows)
    rows = []
    for model in args.models.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            rows.append(run_one(model, seed, train, test, args, classifier))
            print(json.dumps(rows[-1]), flush=True)
    columns = ["model", "seed", "test_mse", "frechet", "mmd", "d_acc", "train_seconds"]
    for model in args.models.split(","):  # the mean over seeds
        mine = [r for r in rows if r["model"] == model]
        mean = {"model": model, "seed": "mean"}
        for c in columns[2:]:
            values = [r[c] for r in mine if c in r]
            if values:
                mean[c] = statistics.fmean(values)
        rows.append(mean)
    print_table(rows, columns)


if __name__ == "__main__":
    main()
