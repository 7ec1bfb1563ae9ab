"""`aekit train`: train any registered model on any data source."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import (
    add_command,
    add_data_options,
    data_options,
    int_list,
    say,
)

# CLI option -> API option, for model options passed on only when given
MODEL_OPTIONS = {
    "latent_dim": "latent_dim",
    "hidden": "hidden",
    "channels": "channels",
    "upsample": "upsample",
    "activation": "activation",
    "sparsity": "sparsity",
    "likelihood": "likelihood",
    "sigma": "sigma",
    "beta": "beta",
    "kl_warmup": "kl_warmup_epochs",
    "loss": "recon_loss",
}
TRAIN_OPTIONS = [
    "epochs",
    "batch_size",
    "lr",
    "weight_decay",
    "schedule",
    "val_fraction",
    "seed",
    "patience",
    "precision",
    "device",
    "noise",
    "grad_clip",
]


def register(subparsers: Any) -> None:
    from ..models import IMAGE_TO_IMAGE, MODELS, UPSAMPLE_MODES
    from ..models.layers import ACTIVATIONS
    from .tasks import add_train_task_options

    p = add_command(
        subparsers, "train", "train an autoencoder and write a run directory"
    )
    p.set_defaults(func=run)
    p.add_argument(
        "--data",
        default="mnist-5k",
        metavar="SOURCE",
        help="built-in name (see `aekit datasets`), IDX/npy/npz/CSV file, "
        "or image folder (default mnist-5k)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="run directory (default runs/MODEL-DATA, never overwritten)",
    )
    p.add_argument(
        "--resume",
        type=Path,
        metavar="RUN",
        help="continue RUN from its last completed epoch (--epochs may grow)",
    )
    p.add_argument(
        "--force", action="store_true", help="replace an existing run in --out"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument(
        "--tensorboard",
        nargs="?",
        const="",
        metavar="DIR",
        help="also write TensorBoard events (default RUN/tensorboard; "
        "needs aekit[tensorboard])",
    )
    p.add_argument(
        "--no-pictures",
        dest="pictures",
        action="store_false",
        help="skip the PNG files (report.html still embeds the pictures)",
    )
    p.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help="skip report.html (the pictures, configuration and metrics in one page)",
    )

    m = p.add_argument_group("model")
    m.add_argument(
        "--model",
        choices=[*MODELS, *IMAGE_TO_IMAGE],
        help="architecture (default mlp; unet for --task colorize|segment)",
    )
    m.add_argument("--latent-dim", type=int, metavar="N", help="code size (default 16)")
    m.add_argument(
        "--hidden",
        type=int_list,
        metavar="W,W,...",
        help="MLP widths, mirrored in the decoder; '' for a shallow AE",
    )
    m.add_argument(
        "--channels",
        type=int_list,
        metavar="C,C,...",
        help="conv widths, one 2x pooling each (default 32,64)",
    )
    m.add_argument(
        "--upsample",
        choices=UPSAMPLE_MODES,
        help="how the conv decoder upsamples (default transpose)",
    )
    m.add_argument("--activation", choices=list(ACTIVATIONS), help="default relu")
    m.add_argument(
        "--sparsity",
        type=float,
        metavar="W",
        help="L1 penalty weight on the code (a sparse AE)",
    )
    m.add_argument("--loss", choices=["mse", "bce"], help="AE reconstruction loss")
    m.add_argument(
        "--likelihood",
        choices=["auto", "gaussian", "bernoulli"],
        help="VAE decoder (auto: bernoulli for [0,1] data, else gaussian)",
    )
    m.add_argument(
        "--sigma", type=float, help="Gaussian decoder std (default: learned)"
    )
    m.add_argument("--beta", type=float, help="VAE KL weight (default 1)")
    m.add_argument(
        "--kl-warmup",
        type=int,
        metavar="EPOCHS",
        help="ramp the KL weight from 0 over this many epochs",
    )

    t = p.add_argument_group("training")
    t.add_argument("--epochs", type=int, help="default 30")
    t.add_argument("--batch-size", type=int, help="default 64")
    t.add_argument("--lr", type=float, help="AdamW learning rate (default 2e-3)")
    t.add_argument("--weight-decay", type=float, help="default 1e-4")
    t.add_argument("--schedule", choices=["cosine", "constant"], help="default cosine")
    t.add_argument("--val-fraction", type=float, help="held-out share (default 0.1)")
    t.add_argument("--seed", type=int, help="default 0")
    t.add_argument(
        "--patience",
        type=int,
        help="early-stopping patience in epochs; 0 is off (default 10)",
    )
    t.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16"],
        help="auto (default): bf16 where the hardware accelerates it and it was "
        "measured as good as fp32 for the model",
    )
    t.add_argument(
        "--nproc",
        type=int,
        default=1,
        metavar="N",
        help="train in N processes on this machine (DistributedDataParallel)",
    )
    t.add_argument(
        "--stream",
        action="store_true",
        help="read an .npy or raw IDX file in chunks instead of loading it whole",
    )
    t.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    t.add_argument(
        "--noise",
        metavar="KIND:AMOUNT",
        help="denoising: gaussian:0.3, salt-and-pepper:0.1 or mask:0.25",
    )
    t.add_argument("--grad-clip", type=float, metavar="NORM", help="clip gradient norm")
    add_data_options(p)
    add_train_task_options(p)


def run(args: argparse.Namespace) -> int:
    from .. import api, distributed

    if args.nproc > 1 and not distributed.launched_by_torchrun():
        return distributed.launch(args.nproc, run_rank, args)
    if not distributed.main_process():
        args.quiet = True  # rank 0 alone shows progress and the summary
    options = {
        api_name: getattr(args, cli_name)
        for cli_name, api_name in MODEL_OPTIONS.items()
        if getattr(args, cli_name) is not None
    }
    options |= {
        k: getattr(args, k) for k in TRAIN_OPTIONS if getattr(args, k) is not None
    }
    from .tasks import train_task_options

    options |= train_task_options(args)  # --task, --masks, --color-space, ...
    from .ecosystem import tensorboard_progress

    bar = None if args.quiet else ProgressBar()
    board, progress = tensorboard_progress(args, bar)
    try:
        if args.resume is not None:
            run_ = api.train(
                resume=args.resume,
                progress=progress,
                pictures=args.pictures,
                report=args.report,
                **options,
            )
        else:
            options |= {k: v for k, v in data_options(args).items() if v is not None}
            options |= {"stream": True} if args.stream else {}
            run_ = api.train(
                args.data,
                args.model,
                out=args.out,
                overwrite=args.force,
                progress=progress,
                pictures=args.pictures,
                report=args.report,
                **options,
            )
    finally:
        if bar is not None:
            bar.close()
        if board is not None:
            board.close()
    if not args.quiet:
        summarize(run_)
    return 130 if run_.history.stop_reason == "interrupted" else 0


def run_rank(args: argparse.Namespace) -> None:
    """One process of `aekit train --nproc N`: it ends as the CLI would."""
    import logging
    import sys

    from .. import distributed
    from ..errors import AekitError

    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="aekit: %(message)s")
    try:
        code = run(args)
    except AekitError as e:
        if distributed.main_process():
            print(f"aekit: error: {e}", file=sys.stderr)
        code = 2
    if code:
        sys.exit(code)


def summarize(run: Any) -> None:
    h, m = run.history, run.metrics
    stop = {
        "completed": "all epochs done",
        "early-stopped": "stopped early",
        "interrupted": "interrupted (Ctrl-C); resume with --resume",
    }[h.stop_reason]
    say(
        f"trained {run.model_name} for {len(h.rows)} epoch(s), {stop}; "
        f"best epoch {h.best_epoch}, validation loss {h.best_val_loss:.4g}"
    )
    pca_key = next(
        (k for k in m if k.startswith("pca") and k.endswith("_val_mse")), None
    )
    if "val_mse" in m and pca_key:
        say(
            f"validation MSE {m['val_mse']:.4g} (PCA with the same code size: "
            f"{m[pca_key]:.4g}, ratio {m['mse_ratio_to_pca']:.2f})"
        )
    say(f"run directory: {run.path}")
    for name in sorted(p.name for p in run.path.iterdir()):
        if name.endswith(".png"):
            say(f"  picture: {run.path / name}")
    if (run.path / "report.html").is_file():
        say(f"  report (open in a browser): {run.path / 'report.html'}")


class ProgressBar:
    """tqdm over all training steps, with the latest losses as its postfix."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        from tqdm.auto import tqdm

        if event == "epoch_start" and self.bar is None:
            total = info["steps"] * (info["epochs"] - info["epoch"] + 1)
            self.bar = tqdm(total=total, unit="step", dynamic_ncols=True, leave=True)
        if self.bar is None:
            return
        if event == "epoch_start":
            self.bar.set_description(f"epoch {info['epoch']}/{info['epochs']}")
        elif event == "step":
            self.bar.update(1)
        elif event == "epoch_end":
            self.bar.set_postfix(
                loss=f"{info['train_loss']:.4g}", val=f"{info['val_loss']:.4g}"
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
