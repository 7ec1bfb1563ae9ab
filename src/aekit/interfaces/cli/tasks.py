"""`aekit colorize` and `aekit segment`, and the `aekit train` options for them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ...errors import AekitError
from .common import (
    add_command,
    add_force,
    check_out_dir,
    finite_float,
    float_list,
    inputs_arg,
    positive_int,
    say,
)


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers, "colorize", "colour grayscale images with a --task colorize run"
    )
    p.add_argument("run", type=Path, metavar="RUN")
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUTS",
        help="image files or a folder (any size; colour images are read as their "
        "lightness), or 'photos' for the held-out demo photos",
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR")
    add_force(p)
    p.set_defaults(func=colorize)

    p = add_command(
        subparsers, "segment", "label every pixel of images with a --task segment run"
    )
    p.add_argument("run", type=Path, metavar="RUN")
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUTS",
        help="image files or a folder (any size), or 'shapes' for the demo test set",
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="writes DIR/masks/NAME.png (palette PNGs of class ids, and "
        "classes.txt) and DIR/overlays/NAME.png",
    )
    p.add_argument(
        "--alpha",
        type=finite_float,
        default=0.5,
        help="opacity of the class colours in the overlays (default 0.5)",
    )
    p.add_argument(
        "--no-overlay", dest="overlay", action="store_false", help="masks only"
    )
    add_force(p)
    p.set_defaults(func=segment)


def add_train_task_options(parser: argparse.ArgumentParser) -> None:
    """The `aekit train` options for --task colorize and --task segment."""
    g = parser.add_argument_group("image-to-image tasks")
    g.add_argument(
        "--task",
        choices=["reconstruct", "colorize", "segment"],
        help="reconstruct (autoencoders, default); colorize: L -> colour; segment: "
        "image -> class per pixel (models unet, encoder-decoder, segnet)",
    )
    g.add_argument(
        "--masks",
        metavar="MASKS",
        help="segment: folder of palette or integer PNG masks named like the images",
    )
    g.add_argument(
        "--classes",
        metavar="FILE",
        help="segment: class names, one per line in id order (default "
        "MASKS/classes.txt when present, else ids 0..max)",
    )
    g.add_argument(
        "--color-space",
        choices=["lab", "rgb"],
        help="colorize: predict Lab a/b (default) or RGB",
    )
    g.add_argument("--color-loss", choices=["l1", "mse"], help="colorize: default l1")
    g.add_argument(
        "--patch-size",
        type=positive_int,
        metavar="N",
        help="side of the random square training patches (default 64)",
    )
    g.add_argument(
        "--patches-per-image",
        type=positive_int,
        metavar="N",
        help="default: enough to cover each image about twice",
    )
    g.add_argument(
        "--class-weights",
        type=class_weights,
        metavar="auto|none|W,W,...",
        help="segment: cross-entropy weight per class; auto is median-frequency "
        "balancing (default none)",
    )
    g.add_argument(
        "--ignore-index",
        type=int,
        metavar="ID",
        help="segment: mask value that counts for nothing (default 255)",
    )


def train_task_options(args: argparse.Namespace) -> dict[str, Any]:
    """The `aekit train` options of the image-to-image tasks (dest names are the
    API's option names)."""
    from ...tasks.training import TASK_OPTIONS

    options = {k: getattr(args, k, None) for k in (*TASK_OPTIONS, "task")}
    return {k: v for k, v in options.items() if v is not None}


def class_weights(text: str) -> str | tuple[float, ...]:
    if text in ("auto", "none"):
        return text
    try:
        return float_list(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected auto, none or comma-separated numbers, got {text!r}"
        ) from None


def colorize(args: argparse.Namespace) -> int:
    from ...data.pixels import save_png
    from ...tasks.apply import as_task_run, colorize_pairs, input_images

    out = _out_dir(args.out, args.force)
    run = as_task_run(args.run, "colorize")
    pairs = input_images(inputs_arg(args.inputs))
    for name, rgb in zip(_unique(pairs.names), colorize_pairs(run, pairs), strict=True):
        save_png(out / f"{name}.png", rgb)
    say(f"wrote {len(pairs.names)} colour image(s) to {out}")
    return 0


def segment(args: argparse.Namespace) -> int:
    import numpy as np

    from ...analysis.segmentation import mask_png_bytes, overlay
    from ...data.io import write_bytes, write_text
    from ...data.pixels import save_png
    from ...tasks.apply import as_task_run, input_images, segment_pairs

    out = _out_dir(args.out, args.force)
    run = as_task_run(args.run, "segment")
    palette = np.asarray(run.data_spec["task"]["palette"], dtype=np.uint8)
    pairs = input_images(inputs_arg(args.inputs))
    names = _unique(pairs.names)
    for name, image, ids in zip(
        names, pairs.images, segment_pairs(run, pairs), strict=True
    ):
        write_bytes(out / "masks" / f"{name}.png", mask_png_bytes(ids, palette))
        if args.overlay:
            tinted = overlay(image, ids, palette, alpha=args.alpha)
            save_png(out / "overlays" / f"{name}.png", tinted / 255.0)
    if run.classes:
        write_text(out / "masks" / "classes.txt", "\n".join(run.classes) + "\n")
    what = "masks and overlays" if args.overlay else "masks"
    say(f"wrote {what} of {len(names)} image(s) to {out}")
    return 0


def _out_dir(path: Path, force: bool) -> Path:
    check_out_dir(path, force)
    if not path.exists() and path.suffix:
        raise AekitError(f"--out {path}: give a directory (one PNG per input goes in)")
    return path


def _unique(names: list[str]) -> list[str]:
    """Output names, numbered where two inputs share one (same name, two folders)."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return unique
