"""Deep clustering on mnist-5k and Fashion-MNIST: N2D (McConville et al. 2019) and DEC
beside k-means on pixels and on PCA codes (issue 16).

    python benchmarks/clustering.py                      # both data sets, 30 epochs
    python benchmarks/clustering.py --only mnist-5k --epochs 100
    python benchmarks/clustering.py --quick              # a smoke test

Each data set takes 10-15 min at one thread on 2 busy shared cores (the AE 4-8 min,
N2D's UMAP 4-5 min of it, numba's compilation included); run the two with --only in
parallel. Fashion-MNIST trains the same number of steps as the digits (5,000 rows x
epochs).

An MLP autoencoder 784-500-500-2000-10 (the DEC / N2D architecture) is trained with
aekit's loop on each data set, then its codes are clustered with k-means, a Gaussian
mixture and N2D (UMAP to k dims, n_neighbors 20, min_dist 0, then a GMM), and the
autoencoder is fine-tuned by IDEC from the k-means centres. Every row is scored by
matched accuracy, NMI and ARI against the labels, with k = 10. Targets from the
issue: accuracy >= 0.90 on the digits (n2d) and >= 0.60 on Fashion-MNIST.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from aekit.analysis.clustering import cluster_codes, cluster_scores
from aekit.analysis.clustering_dec import dec_fine_tune
from aekit.data import load_dataset
from aekit.models import build_model
from aekit.training.loop import TrainConfig, fit

HERE = Path(__file__).resolve()
FASHION = next(  # ../shared beside the checkout, or beside the worktrees' folder
    (
        p
        for p in (
            HERE.parents[2] / "shared/data/fashion-mnist",
            HERE.parents[3] / "shared/data/fashion-mnist",
        )
        if p.exists()
    ),
    HERE.parents[2] / "shared/data/fashion-mnist",
)
K = 10


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        name = next(x for x in out.splitlines() if x.startswith("Model name"))
        return name.split(":", 1)[1].strip()
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def encode_all(model, x: torch.Tensor) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return torch.cat(
            [model.encode(x[i : i + 1000]) for i in range(0, len(x), 1000)]
        ).numpy()


def run_dataset(name: str, data, *, epochs: int, dec_epochs: int, seed: int) -> list:
    x, y = data.x, data.y.numpy()
    flat = x.flatten(1).numpy()
    rows = []

    def row(method: str, labels, seconds: float) -> None:
        s = cluster_scores(y, labels)
        rows.append((name, method, s["accuracy"], s["nmi"], s["ari"], seconds))
        print(f"  {method:24s} acc {s['accuracy']:.3f}  ({seconds:.0f} s)", flush=True)

    t = time.perf_counter()
    row(
        "kmeans on pixels",
        cluster_codes(flat, k=K, method="kmeans", seed=seed).labels,
        time.perf_counter() - t,
    )
    from sklearn.decomposition import PCA

    t = time.perf_counter()
    pca = PCA(K, random_state=seed).fit_transform(flat)
    row(
        "kmeans on PCA-10",
        cluster_codes(pca, k=K, method="kmeans", seed=seed).labels,
        time.perf_counter() - t,
    )

    torch.manual_seed(seed)
    model = build_model("mlp", data.sample_shape, latent_dim=K, hidden=(500, 500, 2000))
    train, val = data.split(0.1, seed=seed)
    t = time.perf_counter()
    history = fit(
        model,
        train,
        val,
        TrainConfig(
            epochs=epochs, batch_size=128, lr=2e-3, patience=0, seed=seed, device="cpu"
        ),
    )
    train_s = time.perf_counter() - t
    print(
        f"  AE trained {epochs} epochs in {train_s:.0f} s, best val loss "
        f"{history.best_val_loss:.4f}",
        flush=True,
    )
    codes = encode_all(model, x)
    for method in ("kmeans", "gmm", "n2d"):
        t = time.perf_counter()
        labels = cluster_codes(codes, k=K, method=method, seed=seed).labels
        row(f"{method} on AE codes", labels, time.perf_counter() - t)
    if dec_epochs:
        t = time.perf_counter()
        model.train()
        labels, _ = dec_fine_tune(
            model.encode,
            model.decode,
            x,
            k=K,
            epochs=dec_epochs,
            batch_size=256,
            lr=1e-4,
            gamma=10.0,
            seed=seed,
        )
        row("IDEC (from kmeans)", labels, time.perf_counter() - t)
    return rows, train_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few epochs, 2,000 rows")
    ap.add_argument("--epochs", type=int, default=None, help="AE epochs (mnist-5k)")
    ap.add_argument("--fashion-rows", type=int, default=10_000)
    ap.add_argument("--dec-epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", choices=("mnist-5k", "fashion"), help="one data set")
    args = ap.parse_args()
    # one thread: on shared cores two OpenMP threads spent 15x the CPU per step
    torch.set_num_threads(args.threads)
    epochs = args.epochs or (3 if args.quick else 30)
    sets = (
        []
        if args.only == "fashion"
        else [("mnist-5k", load_dataset("mnist-5k"), epochs)]
    )
    if FASHION.exists() and args.only != "mnist-5k":
        fashion = load_dataset(str(FASHION))
        n = 2000 if args.quick else args.fashion_rows
        pick = np.sort(
            np.random.default_rng(args.seed).choice(len(fashion), n, replace=False)
        )
        # same number of steps as the digits: 5,000 rows x epochs
        sets.append(
            (
                f"fashion-mnist-{n // 1000}k",
                fashion.subset(torch.as_tensor(pick)),
                max(1, epochs * 5000 // n),
            )
        )
    if args.quick:
        rows = torch.randperm(5000, generator=torch.Generator().manual_seed(0))[:2000]
        sets = [(s, d.subset(rows), e) for s, d, e in sets]  # mnist-5k is sorted
    dec_epochs = 2 if args.quick else args.dec_epochs
    all_rows = []
    for name, data, e in sets:
        print(f"{name}: {len(data)} images, AE {e} epochs", flush=True)
        rows, _ = run_dataset(
            name, data, epochs=e, dec_epochs=dec_epochs, seed=args.seed
        )
        all_rows += rows
    print(
        f"\nmachine: {machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    print("| data | method | accuracy | NMI | ARI | seconds |")
    print("|---|---|---|---|---|---|")
    for name, method, acc, nmi, ari, sec in all_rows:
        print(f"| {name} | {method} | {acc:.3f} | {nmi:.3f} | {ari:.3f} | {sec:.0f} |")


if __name__ == "__main__":
    main()
