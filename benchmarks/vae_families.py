"""Generative families on mnist-5k: cVAE conditional accuracy, IWAE vs ELBO NLL.

    PYTHONPATH=src python benchmarks/vae_families.py            # about 10 min, 2 cores
    PYTHONPATH=src python benchmarks/vae_families.py --quick    # a smoke test

1. Conditional accuracy: `aekit train --model cvae` on mnist-5k; 100 samples per
   digit drawn with `aekit.sample(run, label=k)`; the share classified as k by an
   RBF support-vector classifier trained on the real training split (its accuracy
   on the real validation split is printed beside it). Bar: >= 90%.
2. IWAE vs ELBO: the same VAE (MLP, code 16) trained for the same epochs with
   `--objective elbo` and `--objective iwae:K`; both scored by aekit's
   importance-weighted NLL (aekit.likelihood, k importance samples) on the same
   held-out examples. Burda et al. 2016 report a lower NLL for IWAE.
3. Priors: the same VAE with `--prior mog:10` and `--prior vamp:50`, same NLL.
   NB: aekit.likelihood scores log p(z) under N(0, I), so for those runs this
   column uses the model's own prior (VAE.log_prior) in the same estimator.
"""

from __future__ import annotations

import argparse
import math
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import aekit
from aekit.likelihood import LOG_2PI, importance_weighted_nll
from aekit.run import run_splits


def prior_nll(model, x: torch.Tensor, k: int, seed: int) -> float:
    """-L_k with the model's own prior; aekit.likelihood assumes N(0, I)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    with torch.no_grad():
        for i in range(0, len(x), max(1, 4096 // k)):
            xb = x[i : i + max(1, 4096 // k)]
            mu, logvar = model.encode_distribution(xb)
            eps = torch.randn(len(xb), k, mu.shape[1], generator=g)
            z = (mu[:, None] + torch.exp(0.5 * logvar)[:, None] * eps).flatten(0, 1)
            ll = model.log_likelihood(
                xb.repeat_interleave(k, 0), model.decode_logits(z)
            )
            log_q = -0.5 * (eps.pow(2) + logvar[:, None] + LOG_2PI).sum(-1)
            log_w = ll.reshape(-1, k) + model.log_prior(z).reshape(-1, k) - log_q
            out.append(torch.logsumexp(log_w, 1) - math.log(k))
    return float(-torch.cat(out).mean())


def train(model: str, out: Path, epochs: int, **options) -> tuple[object, float]:
    start = time.perf_counter()
    run = aekit.train(
        "mnist-5k",
        model,
        out=out,
        overwrite=True,
        epochs=epochs,
        pictures=False,
        report=False,
        **options,
    )
    return run, time.perf_counter() - start


def conditional_accuracy(tmp: Path, epochs: int, per: int) -> None:
    from sklearn.svm import SVC

    for latent_dim in (2, 8):
        _conditional_accuracy(tmp, epochs, per, latent_dim, SVC)


def _conditional_accuracy(
    tmp: Path, epochs: int, per: int, latent_dim: int, classifier: type
) -> None:
    run, seconds = train("cvae", tmp / "cvae", epochs, latent_dim=latent_dim)
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
        f"cvae, code {latent_dim}, {epochs} epochs ({seconds:.0f} s): samples "
        "classified as the asked"
    )
    print(
        f"  digit {np.mean(hits):.1%} (per digit {', '.join(f'{h:.0%}' for h in hits)})"
    )
    print(f"  classifier (SVC, RBF) on real validation digits: {real:.1%}")


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
        if "prior" in options:
            nll = prior_nll(run.model, x, k, seed=0)
        else:
            nll = importance_weighted_nll(run.model, x, k=k, seed=0).nats
        loss = run.history.rows[-1]["val_loss"]
        print(f"  {name:<16}{nll:>10.2f}{loss:>11.2f}{seconds:>9.0f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--part", choices=("all", "cvae", "nll"), default="all")
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
        f"{torch.get_num_threads()} threads"
    )
    with tempfile.TemporaryDirectory() as tmp:
        if args.part in ("all", "cvae"):
            conditional_accuracy(Path(tmp), epochs, 10 if args.quick else 100)
        k, n = (10, 50) if args.quick else (500, 500)
        if args.part in ("all", "nll"):
            nll_table(Path(tmp), epochs, k, n, iwae=5)


if __name__ == "__main__":
    main()
