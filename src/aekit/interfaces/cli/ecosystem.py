"""`aekit export` (ONNX) and `aekit explore` (the latent-space explorer), and the
TensorBoard callback `aekit train --tensorboard` composes with its progress bar."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
from pathlib import Path
from typing import Any

from ...errors import AekitError
from .common import add_command, add_force, check_out_dir, positive_int, say


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers, "export", "export a run's encoder and decoder (ONNX, dynamic batch)"
    )
    p.add_argument("run", type=Path, metavar="RUN")
    p.add_argument("--format", choices=["onnx"], default="onnx", help="default onnx")
    p.add_argument("--out", type=Path, required=True, metavar="DIR")
    add_force(p)
    p.add_argument("--opset", type=positive_int, help="ONNX opset (default: torch's)")
    p.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="skip running the graphs in ONNX Runtime against PyTorch",
    )
    p.set_defaults(func=export)

    p = add_command(
        subparsers, "explore", "serve the latent-space explorer page on this machine"
    )
    p.add_argument("run", type=Path, metavar="RUN")
    p.add_argument(
        "--data",
        metavar="SOURCE",
        help="data to encode and show (default: the run's training data)",
    )
    p.add_argument("--port", type=int, default=8000, help="default 8000; 0: any free")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    p.add_argument(
        "--max-points",
        type=positive_int,
        default=5000,
        help="points on the map; larger data is subsampled (default 5000)",
    )
    p.set_defaults(func=explore)


def export(args: argparse.Namespace) -> int:
    from ..export import export_onnx

    check_out_dir(args.out, args.force)
    meta = export_onnx(args.run, args.out, opset=args.opset, verify=args.verify)
    for graph in meta["graphs"].values():
        diff = graph.get("max_abs_diff")
        checked = "" if diff is None else f" (ONNX Runtime vs PyTorch: {diff:.2g})"
        say(f"wrote {args.out / graph['file']}{checked}")
    say(f"wrote {args.out / 'aekit-onnx.json'} (shapes, names, scaling)")
    for note in meta["notes"][1:]:
        say(f"note: {note}")
    return 0


def explore(args: argparse.Namespace) -> int:
    missing = [m for m in ("fastapi", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        raise AekitError(
            f"the explorer needs {', '.join(missing)}: pip install 'aekit[explore]'"
        )
    from ..explore import load_explorer
    from ..explore.server import LOOPBACK, bind, create_app, server

    # requests run one thread each (Explorer._call); loading uses --threads
    explorer = load_explorer(args.run, args.data, max_points=args.max_points)
    loopback = args.host in LOOPBACK
    sock = bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    app = create_app(explorer, allowed_hosts=LOOPBACK if loopback else None)
    shown = f"[{host}]" if ":" in host else host
    say(f"explorer for {args.run}: http://{shown}:{port}/  (Ctrl-C stops)")
    if not loopback:
        say(f"warning: listening on {args.host}; anyone who can reach it can use it")
    server(app, sock).run(sockets=[sock])
    return 0


def tensorboard_progress(args: argparse.Namespace, bar: Any) -> tuple[Any, Any]:
    """(the TensorBoard writer or None, the progress callback for training).

    Events go to --tensorboard DIR; without DIR to RUN/tensorboard when the run
    directory is named (--out or --resume), else runs/tensorboard/MODEL-TIME.
    """
    from ..tensorboard import TensorBoardProgress, combine

    value = getattr(args, "tensorboard", None)
    if value is None:
        return None, bar
    if value:
        logdir = Path(value)
    elif args.resume is not None or args.out is not None:
        logdir = Path(args.resume or args.out) / "tensorboard"
    else:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        logdir = Path("runs") / "tensorboard" / f"{args.model}-{stamp}"
    board = TensorBoardProgress(logdir)
    if not args.quiet:
        say(f"TensorBoard events: {logdir} (tensorboard --logdir {logdir.parent})")
    return board, combine(bar, board)
