"""The first epoch of the default conv autoencoder, per upsampling mode (issue 25, 11).

    OMP_NUM_THREADS=1 python benchmarks/conv_first_epoch.py
    python benchmarks/conv_first_epoch.py --data mnist-5k --seeds 0,1,2
    python benchmarks/conv_first_epoch.py --starts mean      # the fixed default only

Each cell trains the model `aekit train --data X --upsample MODE` builds (the task
layer's defaults: model, code size, start, output, the step budget and its
learning-rate schedule) for one epoch and prints its validation MSE over PCA's at
the same code size (PCA fitted on the run's training split). `--starts` compares
the decoder starts: zero (the decoder before this fix) and mean (the default now:
the output starts at the training data's mean image). Data: mnist-5k and digits
(built in), and from benchmarks/panel_data.py the 2,000-image Fashion subset and
400 photo patches (the training folders; small sets take the PCA start, where the
decoder start does not apply).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from aekit.analysis.metrics import pca_reconstruction_mse  # noqa: E402
from aekit.models.configs import UPSAMPLE_MODES  # noqa: E402
from aekit.tasks.autoencoding import prepare_reconstruction  # noqa: E402
from aekit.training.budget import steps_per_epoch  # noqa: E402
from aekit.training.config import TrainConfig  # noqa: E402
from aekit.training.loop import fit  # noqa: E402

DATA = ("mnist-5k", "digits", "fashion-2000", "photo-patches-400")


class _EpochDone(Exception):
    """Raised from the progress hook to stop after the first epoch."""


def _stop_after_first(event: str, info: dict) -> None:
    if event == "epoch_end":
        raise _EpochDone


def source_of(name: str, cache: Path) -> str:
    """A built-in name or an existing path as it is, a panel image set as its
    training folder."""
    if name in ("mnist-5k", "digits") or Path(name).exists():
        return name
    import panel_data

    folders = {e[0]: e[2] for e in panel_data.image_sets(cache, False)}
    if name not in folders:
        raise SystemExit(f"no panel image set {name!r} (Fashion-MNIST missing?)")
    return folders[name]


def val_mse(model: torch.nn.Module, x: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        x_hat = torch.cat([model(x[i : i + 512]) for i in range(0, len(x), 512)])
    return float((x_hat.float() - x).pow(2).mean())


def first_epoch(source: str, mode: str, start: str, seed: int) -> dict:
    """Validation MSE x PCA after one epoch at the defaults, and what it ran."""
    config = TrainConfig(seed=seed)
    options = {"upsample": mode, "decoder_start": start}
    prepared = prepare_reconstruction(source, "conv", options, config)
    try:
        fit(prepared.model, prepared.train, prepared.val, config,
            progress=_stop_after_first)  # fmt: skip
    except _EpochDone:
        pass
    model = prepared.model
    pca = pca_reconstruction_mse(
        prepared.train.x.numpy(), prepared.val.x.numpy(), model.latent_dim
    )
    return {
        "ratio": val_mse(model, prepared.val.x) / pca,
        "steps": steps_per_epoch(len(prepared.train), config.batch_size),
        "start": model.config.start,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=",".join(DATA))
    p.add_argument("--modes", default=",".join(UPSAMPLE_MODES))
    p.add_argument("--starts", default="zero,mean", help="decoder starts to compare")
    p.add_argument("--seeds", default="0", help="comma-separated; the median shown")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cache", type=Path, default=Path("/tmp/aekit-panel"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    starts, seeds = args.starts.split(","), [int(s) for s in args.seeds.split(",")]
    print(
        f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} thread(s), seeds {args.seeds}, {time.strftime('%Y-%m-%d')}"
    )
    heads = " | ".join(f"decoder {s}: val x PCA" for s in starts)
    print(f"| data | steps / epoch | start | upsampling | {heads} |")
    print("|---|---:|---|---|" + "---:|" * len(starts))
    for name in args.data.split(","):
        source = source_of(name, args.cache)
        for mode in args.modes.split(","):
            cells, row = [], {}
            for start in starts:
                runs = [first_epoch(source, mode, start, s) for s in seeds]
                row = runs[0]
                ratios = [r["ratio"] for r in runs]
                shown = f"{statistics.median(ratios):.3f}"
                if len(ratios) > 1:
                    shown += f" ({min(ratios):.2f}-{max(ratios):.2f})"
                cells.append(shown)
            print(
                f"| {name} | {row['steps']} | {row['start']} | {mode} | "
                + " | ".join(cells)
                + " |",
                flush=True,
            )


if __name__ == "__main__":
    main()
