"""`aekit detect`: which inputs (or time steps of a series) are anomalies."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ...errors import AekitError
from .common import add_command, finite_float, inputs_arg, say


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers, "detect", "score inputs by reconstruction error and flag anomalies"
    )
    p.add_argument("run", type=Path, metavar="RUN")
    p.add_argument("inputs", nargs="+", metavar="INPUTS")
    p.add_argument("--out", type=Path, required=True, metavar="scores.csv")
    p.add_argument(
        "--threshold",
        choices=["percentile", "max", "sigma"],
        default="percentile",
        help="percentile of training errors (default), their maximum, or mean + k sd",
    )
    p.add_argument(
        "--contamination",
        type=finite_float,
        default=0.01,
        help="share of training inputs above a percentile threshold (default 0.01)",
    )
    p.add_argument(
        "--sigmas", type=finite_float, default=3.0, help="k of mean + k sd (default 3)"
    )
    p.add_argument(
        "--score",
        choices=["mse", "encdec", "spe-t2"],
        default=None,
        help="series runs: a step's score: error + the code's T^2 (spe-t2, default),"
        " the windows' squared error (mse) or EncDec-AD's Gaussian score (encdec)",
    )
    p.add_argument("--json", action="store_true", help="series runs: print JSON")
    p.set_defaults(func=detect)


def detect(args: argparse.Namespace) -> int:
    from ...analysis.anomaly import detect as detect_anomalies
    from ...analysis.anomaly import write_scores
    from ...analysis.series_anomaly import is_window_run
    from ..api import as_run

    run = as_run(args.run)
    if is_window_run(run):
        return detect_steps(args, run)
    if args.score not in (None, "mse") or args.json:
        raise AekitError(
            f"{args.run}: --score and --json are for runs trained on series"
        )
    result = detect_anomalies(
        run,
        inputs_arg(args.inputs),
        method=args.threshold,
        contamination=args.contamination,
        sigmas=args.sigmas,
    )
    write_scores(args.out, result["scores"], result["anomaly"])
    flagged, n = int(result["anomaly"].sum()), len(result["scores"])
    say(
        f"threshold {result['threshold']:.6g} ({args.threshold}, from "
        f"{result['n_train']} training inputs)",
        f"flagged {flagged} of {n} input(s) as anomalies",
        f"wrote {args.out}",
    )
    return 0


def detect_steps(args: argparse.Namespace, run: Any) -> int:
    """A window-trained run: one row per time step, and the picture beside the CSV."""
    from ...analysis.series_anomaly import (
        DEFAULT_SCORE,
        detect_series,
        detect_summary,
        scores_figure,
        write_step_scores,
    )
    from ...data.io import save_figure

    if args.out.suffix.lower() != ".csv":
        raise AekitError(f"--out {args.out}: step scores are written as a .csv file")
    result = detect_series(
        run,
        inputs_arg(args.inputs),
        method=args.threshold,
        contamination=args.contamination,
        sigmas=args.sigmas,
        score=args.score or DEFAULT_SCORE,
    )
    write_step_scores(args.out, result)
    picture = save_figure(scores_figure(result, run), args.out.with_suffix(".png"))
    flagged = int(sum(f.sum() for f in result["anomaly"]))
    if args.json:
        from .common import print_json

        print_json(detect_summary(result) | {"csv": str(args.out), "picture": picture})
        return 0
    say(
        f"threshold {result['threshold']:.6g} ({args.threshold}, from "
        f"{result['n_train']} training windows)",
        f"flagged {flagged} of {len(result['rows'])} time step(s) as anomalies",
        f"wrote {args.out}",
        f"wrote {picture}",
    )
    return 0
