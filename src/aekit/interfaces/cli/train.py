"""`aekit train`: train any registered model on any data source."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from ...errors import AekitError
from .common import (
    add_command,
    add_config_options,
    add_data_options,
    data_options,
    positive_int,
    say,
)

SEPARATE = ()  # TrainConfig fields the command line sets in its own way


def register(subparsers: Any, model: str | None = None) -> None:
    """`aekit train`; with `model`, only the options that model reads."""
    from ...models import options_for
    from ...models.registry import MODELS
    from ...training.config import TrainConfig
    from .tasks import add_train_task_options, runs_image_tasks

    p = add_command(
        subparsers, "train", "train an autoencoder and write a run directory"
    )
    p.set_defaults(func=run)
    p.add_argument(
        "--data",
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

    p.set_defaults(fit_prior=True)
    if model is None or MODELS[model].capabilities.sampler == "learned":
        p.add_argument(
            "--no-prior",
            dest="fit_prior",
            action="store_false",
            help="VQ-VAE: skip fitting the PixelCNN prior after training "
            "(`aekit fit-prior RUN` fits it later; until then the run cannot sample)",
        )

    m = p.add_argument_group("model")
    m.add_argument(
        "--model",
        choices=list(MODELS),
        help="architecture (default: from the data: mlp for tables, conv for images, "
        "conv1d for series, the music model for piano rolls; unet for --task "
        "colorize|segment): "
        + "; ".join(f"{name}: {spec.description}" for name, spec in MODELS.items()),
    )
    if model is None:
        configs = {name: spec.config for name, spec in MODELS.items()}
        ignored: tuple[str, ...] = ()
    else:  # its config's fields, less those its body ignores
        configs = {model: MODELS[model].config}
        fields = {f.name for f in dataclasses.fields(configs[model])}
        ignored = tuple(fields - options_for(model))
    p.set_defaults(config_options=add_config_options(m, configs, skip=ignored))
    t = p.add_argument_group("training")
    p.set_defaults(
        train_options=add_config_options(t, {"training": TrainConfig}, skip=SEPARATE)
    )
    t.add_argument(
        "--nproc",
        type=positive_int,
        default=1,
        metavar="N",
        help="train in N processes on this machine (DistributedDataParallel)",
    )
    t.add_argument(
        "--stream",
        action="store_true",
        help="read an .npy or raw IDX file in chunks instead of loading it whole",
    )
    add_data_options(p)
    a = p.add_argument_group("activations (an SAE on a network's layer)")
    a.add_argument(
        "--activations-of",
        metavar="MODEL",
        help="train on the activations of a network's layer, computed from --data "
        "batch by batch: an aekit run directory, a TorchScript file (.pt) or an "
        "ONNX file (.onnx, needs aekit[export])",
    )
    a.add_argument(
        "--layer",
        metavar="NAME",
        help="the layer of --activations-of: a module name as named_modules() "
        "gives it (e.g. encoder.net.1), or an ONNX tensor name",
    )
    if model is None or runs_image_tasks(model):
        add_train_task_options(p)


def run(args: argparse.Namespace) -> int:
    from ...training import distributed
    from .. import api

    if args.nproc > 1 and not distributed.launched_by_torchrun():
        return distributed.launch(args.nproc, run_rank, args)
    if not distributed.main_process():
        args.quiet = True  # rank 0 alone shows progress and the summary
    given = [*args.config_options, *args.train_options]
    options = {k: getattr(args, k) for k in given if getattr(args, k) is not None}
    from .tasks import train_task_options

    options |= train_task_options(args)  # --task, --masks, --color-space, ...
    from .ecosystem import tensorboard_progress

    bar = None if args.quiet else ProgressBar()
    board, progress = tensorboard_progress(args, bar)
    try:
        if args.resume is not None:
            _check_resume(args)
            run_ = api.train(
                resume=args.resume,
                fit_prior=args.fit_prior,
                progress=progress,
                pictures=args.pictures,
                report=args.report,
                **options,
            )
        else:
            options |= {k: v for k, v in data_options(args).items() if v is not None}
            options |= {"stream": True} if args.stream else {}
            for key in ("activations_of", "layer"):
                if getattr(args, key) is not None:
                    options[key] = getattr(args, key)
            run_ = api.train(
                args.data or "mnist-5k",
                args.model,
                out=args.out,
                overwrite=args.force,
                fit_prior=args.fit_prior,
                progress=progress,
                pictures=args.pictures,
                report=args.report,
                **options,
            )
    except AekitError as e:  # the user typed flags: name them, not config fields
        from .flags import as_flags, option_flags

        e.args = (as_flags(str(e), option_flags()), *e.args[1:])
        raise
    finally:
        if bar is not None:
            bar.close()
        if board is not None:
            board.close()
    if not args.quiet:
        summarize(run_)
    return 130 if run_.history.stop_reason == "interrupted" else 0


def _check_resume(args: argparse.Namespace) -> None:
    """A resumed run keeps its data, model and directory; say so instead of
    ignoring them."""
    given = [
        flag
        for flag, value in (
            ("--data", args.data),
            ("--model", args.model),
            ("--out", args.out),
            ("--force", args.force or None),
            ("--stream", args.stream or None),
            ("--activations-of", args.activations_of),
            ("--layer", args.layer),
        )
        if value is not None
    ]
    given += [f"--{k.replace('_', '-')}" for k, v in data_options(args).items() if v]
    if given:
        raise AekitError(
            f"--resume continues {args.resume} with its recorded settings; "
            f"{', '.join(given)} cannot change"
        )


def run_rank(args: argparse.Namespace) -> None:
    """One process of `aekit train --nproc N`: it ends as the CLI would."""
    import logging
    import sys

    from ...errors import AekitError
    from ...training import distributed

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
        "time-limit": "stopped at the time limit",
        "interrupted": "interrupted (Ctrl-C); resume with --resume",
    }[h.stop_reason]
    chosen = run.record.get("data", {}).get("chosen") or {}
    if "model" in chosen:
        say(f"model {run.model_name}, chosen for the data: {chosen['model']['reason']}")
    for note in chosen.get("series", []):
        say(f"series: {note}")
    if "budget" in chosen:
        say(f"budget: {chosen['budget']}")
    ranks = int((run.record.get("runtime") or {}).get("world_size", 1))
    by = f" in {ranks} processes (world size {ranks})" if ranks > 1 else ""
    say(
        f"trained {run.model_name}{by} for {len(h.rows)} epoch(s), {stop}; "
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
    if "selection" in m:  # a PCA start kept or replaced (aekit.training.selection)
        from ...training.selection import describe

        say(describe(m["selection"]))
    if "sae" in m:
        from ...analysis.sae_metrics import sae_line

        say(sae_line(m["sae"]))
    for warning in m.get("warnings", []):
        say(f"warning: {warning}")
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
