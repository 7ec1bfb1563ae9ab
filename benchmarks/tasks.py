"""Colorization and segmentation bars, recorded in BENCHMARKS.md.

    python benchmarks/tasks.py [--out runs/bench-tasks] [--quick]

1. Segmentation of the synthetic `shapes` demo (64x64, 4 classes): a U-Net with skip
   connections against the plain encoder-decoder (same levels, no skips, slightly
   wider so it has at least as many parameters), and SegNet; pixel accuracy and mIoU
   on the 100 test pictures. Bars: U-Net mIoU >= 0.9; the U-Net beats the plain one.
2. Colorization of the `photos` demo: a U-Net from L to Lab a/b, trained on patches
   of the training photos; PSNR and SSIM on the two held-out photos (coffee,
   flower), whole images, against the grayscale copy. Bar: PSNR above the copy's.

Prints one markdown table per part; the run directories stay under --out.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch

import aekit
from aekit.tasks import evaluate_task

SEGMENT_MODELS = {  # name -> (registry model, channels)
    "U-Net (skips)": ("unet", (8, 16, 32, 64)),
    "plain encoder-decoder": ("encoder-decoder", (8, 17, 34, 68)),
    "SegNet (pooling indices)": ("segnet", (8, 16, 32, 64)),
}
TRAINING = {"batch_size": 16, "lr": 3e-3, "patience": 0, "seed": 0}


def segmentation(out: Path, epochs: int, models: list[str]) -> list[str]:
    rows = [
        "| model | parameters | pixel accuracy | mIoU | IoU circle / square / "
        "triangle | train s |",
        "| --- | ---: | ---: | ---: | --- | ---: |",
    ]
    for label, (model, channels) in SEGMENT_MODELS.items():
        if model not in models:
            continue
        run = aekit.train(
            "shapes",
            model,
            task="segment",
            channels=channels,
            epochs=epochs,
            out=out / f"segment-{model}",
            overwrite=True,
            **TRAINING,
        )
        s = evaluate_task(run, "shapes")
        ious = " / ".join(
            f"{s[f'iou_{c}']:.3f}" for c in ("circle", "square", "triangle")
        )
        rows.append(
            f"| {label} | {run.metrics['parameters']:,} | {s['pixel_accuracy']:.4f} "
            f"| **{s['miou']:.4f}** | {ious} | {run.metrics['train_seconds']:.0f} |"
        )
        print(rows[-1], flush=True)
    return rows


def colorization(out: Path, epochs: int, per_image: int) -> list[str]:
    run = aekit.train(
        "photos",
        "unet",
        task="colorize",
        channels=(8, 16, 32, 64),
        color_space="lab",
        color_loss="l1",
        patch_size=64,
        patches_per_image=per_image,
        epochs=epochs,
        out=out / "colorize-unet",
        overwrite=True,
        **TRAINING,
    )
    return colour_table(run)


def colour_table(run) -> list[str]:
    """Whole-photo scores: each test photo, their mean, and the validation photo."""
    from aekit.data.demo import TEST_PHOTOS, TRAIN_PHOTOS, photo
    from aekit.data.pair_sources import split_images
    from aekit.data.paired import ImagePairs

    def scores(names: list[str]) -> dict:
        return evaluate_task(run, ImagePairs([photo(n) for n in names], names, "x"))

    config = run.train_config
    names_only = ImagePairs([None] * len(TRAIN_PHOTOS), list(TRAIN_PHOTOS), "photos")
    val = split_images(names_only, config.val_fraction, config.seed)[1].names
    rows = [
        "| photo | role | PSNR dB | gray copy PSNR dB | SSIM | gray copy SSIM |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    parts = [([n], "test") for n in TEST_PHOTOS]
    parts += [(list(TEST_PHOTOS), "test, mean")] + [([n], "validation") for n in val]
    for names, role in parts:
        s = scores(names)
        rows.append(
            f"| {' + '.join(names)} | {role} | {s['psnr']:.2f} | "
            f"{s['gray_copy_psnr']:.2f} | {s['ssim']:.4f} | {s['gray_copy_ssim']:.4f} |"
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/bench-tasks"))
    parser.add_argument("--quick", action="store_true", help="1 epoch: wiring only")
    parser.add_argument(
        "--score",
        type=Path,
        metavar="RUN",
        help="only print the colour table of a trained colorize RUN",
    )
    parser.add_argument("--segment-epochs", type=int, default=40)
    parser.add_argument("--colorize-epochs", type=int, default=20)
    parser.add_argument(
        "--part",
        choices=["all", "segment", "colorize"],
        default="all",
        help="run one part only (parts can run side by side)",
    )
    parser.add_argument(
        "--models",
        default="unet,encoder-decoder",
        help="segmentation models to train (add segnet for SegNet)",
    )
    parser.add_argument("--patches-per-image", type=int, default=150)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: on shared, busy cores one thread ran a "
        "training step 5x faster than two)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.score:
        print("\n".join(colour_table(aekit.load_run(args.score))))
        return
    e_seg, e_col = (1, 1) if args.quick else (args.segment_epochs, args.colorize_epochs)
    started = time.perf_counter()
    lines: list[str] = []
    if args.part in ("all", "segment"):
        lines += segmentation(args.out, e_seg, args.models.split(",")) + [""]
    if args.part in ("all", "colorize"):
        lines += colorization(args.out, e_col, args.patches_per_image)
    print()
    print("\n".join(lines))
    print(
        f"\n{platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
