"""The `aekit` command: a thin layer of argument parsing over the Python API.

Each module in COMMANDS registers its sub-commands; adding a command is one module
and one entry here. Errors the user can fix print one line and exit with 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
from importlib import import_module

# modules in aekit.interfaces.cli, each with register(subparsers)
COMMANDS = [
    "train",
    "use",
    "evaluate",
    "detect",
    "cluster",
    "plot",
    "ecosystem",
    "tasks",
    "prior",
    "music",
]
# how `aekit --help` groups the commands; a command in no group is listed last
GROUPS = {
    "train": ("train", "fit-prior", "bench"),
    "use": (
        "reconstruct",
        "encode",
        "decode",
        "sample",
        "denoise",
        "detect",
        "cluster",
        "colorize",
        "segment",
        "interpolate",
    ),
    "inspect": ("info", "datasets", "evaluate", "plot", "report", "edit"),
    "deploy": ("export", "explore"),
}


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line instead of usage + error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(model: str | None = None) -> Parser:
    """The whole parser; with `model`, `aekit train` offers only that model's
    options (what `aekit train --model M --help` shows)."""
    from ...version import __version__

    parser = Parser(
        prog="aekit",
        description="Autoencoders: train, use, inspect, deploy.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"aekit {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=Parser, title="commands"
    )
    subparsers.required = True
    for name in COMMANDS:
        module = import_module(f".{name}", __name__)
        if name == "train" and model is not None:
            module.register(subparsers, model=model)
        else:
            module.register(subparsers)
    parser.epilog = _grouped(subparsers)
    subparsers._choices_actions.clear()  # listed by group in the epilog instead
    return parser


def _grouped(subparsers: argparse._SubParsersAction) -> str:
    """The commands by group, each with its one-line description."""
    parsers = subparsers.choices
    grouped = [n for names in GROUPS.values() for n in names]
    groups = {**GROUPS, "other": tuple(n for n in parsers if n not in grouped)}
    width = max(len(n) for n in parsers) + 2
    lines = []
    for group, names in groups.items():
        present = [n for n in names if n in parsers]
        if present:
            lines.append(f"{group}:")
            for name in present:
                text = " ".join((parsers[name].description or "").split())
                wrapped = textwrap.wrap(text, 78 - width) or [""]
                lines.append(f"  {name:<{width}}{wrapped[0]}")
                lines += [" " * (width + 2) + more for more in wrapped[1:]]
    return "\n".join(lines) + "\n\nrun `aekit COMMAND --help` for a command's options"


def _help_for_model(argv: list[str]) -> str | None:
    """M in `aekit train ... --model M ... --help`, when M is a registered model."""
    from ...models.registry import MODELS

    if not argv or argv[0] != "train" or not {"-h", "--help"} & set(argv):
        return None
    for i, arg in enumerate(argv):
        if arg.startswith("--model="):
            name = arg.partition("=")[2]
        elif arg == "--model" and i + 1 < len(argv):
            name = argv[i + 1]
        else:
            continue
        return name if name in MODELS else None
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_help_for_model(argv)).parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="aekit: %(message)s",
    )
    from ...errors import AekitError

    try:
        from ...training.hardware import set_threads

        set_threads(args.threads)
        return int(args.func(args) or 0)
    except AekitError as e:
        if args.debug:
            raise
        print(f"aekit: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aekit: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        if args.debug:
            raise
        print(
            "aekit: error: out of memory; try a smaller --batch-size or data set",
            file=sys.stderr,
        )
        return 2
    except Exception as e:  # a bug in aekit, not the user's input
        if args.debug:
            raise
        first = str(e).splitlines()[0] if str(e) else ""
        print(
            f"aekit: internal error: {type(e).__name__}: {first} "
            "(rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1
