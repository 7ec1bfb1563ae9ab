"""Sparse autoencoders on toy data with known features in superposition (Elhage et
al. 2022): n unit features in d < n dimensions, each on with a small probability.
For each family across a sweep of its sparsity knob (k for TopK and BatchTopK, the
L1 weight, JumpReLU's L0 weight) it prints L0, FVU, dead latents, the mean over
true features of the best cosine a dictionary column reaches and the fraction
recovered at cosine >= 0.9; then the throughput of one training step (vectors/s)
and where the step's time goes.

    python benchmarks/sae_toy.py            # the default sweep, a few minutes
    python benchmarks/sae_toy.py --quick    # a smoke run

The training here is a plain loop over the model's own loss (the same SAE class
that `aekit train --model sae` builds); `--through-fit` also times aekit's trainer.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import torch

from aekit.analysis.sae_metrics import feature_recovery, fvu
from aekit.data.superposition import superposition
from aekit.models import build_model

SWEEP = {
    "topk": ("k", (3, 5, 8, 12)),
    "batch-topk": ("k", (3, 5, 8, 12)),
    "relu-l1": ("l1", (0.3, 1.0, 3.0, 10.0)),
    "jumprelu": ("l0_weight", (0.3, 1.0, 3.0, 10.0)),
}


def train(family: str, knob: str, value: float, data: torch.Tensor, args) -> dict:
    torch.manual_seed(0)
    options = {"sae": family, "latent_dim": args.latents, knob: value}
    if args.aux_off:
        options["aux_k"] = -1
    if args.resample_every:
        options["resample_every"] = args.resample_every
    model = build_model("sae", (data.shape[1],), **options)
    model.init_from_data(data[:4096])
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.epochs * math.ceil(len(data) / args.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (steps - s) / (0.2 * steps))
    )  # linear decay over the last fifth (Gao et al.)
    model.train()
    started = time.perf_counter()
    for _ in range(args.epochs):
        for batch in data[torch.randperm(len(data))].split(args.batch):
            opt.zero_grad(set_to_none=True)
            model.loss(batch, batch)["loss"].backward()
            opt.step()
            sched.step()
    seconds = time.perf_counter() - started
    return {"model": model, "seconds": seconds}


def score(model, test: torch.Tensor, features: torch.Tensor) -> dict:
    model.eval()
    with torch.no_grad():
        codes = model.encode(test)
        x_hat = model.decode(codes)
    density = (codes > 0).double().mean(0)
    return {
        "l0": float((codes > 0).double().sum(1).mean()),
        "fvu": fvu(test, x_hat),
        "dead": float((density == 0).double().mean()),
        **feature_recovery(model.dictionary(), features),
    }


def throughput(width: int, latents: int, batch: int, steps: int) -> dict:
    """Vectors/s of one TopK training step, and the step's parts."""
    torch.manual_seed(0)
    model = build_model("sae", (width,), sae="topk", k=32, latent_dim=latents)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(batch, width)
    model.train()
    parts = {"forward+loss": 0.0, "backward": 0.0, "adam": 0.0}
    for i in range(steps + 5):
        t0 = time.perf_counter()
        loss = model.loss(x, x)["loss"]
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if i >= 5:
            for k, v in zip(parts, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                parts[k] += v
    total = sum(parts.values())
    return {
        "width": width,
        "latents": latents,
        "batch": batch,
        "vectors_per_s": batch * steps / total,
        **{k: v / total for k, v in parts.items()},
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--features", type=int, default=512)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--density", type=float, default=0.01)
    p.add_argument("--samples", type=int, default=100_000)
    p.add_argument("--latents", type=int, default=1024)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--aux-off", action="store_true", help="train without AuxK")
    p.add_argument(
        "--resample-every", type=int, default=0, help="resample dead latents"
    )
    p.add_argument("--families", default=",".join(SWEEP))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--no-throughput", action="store_true")
    p.add_argument("--json", help="write the rows here")
    args = p.parse_args()
    if args.quick:
        args.samples, args.epochs = 20_000, 1
    torch.set_num_threads(args.threads)
    x, features = superposition(
        args.samples + 10_000, args.features, args.dim, args.density, seed=0
    )
    data = torch.from_numpy(x)
    data *= math.sqrt(args.dim) / data.norm(dim=1).mean()  # E||x|| = sqrt(d)
    train_x, test_x = data[:-10_000], data[-10_000:]
    feats = torch.from_numpy(features)
    print(
        f"{args.features} features in {args.dim} dims, density {args.density}, "
        f"{args.samples} training vectors, {args.latents} latents, "
        f"{args.epochs} epochs, batch {args.batch}, {args.threads} threads"
    )
    print(
        f"{'family':<11}{'knob':>16}{'L0':>8}{'FVU':>8}{'dead%':>7}"
        f"{'mmcs':>7}{'rec>0.9':>8}{'s':>6}"
    )
    rows = []
    for family in args.families.split(","):
        knob, values = SWEEP[family]
        for value in values:
            out = train(family, knob, value, train_x, args)
            row = {"family": family, knob: value, **score(out["model"], test_x, feats)}
            row["seconds"] = out["seconds"]
            rows.append(row)
            print(
                f"{family:<11}{f'{knob}={value:g}':>16}{row['l0']:8.2f}"
                f"{row['fvu']:8.4f}{100 * row['dead']:7.1f}"
                f"{row['mean_max_cosine']:7.3f}{row['recovered']:8.3f}"
                f"{row['seconds']:6.1f}",
                flush=True,
            )
    for latents in () if args.no_throughput else (512, 1024, 4096):
        t = throughput(512, latents, 1024, 5 if args.quick else 20)
        rows.append({"throughput": t})
        print(
            f"throughput width 512, {latents} latents, batch 1024: "
            f"{t['vectors_per_s']:,.0f} vectors/s (forward+loss "
            f"{t['forward+loss']:.0%}, backward {t['backward']:.0%}, "
            f"adam {t['adam']:.0%})",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1, default=float)


if __name__ == "__main__":
    main()
