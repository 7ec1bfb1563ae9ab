"""Argument helpers shared by the command modules."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import AekitError


def add_command(
    subparsers: Any, name: str, help: str, **kwargs: Any
) -> argparse.ArgumentParser:
    """A sub-command with the options every command shares (--debug, --verbose,
    --threads)."""
    parser = subparsers.add_parser(name, help=help, description=help, **kwargs)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--verbose", action="store_true", help="log what happens")
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="torch CPU threads (default: the cores other work leaves free)",
    )
    return parser


def add_data_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data")
    group.add_argument(
        "--image-size",
        type=image_size,
        metavar="N|HxW",
        help="resize images to this size (image folders)",
    )
    group.add_argument(
        "--label-column",
        metavar="NAME|INDEX",
        help="CSV column holding labels (default: one named label/class/y)",
    )
    group.add_argument(
        "--split",
        choices=["train", "test", "all"],
        help="which IDX files of a directory to read (default train)",
    )


def data_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "image_size": getattr(args, "image_size", None),
        "label_column": getattr(args, "label_column", None),
        "split": getattr(args, "split", None),
    }


def int_list(text: str) -> tuple[int, ...]:
    """'512,256,128' -> (512, 256, 128); '' -> () (a shallow MLP)."""
    try:
        return tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def float_list(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None


def image_size(text: str) -> int | tuple[int, int]:
    try:
        if "x" in text.lower():
            h, w = text.lower().split("x")
            return int(h), int(w)
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or HxW, got {text!r}") from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def inputs_arg(values: list[str]) -> str | list[str]:
    """One source stays a string (name, file or folder); several are a list of files."""
    return values[0] if len(values) == 1 else values


def say(*lines: str) -> None:
    """What the CLI tells the user goes to stdout; errors go to stderr in main()."""
    for line in lines:
        print(line)


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def check_output(path: Path, allowed: tuple[str, ...], what: str) -> str:
    """The kind of output `path` asks for: a suffix in `allowed`, or 'dir'."""
    suffix = path.suffix.lower()
    if suffix in allowed:
        return suffix
    if suffix == "" or path.is_dir():
        if "dir" in allowed:
            return "dir"
    raise AekitError(
        f"--out {path}: {what} can be written as "
        f"{', '.join(a for a in allowed if a != 'dir')}"
        + (" or a directory" if "dir" in allowed else "")
    )
