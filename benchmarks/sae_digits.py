"""The L0-FVU frontier of sparse autoencoders on sklearn's 8x8 digits (1,797 images,
64 pixels, offline): TopK across k beside ReLU + L1 across the L1 weight (and, with
--families, BatchTopK and JumpReLU's L0 weight), each trained by the same plain loop
as benchmarks/sae_toy.py, scored on a held-out fifth.

    python benchmarks/sae_digits.py             # pixels centred, unit RMS overall
    python benchmarks/sae_digits.py --raw       # pixels in [0, 1] as aekit loads them
    python benchmarks/sae_digits.py --raw --defaults   # each family at its defaults

The model scales its inputs itself (SAE.input_scale, E||s x|| = sqrt(D)), so the
two preparations differ by centring only.
"""

from __future__ import annotations

import argparse

import torch
from sklearn.datasets import load_digits

from aekit.analysis.sae_metrics import fvu
from aekit.data import load_dataset
from aekit.models import build_model

SWEEP = {
    "topk": ("k", (2, 4, 8, 16)),
    "relu-l1": ("l1", (0.03, 0.1, 0.3, 1.0)),
    "batch-topk": ("k", (2, 4, 8, 16)),
    "jumprelu": ("l0_weight", (0.1, 0.3, 1.0, 3.0)),
}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--latents", type=int, default=512)
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--families", default="topk,relu-l1")
    p.add_argument("--raw", action="store_true", help="pixels in [0, 1], uncentred")
    p.add_argument("--defaults", action="store_true", help="each family once")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.raw:  # the pixels `aekit train --data digits` gives the model
        x = load_dataset("digits").x.reshape(-1, 64).float()
    else:
        x = torch.from_numpy(load_digits().data).float()
        x = (x - x.mean(0)) / x.std()  # centred pixels, unit RMS overall
    g = torch.Generator().manual_seed(0)
    order = torch.randperm(len(x), generator=g)
    test, train = x[order[:360]], x[order[360:]]
    print(f"digits: {len(train)} train, {len(test)} test, {args.latents} latents")
    print(f"{'family':<9}{'knob':>10}{'L0':>8}{'FVU':>8}{'dead%':>7}")
    for family in args.families.split(","):
        knob, values = SWEEP[family]
        for value in (0,) if args.defaults else values:  # 0: the family's default
            torch.manual_seed(0)
            model = build_model(
                "sae", (64,), sae=family, latent_dim=args.latents, **{knob: value}
            )
            value = getattr(model.config, knob)
            model.init_from_data(train)
            opt = torch.optim.Adam(model.parameters(), lr=args.lr)
            model.train()
            for _ in range(args.epochs):
                for batch in train[torch.randperm(len(train))].split(128):
                    opt.zero_grad(set_to_none=True)
                    model.loss(batch, batch)["loss"].backward()
                    opt.step()
            model.eval()
            with torch.no_grad():
                codes = model.encode(test)
                err = fvu(test, model.decode(codes))
            l0 = float((codes > 0).float().sum(1).mean())
            dead = float(((codes > 0).sum(0) == 0).float().mean())
            print(
                f"{family:<9}{f'{knob}={value:g}':>10}{l0:8.2f}{err:8.4f}"
                f"{100 * dead:7.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
