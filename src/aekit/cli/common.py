"""Argument helpers shared by the command modules."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
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
    group.add_argument(
        "--condition",
        metavar="label|COL1,COL2",
        help="what a conditional model (cvae) is conditioned on: the labels "
        "(default) or these CSV columns, removed from the features",
    )


def data_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "image_size": getattr(args, "image_size", None),
        "label_column": getattr(args, "label_column", None),
        "split": getattr(args, "split", None),
        "condition": getattr(args, "condition", None),
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


def finite_float(text: str) -> float:
    """A number; NaN and infinity are refused (they are never a sensible option)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


# a field's annotation (a string under `from __future__ import annotations`) -> parser
FIELD_TYPES: dict[str, Any] = {
    "int": integer,
    "float": finite_float,
    "float | None": finite_float,
    "str": str,
    "str | None": str,
    "tuple[int, ...]": int_list,
    "tuple[float, ...]": float_list,
    "tuple[float, ...] | None": float_list,
}


def add_config_options(
    group: Any, configs: dict[str, type], *, skip: tuple[str, ...] = ()
) -> list[str]:
    """One option per command-line field of the config dataclasses (name, help,
    choices and default from the field), the default None so that only what the
    user gives is passed on. `configs` maps a name (say a model) to its config;
    a default that differs between them is listed per name. Returns the dests."""
    fields: dict[str, list[tuple[str, dataclasses.Field]]] = {}
    for owner, config in configs.items():
        for f in dataclasses.fields(config):
            if f.metadata.get("cli") and f.name not in skip:
                fields.setdefault(f.name, []).append((owner, f))
    for name, owned in fields.items():
        f = owned[0][1]
        meta = f.metadata
        flag = "--" + (meta.get("flag") or name).replace("_", "-")
        kwargs: dict[str, Any] = {"dest": name, "default": None}
        if meta.get("choices"):
            kwargs["choices"] = list(meta["choices"])
        else:
            kwargs["type"] = FIELD_TYPES[str(f.type)]
            kwargs["metavar"] = meta.get("metavar")
        group.add_argument(flag, help=f"{meta['help']} ({_defaults(owned)})", **kwargs)
    return list(fields)


def _defaults(owned: list[tuple[str, dataclasses.Field]]) -> str:
    def show(value: Any) -> str:
        if isinstance(value, tuple):
            return ",".join(map(str, value)) or "''"
        return "none" if value is None else str(value)

    owners: dict[str, list[str]] = {}
    for owner, f in owned:
        shown = f.metadata.get("shown") or show(f.default)
        owners.setdefault(shown, []).append(owner)
    if len(owners) == 1:
        return f"default {next(iter(owners))}"
    return "default " + "; ".join(f"{v} for {', '.join(o)}" for v, o in owners.items())
