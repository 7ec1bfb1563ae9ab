"""Generative families side by side: aekit's vae, vq-vae and vae-gan, and pythae
0.1.2's VQVAE and VAEGAN on the same data, epochs and code size.

    python benchmarks/generative.py --data mnist-5k --epochs 5 --out /tmp/bench-gen
    python benchmarks/generative.py --data /work/shared/data/fashion-mnist --rows 5000

A seeded subset of `--rows` images is cut into test (1,000) and train (the rest;
aekit keeps 10% of it for validation, pythae trains on all of it). Figures, all on
the test images: reconstruction MSE; the sample-quality number of
aekit.analysis.sample_quality (the Fréchet distance between 1,000 samples and the test
images in the features of one classifier trained on the train images, the same
classifier for every model; "floor" is the train images' own distance); codebook
usage (codes used of K, perplexity) for VQ models; train seconds (the prior's
seconds separately). pythae runs in its own environment (--pythae-python) through
benchmarks/pythae_generative.py, on aekit's networks.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from aekit import inference  # noqa: E402
from aekit.analysis.sample_quality import frechet_distance, train_classifier  # noqa: E402
from aekit.data import Dataset, load_dataset  # noqa: E402
from aekit.interfaces import api  # noqa: E402
from aekit.models.vqvae.model import perplexity  # noqa: E402

N_TEST = 1000
N_SAMPLES = 1000


def load(name: str, rows: int) -> tuple[Dataset, Dataset]:
    options = {"split": "train"} if Path(name).is_dir() else {}
    data = load_dataset(name, **options)
    index = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    data = data.subset(index[:rows])
    return data.subset(slice(N_TEST, None)), data.subset(slice(0, N_TEST))


def judge(name: str, rows: int) -> tuple[Dataset, Dataset, Any]:
    """The seeded train/test split and the classifier whose features every row's
    Fréchet distance uses; prints its accuracy and the train-vs-test floor."""
    train, test = load(name, rows)
    classifier = train_classifier(train, int(train.y.max()) + 1, seed=0)
    floor = frechet_distance(
        features(classifier, train.x[:N_TEST]), features(classifier, test.x)
    )
    accuracy = float((classifier(test.x).argmax(1) == test.y).float().mean())
    print(
        f"data {name}: {len(train)} train, {len(test)} test; classifier "
        f"accuracy {accuracy:.3f}; Fréchet floor (train vs test) {floor:.2f}"
    )
    return train, test, classifier


def features(classifier, x: torch.Tensor) -> np.ndarray:
    return inference.batched(classifier.features, torch.as_tensor(x)).numpy()


def score(name, recon, samples, test, classifier, seconds, indices=None, k=None):
    row = {
        "model": name,
        "test_mse": float(((torch.as_tensor(recon) - test.x) ** 2).mean()),
        "frechet": frechet_distance(
            features(classifier, samples), features(classifier, test.x)
        ),
        "train_seconds": round(seconds["train"], 1),
        "prior_seconds": round(seconds.get("prior", 0.0), 1) or None,
    }
    if indices is not None:
        index = torch.as_tensor(np.asarray(indices)).long().reshape(-1)
        row["codes_used"] = f"{int(torch.unique(index).numel())}/{k}"
        row["perplexity"] = round(float(perplexity(index, k)), 1)
    return row


def run_aekit(model, train, test, args, classifier) -> dict:
    options = {"latent_dim": args.latent_dim}
    if model == "vq-vae":
        options = {"codebook_size": args.codebook_size, "code_dim": args.latent_dim}
    if model == "vae-gan":
        options |= {"hidden": (512, 256)}
    from aekit.tasks import learned_prior

    learned_prior.PRIOR_EPOCHS = args.prior_epochs
    started = time.perf_counter()
    run = api.train(
        train,
        model,
        out=Path(args.out) / f"aekit-{model}",
        overwrite=True,
        epochs=args.epochs,
        patience=0,
        pictures=False,
        report=False,
        **options,
    )
    total = time.perf_counter() - started
    prior = (run.metrics.get("prior") or {}).get("train_seconds", 0.0)
    seconds = {"train": sum(r["seconds"] for r in run.history.rows), "prior": prior}
    seconds["total"] = total
    recon = inference.reconstruct(run, test.x)
    samples = inference.sample(run, N_SAMPLES, seed=0)
    indices = inference.encode(run, test.x) if model == "vq-vae" else None
    return score(
        f"aekit {model}",
        recon,
        samples,
        test,
        classifier,
        seconds,
        indices,
        args.codebook_size,
    )


def run_pythae(model, train, test, args, classifier) -> dict:
    out = Path(args.out) / f"pythae-{model}"
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "train.npy", train.x.numpy())
    np.save(out / "test.npy", test.x.numpy())
    request = {
        "model": model,
        "train": str(out / "train.npy"),
        "test": str(out / "test.npy"),
        "epochs": args.epochs,
        "prior_epochs": args.prior_epochs,
        "latent_dim": args.latent_dim,
        "codebook_size": args.codebook_size,
        "n_samples": N_SAMPLES,
        "out": str(out),
        "threads": 1,
    }
    subprocess.run(
        [args.pythae_python, str(REPO / "benchmarks" / "pythae_generative.py")],
        input=json.dumps(request),
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    result = json.loads((out / "result.json").read_text())
    seconds = {"train": result["train_seconds"], "prior": result.get("prior_seconds")}
    indices = np.load(out / "indices.npy") if model == "vqvae" else None
    return score(
        f"pythae {model.upper()}",
        np.load(out / "recon.npy"),
        np.load(out / "samples.npy"),
        test,
        classifier,
        {k: v or 0.0 for k, v in seconds.items()},
        indices,
        args.codebook_size,
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="mnist-5k")
    p.add_argument("--rows", type=int, default=5000)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--prior-epochs", type=int, default=10)
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--codebook-size", type=int, default=128)
    p.add_argument("--models", default="vae,vq-vae,vae-gan,vqvae,vaegan")
    p.add_argument("--pythae-python", default="/work/venv-pythae/bin/python")
    p.add_argument("--out", default="/tmp/bench-generative")
    args = p.parse_args()
    torch.set_num_threads(1)
    train, test, classifier = judge(args.data, args.rows)
    rows = []
    for model in args.models.split(","):
        runner = run_pythae if model in ("vqvae", "vaegan") else run_aekit
        rows.append(runner(model, train, test, args, classifier))
        print(json.dumps(rows[-1]), flush=True)
    columns = ["model", "test_mse", "frechet", "codes_used", "perplexity"]
    print_table(rows, [*columns, "train_seconds", "prior_seconds"])


def print_table(rows: list[dict], columns: list[str]) -> None:
    """rows as a markdown table of `columns` ("-" where a row has no value)."""
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    for row in rows:
        print("| " + " | ".join(_cell(c, row.get(c)) for c in columns) + " |")


def _cell(column: str, value) -> str:
    if value is None:
        return "-"
    if column in ("test_mse", "mmd"):
        return f"{value:.4f}"
    if column == "d_acc":
        return f"{value:.3f}"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
