"""`aekit interpolate`: a music run's path between two pieces, each step as MIDI."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import add_command, add_force, check_out_dir, positive_int, say


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "interpolate",
        "music runs: walk the codes from one piece to another, each step as MIDI",
    )
    p.add_argument("run", type=Path, metavar="RUN")
    p.add_argument("start", metavar="START", help="the first piece (MIDI, MusicXML)")
    p.add_argument("end", metavar="END", help="the second piece")
    p.add_argument("--out", type=Path, required=True, metavar="DIR")
    p.add_argument(
        "--steps",
        type=positive_int,
        default=5,
        help="codes on the path, both ends included (default 5, 2 to 1000)",
    )
    p.add_argument(
        "--method",
        choices=["spherical", "linear"],
        default="spherical",
        help="great circle (MusicVAE's, default) or straight line",
    )
    add_force(p)
    p.set_defaults(func=interpolate)


def interpolate(args: argparse.Namespace) -> int:
    from ...analysis.music_midi import check_steps, interpolate_pieces, is_music_run
    from ...errors import AekitError
    from ..api import as_run

    check_steps(args.steps)  # before the run is read
    run = as_run(args.run)
    if not is_music_run(run):
        raise AekitError(f"{args.run} was not trained on music; MIDI needs piano rolls")
    if args.steps < 2:
        raise AekitError(f"an interpolation needs at least 2 steps, got {args.steps}")
    for piece in (args.start, args.end):
        if not Path(piece).is_file():
            raise AekitError(f"no such music file: {piece}")
    check_out_dir(args.out, args.force)
    paths = interpolate_pieces(
        run, args.start, args.end, args.out, steps=args.steps, method=args.method
    )
    say(f"wrote {len(paths)} interpolation step(s) as MIDI to {args.out}")
    return 0


def music_section(m: dict[str, Any]) -> list[str]:
    """`aekit evaluate`'s lines for a music run's scores."""
    from ...analysis.music_metrics import music_lines

    return music_lines(m)
