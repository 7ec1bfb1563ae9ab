"""What the running top-k of aekit.analysis.sae_features costs beside encoding alone:
a TopK SAE (width 512, k 32) streams random activations in batches, once only
encoding, once keeping each latent's top inputs, frequency and mean code; the two
passes alternate and the ratio of their medians is the figure.

    python benchmarks/sae_features.py [--rows 100000 --latents 4096 --threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from aekit.analysis.sae_features import latent_features
from aekit.models import build_model


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--latents", type=int, default=4096)
    p.add_argument("--per-latent", type=int, default=16)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build_model(
        "sae", (args.width,), sae="topk", k=32, latent_dim=args.latents
    ).eval()
    x = torch.randn(args.rows, args.width)

    def encode_only() -> None:
        with torch.inference_mode():
            for start in range(0, len(x), args.batch):
                model.encode(x[start : start + args.batch])

    def with_tops() -> None:
        latent_features(
            model.encode, x, per_latent=args.per_latent, batch_size=args.batch
        )

    times: dict[str, list[float]] = {"encode": [], "top-k": []}
    for _ in range(args.repeats):
        for name, fn in (("encode", encode_only), ("top-k", with_tops)):
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"{args.rows} rows of width {args.width}, {args.latents} latents, "
        f"top {args.per_latent}, batch {args.batch}, {args.threads} thread(s)"
    )
    for name, s in med.items():
        print(f"  {name:7s} {args.rows / s:10,.0f} rows/s  ({s:.2f} s median)")
    print(f"  top-k pass / encode pass: {med['top-k'] / med['encode']:.2f}x")
    state = args.latents * args.per_latent * (4 + 8) + args.latents * 16
    print(f"  state kept across batches: {state / 2**20:.2f} MiB")


if __name__ == "__main__":
    main()
