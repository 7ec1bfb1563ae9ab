"""`aekit plot`, `aekit report` and `aekit edit`: pictures of a run's latent space, the
run's HTML report, and inputs edited along attribute vectors."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from ...analysis.choices import COMPARED, PICTURE_KINDS, PROJECTIONS
from ...errors import AekitError
from .common import (
    add_command,
    check_output,
    float_list,
    inputs_arg,
    int_list,
    positive_int,
    say,
    seed,
)

FIGURE_SUFFIXES = (".png", ".pdf", ".svg")
KINDS = (*PICTURE_KINDS, "compare")
MAX_EDIT_ROWS = 32  # strips drawn in an edit picture; .npy holds every input


def spread_rows(n: int, rows: int = MAX_EDIT_ROWS) -> Any:
    """`rows` input indices spread evenly over all `n` (sorted data sets show every
    part of themselves, not 32 zeros); all of them when there are no more."""
    import numpy as np

    if n <= rows:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, rows).round().astype(np.int64))


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "plot",
        "draw a picture of a run: " + ", ".join(KINDS),
        epilog="compare draws the same pictures of RUN and RUN_B side by side: "
        "aekit plot RUN compare RUN_B --out cmp.png",
    )
    p.set_defaults(func=plot)
    _plot_arguments(p)
    _register_report(subparsers)
    _register_edit(subparsers)


def _plot_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", type=Path, metavar="RUN")
    p.add_argument("kind", choices=KINDS, metavar="KIND", help=" | ".join(KINDS))
    p.add_argument("other", type=Path, nargs="?", metavar="RUN_B", help="for compare")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.png|.pdf|.svg")
    _data_option(p)
    _picture_options(p)
    p.add_argument(
        "--compare",
        type=lambda t: tuple(k for k in t.split(",") if k),
        default=COMPARED,
        metavar="KIND,KIND",
        help=f"pictures that compare draws (default {','.join(COMPARED)})",
    )


def _register_report(subparsers: Any) -> None:
    r = add_command(subparsers, "report", "write a run's self-contained report.html")
    r.set_defaults(func=report)
    r.add_argument("run", type=Path, metavar="RUN")
    r.add_argument(
        "--out", type=Path, metavar="FILE.html", help="default RUN/report.html"
    )
    _data_option(r)
    _picture_options(r)
    g = r.add_argument_group("sparse autoencoders (--model sae)")
    g.add_argument(
        "--compare",
        type=Path,
        nargs="+",
        default=(),
        metavar="RUN",
        help="other SAE runs: the report plots every run's L0 against its FVU on "
        "held-out data (each run's own split, or --data), by family",
    )
    g.add_argument(
        "--latents",
        type=int_list,
        default=(),
        metavar="I,J",
        help="latents whose top inputs to show beside the 16 most frequent",
    )


def _register_edit(subparsers: Any) -> None:
    e = add_command(
        subparsers,
        "edit",
        "edit inputs along an attribute vector of the latent space, or redraw "
        "them under another class (conditional runs: --to-label)",
    )
    e.set_defaults(func=edit)
    # let "--strengths -2,-1,0" pass as a value: argparse takes only "-2" for a number
    e._negative_number_matcher = re.compile(r"^-\.?\d[\d.,eE+-]*$")
    e.add_argument("run", type=Path, metavar="RUN")
    e.add_argument("inputs", nargs="+", metavar="INPUTS", help="what to edit")
    e.add_argument(
        "--attribute",
        metavar="NAME",
        help="label=VALUE, or a column of --attributes",
    )
    e.add_argument(
        "--to-label",
        type=int,
        metavar="K",
        help="conditional runs: decode each input's code under class K instead",
    )
    e.add_argument(
        "--to-condition",
        metavar="COL=V,...",
        help="runs conditioned on CSV columns: decode each input under these values",
    )
    e.add_argument(
        "--from-label",
        type=int,
        metavar="K",
        help="with --to-label: the inputs' class, when their data has no labels",
    )
    e.add_argument(
        "--strengths",
        type=float_list,
        default=(-2.0, -1.0, 0.0, 1.0, 2.0),
        metavar="S,S,...",
        help="multiples of the vector to add (default -2,-1,0,1,2)",
    )
    e.add_argument(
        "--attributes",
        type=Path,
        metavar="FILE",
        help="binary attributes per example of --data: a CSV, or CelebA's "
        "list_attr_celeba.txt (matched by file name, else by order)",
    )
    e.add_argument("--out", type=Path, required=True, metavar="FILE.png|FILE.npy")
    _data_option(e, what="the examples the vector is the mean difference over")


def _data_option(p: argparse.ArgumentParser, what: str = "the examples shown") -> None:
    p.add_argument(
        "--data",
        metavar="SOURCE",
        help=f"{what} (default: the run's own data; its held-out split for pictures)",
    )


def _picture_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("pictures")
    g.add_argument("--projection", choices=PROJECTIONS, help="latent: default auto")
    g.add_argument("--grid", type=positive_int, metavar="N", help="manifold: N x N")
    g.add_argument(
        "--dims",
        type=int_list,
        metavar="I,J",
        help="manifold: the two dimensions (default the plane of a 2-D code, else "
        "the PCA plane); traverse: the dimensions swept",
    )
    g.add_argument("--steps", type=positive_int, help="frames per interpolation")
    g.add_argument("--pairs", type=positive_int, help="interpolation pairs")
    g.add_argument("--samples", type=positive_int, metavar="N", help="draws per panel")
    g.add_argument(
        "--components", type=positive_int, metavar="K", help="Gaussian mixture size"
    )
    g.add_argument("--seed", type=seed, help="default 0")


def _options(args: argparse.Namespace) -> dict[str, Any]:
    names = ("projection", "grid", "dims", "steps", "pairs", "samples", "components")
    options = {k: getattr(args, k) for k in (*names, "seed")}
    return {k: v for k, v in options.items() if v is not None}


def plot(args: argparse.Namespace) -> int:
    from ...analysis.plots import plot as draw

    check_output(args.out, FIGURE_SUFFIXES, "a picture")
    if args.kind == "compare" and args.other is None:
        raise AekitError("compare needs a second run: aekit plot RUN compare RUN_B")
    if args.kind != "compare" and args.other is not None:
        raise AekitError(f"only compare takes a second run, not {args.kind}")
    draw(
        args.run,
        args.kind,
        data=args.data,
        out=args.out,
        other=args.other,
        compared=args.compare,
        **_options(args),
    )
    say(f"wrote {args.out}")
    if args.kind == "interpolate":
        _interpolation_midi(args)
    return 0


def _interpolation_midi(args: argparse.Namespace) -> None:
    """A music run's interpolation paths as MIDI files beside the picture."""
    from ...analysis.music_midi import interpolation_midi, is_music_run
    from ..api import as_run

    run = as_run(args.run)
    if not is_music_run(run):
        return
    folder = args.out.with_name(f"{args.out.stem}-midi")
    paths = interpolation_midi(run, folder, data=args.data, **_options(args))
    say(f"wrote {len(paths)} interpolation path(s) as MIDI to {folder}")


