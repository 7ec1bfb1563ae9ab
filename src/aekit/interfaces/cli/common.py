"""Argument helpers shared by the command modules."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import Any

from ...errors import AekitError


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
        type=threads_arg,
        metavar="N|auto",
        help="torch CPU threads (default: half this process's cores, the same "
        "whatever else runs, so results repeat; auto: the cores idle now, not "
        "reproducible; a resumed run reuses its recorded count)",
    )
    return parser


def seed(text: str) -> int:
    """A seed every library takes: 0 to 2**32 - 1 (scikit-learn's range)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number, got {text!r}"
        ) from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"a seed is 0 to 2**32 - 1, got {text}")
    return value


def threads_arg(text: str) -> int | str:
    """ "auto" or a whole number (aekit.training.hardware.set_threads refuses one
    below 1)."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        message = f"expected a whole number or auto, got {text!r}"
        raise argparse.ArgumentTypeError(message) from None


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
        "--class-names",
        type=Path,
        metavar="FILE",
        help="names of the label ids, one per line in id order (default: folder "
        "names or CSV label values; numbers otherwise)",
    )
    group.add_argument(
        "--window",
        type=positive_int,
        metavar="W",
        help="cut a series (CSV, .npy, folder) into windows of W time steps "
        "(default for a series: its dominant period, 3 to 300 steps; 125 if none)",
    )
    group.add_argument(
        "--stride",
        type=positive_int,
        metavar="S",
        help="steps between window starts (default 1, or more where the series "
        "would give over 20,000 windows)",
    )
    group.add_argument(
        "--steps-per-beat",
        type=positive_int,
        metavar="N",
        help="music: piano-roll steps per quarter-note beat (default 4)",
    )
    group.add_argument(
        "--bars",
        type=positive_int,
        metavar="N",
        help="music: bars per sample (default 2)",
    )
    group.add_argument(
        "--beats-per-bar",
        type=finite_float,
        metavar="B",
        help="music: beats per bar (default the first piece's time signature)",
    )
    group.add_argument(
        "--pitch-range",
        type=pitch_range,
        metavar="LO:HI",
        help="music: MIDI pitches LO up to HI (exclusive) (default 36:84)",
    )
    group.add_argument(
        "--missing",
        choices=["interpolate", "drop"],
        help="series: fill NaN, inf and empty values by linear interpolation in "
        "time, or drop the time steps that hold them, and record that in the run "
        "(default: refuse them, naming the row and column)",
    )
    group.add_argument(
        "--columns",
        type=column_names,
        metavar="COL1,COL2",
        help="the CSV columns to use as features or channels (default: every "
        "numeric column but labels and time columns)",
    )
    group.add_argument(
        "--condition",
        metavar="label|COL1,COL2",
        help="what a conditional model (cvae) is conditioned on: the labels "
        "(default) or these CSV columns, removed from the features",
    )


def data_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "class_names": getattr(args, "class_names", None),
        "image_size": getattr(args, "image_size", None),
        "label_column": getattr(args, "label_column", None),
        "split": getattr(args, "split", None),
        **{k: getattr(args, k, None) for k in SEQUENCE_DATA_OPTIONS},
        "condition": getattr(args, "condition", None),
        "columns": getattr(args, "columns", None),
    }


SEQUENCE_DATA_OPTIONS = (
    "window",
    "stride",
    "steps_per_beat",
    "bars",
    "beats_per_bar",
    "pitch_range",
    "missing",
)


def column_names(text: str) -> tuple[str, ...]:
    """'a,b' -> ('a', 'b'): CSV column names, none empty."""
    names = tuple(n.strip() for n in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"expected COL1,COL2 column names, got {text!r}"
        )
    return names


def pitch_range(text: str) -> tuple[int, int]:
    """'36:84' -> (36, 84): MIDI pitches from 36 up to, not including, 84."""
    try:
        lo, hi = (int(v) for v in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected LO:HI MIDI pitches (e.g. 36:84), got {text!r}"
        ) from None
    if not 0 <= lo < hi <= 128:
        raise argparse.ArgumentTypeError(
            f"pitch range must satisfy 0 <= LO < HI <= 128, got {text!r}"
        )
    return lo, hi


def int_list(text: str) -> tuple[int, ...]:
    """'512,256,128' -> (512, 256, 128); '' -> () (a shallow MLP)."""
    try:
        return tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def float_list(text: str) -> tuple[float, ...]:
    """'-2,0,2' -> (-2.0, 0.0, 2.0); NaN and infinity are refused."""
    try:
        values = tuple(float(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return values


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


def check_output(
    path: Path, allowed: tuple[str, ...], what: str, *, force: bool = False
) -> str:
    """The kind of output `path` asks for: a suffix in `allowed`, or 'dir' (a
    folder that is new or empty, or any with `force`: check_out_dir)."""
    suffix = path.suffix.lower()
    if suffix in allowed and not path.is_dir():
        return suffix
    if suffix == "" or path.is_dir():
        if "dir" in allowed:
            check_out_dir(path, force)
            return "dir"
    raise AekitError(
        f"--out {path}: {what} can be written as "
        f"{', '.join(a for a in allowed if a != 'dir')}"
        + (" or a directory" if "dir" in allowed else "")
    )


def add_force(parser: argparse.ArgumentParser) -> None:
    """--force: write into an --out folder that already holds files."""
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into an --out folder that already holds files (their names "
        "may be overwritten)",
    )


def check_out_dir(path: Path, force: bool) -> Path:
    """An output folder: a new or empty one, or (with --force) any; never a file.
    Files already in a folder are the user's (an earlier output, another
    command's): they are not written over unless asked."""
    if path.exists() and not path.is_dir():
        raise AekitError(f"--out {path} is a file; give a directory")
    if not force and path.is_dir() and any(path.iterdir()):
        raise AekitError(
            f"--out {path} is a folder that already holds files; give a new or "
            "empty folder, or --force to write into it"
        )
    return path


def finite_float(text: str) -> float:
    """A number; NaN and infinity are refused (they are never a sensible option)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


# a field's annotation (a string under `from __future__ import annotations`) -> parser
FIELD_TYPES: dict[str, Any] = {
    "int": int,
    "int | None": int,
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
        if str(f.type) == "bool":  # a switch: --tied sets True, absent leaves None
            group.add_argument(
                flag, action="store_const", const=True, help=meta["help"], **kwargs
            )
            continue
        choices = [c for _, g in owned for c in g.metadata.get("choices") or ()]
        if choices:  # a flag shared by models offers every model's choices
            kwargs["choices"] = list(dict.fromkeys(choices))
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


def flat_items(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested dict items as ("a.b.c", value) pairs, in order."""
    items: list[tuple[str, Any]] = []
    for key, value in d.items():
        if isinstance(value, dict):
            items += flat_items(value, f"{prefix}{key}.")
        else:
            items.append((f"{prefix}{key}", value))
    return items
