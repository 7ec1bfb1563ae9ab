"""Generative families: cVAE conditional accuracy, IWAE vs ELBO NLL, priors.

    PYTHONPATH=src python benchmarks/vae_families.py            # about 10 min, 2 cores
    PYTHONPATH=src python benchmarks/vae_families.py --quick    # a smoke test

1. Conditional accuracy: `aekit train --model cvae` (mnist-5k) with `--prior
   standard` and `--prior conditional`, and `--decoder-condition input|every` (the
   defaults: conditional, every); 100 samples per
   digit drawn with `aekit.sample(run, label=k)`; the share classified as k by an
   RBF support-vector classifier trained on the real training split (its accuracy
   on the real validation split is printed beside it). Bar: >= 90%.
2. IWAE vs ELBO: the same VAE (MLP, code 16) trained for the same epochs with
   `--objective elbo` and `--objective iwae:K`; both scored by aekit's
   importance-weighted NLL (aekit.analysis.likelihood, k importance samples) on the same
   held-out examples. Burda et al. 2016 report a lower NLL for IWAE.
3. Priors: the same VAE with `--prior mog:10` and `--prior vamp:50`, same NLL
   (aekit.analysis.likelihood scores log p(z) under the model's own prior).

`--data` picks the source (mnist-5k, or a Fashion-MNIST folder with `--rows`),
`--codes` the cVAE code sizes.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import aekit
from aekit.analysis.likelihood import importance_weighted_nll
from aekit.run import run_splits

SOURCE: object = "mnist-5k"  # the data every run trains on (main() may change it)


def source(name: str, rows: int, tmp: Path) -> object:
    """A built-in source by name, or a seeded `rows` of a folder's training images,
    written to an .npz in tmp (a run reloads its data by name to split it again)."""
    if not Path(name).is_dir():
        return name
    data = aekit.load_dataset(name, split="train")
    index = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    data = data.subset(index[:rows])
    path = tmp / f"subset-{rows}.npz"
    x = np.round(data.scaling.to_source(data.x)).astype(np.uint8)  # as stored
    np.savez(path, x=x, y=data.y.numpy())
    return str(path)


def train(model: str, out: Path, epochs: int, **options) -> tuple[object, float]:
    start = time.perf_counter()
    run = aekit.train(
        SOURCE,
        model,
        out=out,
        overwrite=True,
        epochs=epochs,
        pictures=False,
        report=False,
        **options,
    )
    return run, time.perf_counter() - start


def conditional_accuracy(tmp: Path, epochs: int, per: int, codes: list[int]) -> None:
    from sklearn.svm import SVC

    variants = [("standard", "input"), ("conditional", "input")]
    variants += [("conditional", "every")]  # the defaults
    for latent_dim in codes:
        for prior, decoder in variants:
            _conditional_accuracy(tmp, epochs, per, latent_dim, prior, decoder, SVC)


def _conditional_accuracy(
    tmp: Path,
    epochs: int,
    per: int,
    latent_dim: int,
    prior: str,
    decoder: str,
    classifier: type,
) -> None:
    run, seconds = train(
        "cvae",
        tmp / "cvae",
        epochs,
        latent_dim=latent_dim,
        prior=prior,
        decoder_condition=decoder,
    )
    train_set, val = run_splits(run)
    clf = classifier().fit(train_set.x.flatten(1).numpy(), train_set.y.numpy())
    real = float((clf.predict(val.x.flatten(1).numpy()) == val.y.numpy()).mean())
    hits = []
    for k in range(10):
        # samples come back in source units (0..255); the classifier saw model units
        x = run.scaling.from_source(aekit.sample(run, per, label=k, seed=k))
        x = x.flatten(1).numpy()
        hits.append(float((clf.predict(x) == k).mean()))
    print(
        f"cvae, --prior {prior} --decoder-condition {decoder}, code {latent_dim}, "
        f"{epochs} epochs ({seconds:.0f} s): "
        "samples classified as the asked"
    )
    print(
        f"  class {np.mean(hits):.1%} (per class {', '.join(f'{h:.0%}' for h in hits)})"
    )
    val_loss = run.history.rows[-1]["val_loss"]
    print(f"  validation loss (negative ELBO, nats) {val_loss:.2f}")
    print(f"  classifier (SVC, RBF) on the real validation images: {real:.1%}")


def nll_table(tmp: Path, epochs: int, k: int, n: int, iwae: int) -> None:
    rows = [
        ("vae elbo", {}),
        (f"vae iwae:{iwae}", {"objective": f"iwae:{iwae}"}),
        ("vae mog:10", {"prior": "mog:10"}),
        ("vae vamp:50", {"prior": "vamp:50"}),
    ]
    print(f"\nNLL (nats, k={k}, {n} validation examples), {epochs} epochs each:")
    print(f"  {'model':<16}{'NLL':>10}{'val loss':>11}{'train s':>9}")
    for name, options in rows:
        torch.manual_seed(0)
        run, seconds = train(
            "vae", tmp / name.replace(" ", "-"), epochs, latent_dim=16, **options
        )
        _, val = run_splits(run)
        x = val.x[:n]
        nll = importance_weighted_nll(run.model, x, k=k, seed=0).nats
        loss = run.history.rows[-1]["val_loss"]
        print(f"  {name:<16}{nll:>10.2f}{loss:>11.2f}{seconds:>9.0f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--part", choices=("all", "cvae", "nll"), default="all")
    p.add_argument("--data", default="mnist-5k", help="a source name or folder")
    p.add_argument("--rows", type=int, default=5000, help="images of a folder")
    p.add_argument("--codes", default="2,8", help="cVAE code sizes (default 2,8)")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    epochs = 1 if args.quick else args.epochs
    cpu = (
        subprocess.run(
            "lscpu | grep 'Model name'", shell=True, capture_output=True, text=True
        )
        .stdout.split(":")[-1]
        .strip()
    )
    print(
        f"machine: {cpu or platform.processor()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; data {args.data}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        global SOURCE
        SOURCE = source(args.data, args.rows, Path(tmp))
        if args.part in ("all", "cvae"):
            codes = [int(c) for c in args.codes.split(",")]
            conditional_accuracy(Path(tmp), epochs, 10 if args.quick else 100, codes)
        k, n = (10, 50) if args.quick else (500, 500)
        if args.part in ("all", "nll"):
            nll_table(Path(tmp), epochs, k, n, iwae=5)


if __name__ == "__main__":
    main()