def report(args: argparse.Namespace) -> int:
    from ...analysis.report import REPORT
    from ...run import as_run
    from ...tasks import task_named

    if args.out is not None:
        check_output(args.out, (".html", ".htm"), "a report")
    run = as_run(args.run)
    out = args.out or run.path / REPORT
    task, options = task_named(run.task), {"data": args.data, **_options(args)}
    task.check_report_options(options, spell=lambda k: "--" + k.replace("_", "-"))
    if args.compare or args.latents:  # SAE runs only: refused before anything is drawn
        from ...analysis.sae_features import check_sae

        for other in (run, *args.compare):
            check_sae(as_run(other))
        options |= {"compare": tuple(args.compare), "latents": tuple(args.latents)}
    path = task.write_report(run, out, **options)
    say(f"wrote {path}")
    return 0


def edit(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from ...analysis import attributes
    from ...analysis.plots.edits import edits
    from ...data.io import save_figure, write_npy
    from .. import api

    kind = check_output(args.out, (".npy", *FIGURE_SUFFIXES), "edits")
    given = [args.attribute, args.to_label, args.to_condition]
    if sum(g is not None for g in given) != 1:
        raise AekitError(
            "edit takes one of --attribute NAME, --to-label K or --to-condition "
            "COL=V,..."
        )
    if args.attribute is None:
        return _redraw(args, kind)
    run = api.as_run(args.run)
    vector = attributes.attribute_vector(
        run, args.attribute, data=args.data, attributes=args.attributes
    )
    inputs = api.load_inputs(run, inputs_arg(args.inputs))
    if kind == ".npy":
        out = attributes.edit(run, inputs, vector, strengths=args.strengths)
        write_npy(args.out, out)
        say(f"wrote {out.shape[0]} x {out.shape[1]} edits to {args.out}")
        return 0
    shown = spread_rows(len(inputs))
    if len(inputs) > len(shown):
        say(f"drawing {len(shown)} of {len(inputs)} inputs, spread evenly (.npy: all)")
    x = inputs.x[torch.from_numpy(shown)]
    fig = edits(
        run,
        x,
        torch.from_numpy(np.asarray(vector)),
        list(args.strengths),
        attribute=args.attribute,
    )
    save_figure(fig, args.out)
    say(f"wrote {len(x)} edited input(s) to {args.out}")
    return 0


def _redraw(args: argparse.Namespace, kind: str) -> int:
    """`edit --to-label K` or `--to-condition COL=V,...`: each input re-decoded
    under class K, or under those column values."""
    from ...analysis import attributes
    from ...analysis.plots import plot_image_grid
    from ...data.io import save_figure, write_npy
    from .. import api

    run = api.as_run(args.run)
    inputs = inputs_arg(args.inputs)
    recon, redrawn = attributes.redraw_as(
        run,
        inputs,
        args.to_label,
        from_label=args.from_label,
        condition=args.to_condition,
    )
    what = (
        f"class {run_class(run, args.to_label)}"
        if args.to_label is not None
        else args.to_condition
    )
    if kind == ".npy":
        write_npy(args.out, run.scaling.to_source(redrawn))
        say(f"wrote {len(redrawn)} input(s) redrawn as {what}")
        return 0
    if len(run.sample_shape) != 3:
        raise AekitError(
            f"this run's data are {run.input_kind}s, not images; write the edits "
            "as .npy"
        )
    import numpy as np

    x = api.load_inputs(run, inputs).x.numpy()
    shown = spread_rows(len(x))
    if len(x) > len(shown):
        say(f"drawing {len(shown)} of {len(x)} inputs, spread evenly (.npy: all)")
    strips = np.stack([x[shown], recon[shown], redrawn[shown]], 1)
    title = f"input | reconstruction | as {what}"
    save_figure(
        plot_image_grid(strips.reshape(-1, *x.shape[1:]), title=title, ncol=3),
        args.out,
    )
    say(f"wrote {len(shown)} input(s) redrawn as {what} to {args.out}")
    return 0


def run_class(run: Any, label: int) -> str:
    classes = run.classes or ()
    return classes[label] if 0 <= label < len(classes) else str(label)
