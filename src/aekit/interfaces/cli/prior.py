"""`aekit fit-prior`: fit (again) the learned prior a run samples through (the
PixelCNN over a VQ-VAE's code grid, kept in RUN/stages/prior/)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import add_command, finite_float, positive_int, say


def register(subparsers: Any) -> None:
    from ...models.vqvae.config import PRIOR_BATCH, PRIOR_EPOCHS, PRIOR_LR

    p = add_command(
        subparsers,
        "fit-prior",
        "fit the learned prior of a VQ-VAE run (a PixelCNN over its code grid)",
    )
    p.add_argument("run", type=Path, metavar="RUN")
    p.add_argument(
        "--epochs",
        type=positive_int,
        default=PRIOR_EPOCHS,
        help=f"passes over the code grids (default {PRIOR_EPOCHS})",
    )
    p.add_argument(
        "--lr",
        type=finite_float,
        default=PRIOR_LR,
        help=f"AdamW learning rate (default {PRIOR_LR:g})",
    )
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=PRIOR_BATCH,
        metavar="N",
        help=f"code grids per step (default {PRIOR_BATCH})",
    )
    p.add_argument(
        "--width", type=positive_int, metavar="N", help="feature maps (default 32)"
    )
    p.add_argument(
        "--layers", type=int, metavar="N", help="gated masked layers (default 4)"
    )
    p.set_defaults(func=fit_prior)


def fit_prior(args: argparse.Namespace) -> int:
    from ...training.stages import stage_dir
    from .. import api

    history = api.fit_prior(
        args.run,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        width=args.width,
        layers=args.layers,
    )
    best = next(r for r in history.rows if r["epoch"] == history.best_epoch)
    say(
        f"fitted the prior for {len(history.rows)} epoch(s); best epoch "
        f"{history.best_epoch}, validation {best['val_bits_per_code']:.4g} bits per "
        "code",
        f"prior: {stage_dir(args.run, 'prior')}",
    )
    return 0
