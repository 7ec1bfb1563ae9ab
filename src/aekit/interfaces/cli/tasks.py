"""The commands of the tasks that have one (`aekit colorize`, `aekit segment`), and
the `aekit train` options of the image-to-image tasks."""

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
    """One command per task that has one (`aekit colorize`, `aekit segment`)."""
    from ...tasks import TASKS

    for task in TASKS.values():
        if task.command is None:
            continue
        p = add_command(subparsers, task.command, task.command_help)
        p.add_argument("run", type=Path, metavar="RUN")
        p.add_argument("inputs", nargs="+", metavar="INPUTS", help=task.inputs_help)
        p.add_argument(
            "--out", type=Path, required=True, metavar="DIR", help=task.out_help
        )
        for option in task.apply_options:
            if option.is_switch:
                p.add_argument(
                    option.flag,
                    dest=option.dest,
                    action="store_false",
                    help=option.help,
                )
            else:
                p.add_argument(
                    option.flag,
                    dest=option.dest,
                    type=finite_float,
                    default=option.default,
                    help=option.help,
                )
        add_force(p)
        p.set_defaults(func=apply_task, applied_task=task.name)


def add_train_task_options(parser: argparse.ArgumentParser) -> None:
    """The `aekit train` options for --task colorize and --task segment."""
    from ...tasks import TASKS

    g = parser.add_argument_group("image-to-image tasks")
    g.add_argument(
        "--task",
        choices=list(TASKS),
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


def runs_image_tasks(model: str) -> bool:
    """Whether `model` trains for a task with options of its own (colorize,
    segment), as its registry entry declares: only then does its help show them."""
    from ...models.registry import MODELS
    from ...tasks import TASKS

    tasks = MODELS[model].capabilities.tasks
    return any(TASKS[t].train_options for t in tasks if t in TASKS)


def train_task_options(args: argparse.Namespace) -> dict[str, Any]:
    """The `aekit train` options of the image-to-image tasks (dest names are the
    API's option names)."""
    from ...tasks import TASKS

    names = {k for task in TASKS.values() for k in task.train_options}
    options = {k: getattr(args, k, None) for k in (*sorted(names), "task")}
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


def apply_task(args: argparse.Namespace) -> int:
    """`aekit colorize`, `aekit segment`, ...: the task writes its outputs."""
    from ...tasks import task_named
    from ...tasks.apply import as_task_run, input_images

    task = task_named(args.applied_task)
    out = _out_dir(args.out, args.force)
    run = as_task_run(args.run, task)
    pairs = input_images(inputs_arg(args.inputs))
    options = {o.dest: getattr(args, o.dest) for o in task.apply_options}
    say(task.write_applied(run, pairs, out, _unique(pairs.names), **options))
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
