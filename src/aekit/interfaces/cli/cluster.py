"""`aekit cluster`: cluster labels from a run's codes (k-means, GMM, N2D, DEC)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ...errors import AekitError
from .common import add_command, finite_float, inputs_arg, positive_int, say, seed


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "cluster",
        "cluster the codes of inputs: k-means, GMM, N2D (UMAP + GMM) or DEC",
    )
    p.add_argument("run", type=Path, metavar="RUN")
    p.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUTS",
        help="a data source (name, file, folder) or files (default: the run's data)",
    )
    p.add_argument(
        "--k",
        type=int,
        metavar="K",
        help="number of clusters (default: chosen by BIC for gmm, silhouette else)",
    )
    p.add_argument(
        "--method",
        choices=["kmeans", "gmm", "n2d", "dec"],
        default="kmeans",
        help="kmeans (default), gmm, n2d (UMAP then GMM) or dec (fine-tunes the "
        "encoder with the clustering loss and stores a new run)",
    )
    p.add_argument("--out", type=Path, required=True, metavar="labels.csv")
    p.add_argument("--seed", type=seed, default=0, help="default 0")
    dec = p.add_argument_group("dec")
    dec.add_argument(
        "--gamma",
        type=finite_float,
        default=0.1,
        help="IDEC's weight on the reconstruction loss; 0 is plain DEC (default 0.1)",
    )
    dec.add_argument(
        "--epochs", type=positive_int, default=20, help="DEC epochs (default 20)"
    )
    dec.add_argument("--batch-size", type=positive_int, default=256, help="default 256")
    dec.add_argument(
        "--lr", type=finite_float, default=1e-3, help="Adam's rate (default 0.001)"
    )
    dec.add_argument(
        "--dec-out",
        type=Path,
        metavar="DIR",
        help="the fine-tuned run's directory (default RUN-dec)",
    )
    dec.add_argument(
        "--force", action="store_true", help="replace a run already in --dec-out"
    )
    p.set_defaults(func=cluster)


def cluster(args: argparse.Namespace) -> int:
    if args.out.suffix.lower() != ".csv":
        raise AekitError(f"--out {args.out}: cluster labels are written as a .csv file")
    if args.k is not None and args.k < 2:
        raise AekitError(f"--k must be at least 2, got {args.k}")
    if args.gamma < 0:
        raise AekitError(f"--gamma must be >= 0, got {args.gamma}")
    from ...data.io import save_figure
    from ...tasks.clustering_run import check_clusterable, cluster_run

    check_clusterable(args.run, args.method)
    found = cluster_run(
        args.run,
        inputs_arg(args.inputs) if args.inputs else None,
        k=args.k,
        method=args.method,
        seed=args.seed,
        gamma=args.gamma,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        dec_out=args.dec_out,
        overwrite=args.force,
    )
    r = found.result
    lines = []
    if r.k_chosen_by:
        lines.append(f"k={r.k}, chosen by {r.k_chosen_by} among k=2..{max(r.scores)}")
    figures = _pictures(args.out, found, args.method)  # before anything is written
    _write_labels(args.out, r.labels, r.probability)
    lines.append(f"{len(r.labels)} inputs in {r.k} clusters ({args.method})")
    if found.scores is not None:
        s = found.scores
        lines.append(
            f"accuracy {s['accuracy']:.4f} (best one-to-one matching), "
            f"NMI {s['nmi']:.4f}, ARI {s['ari']:.4f}"
        )
    lines.append(f"wrote {args.out}")
    lines += [f"wrote {save_figure(fig, path)}" for path, fig in figures]
    if found.dec_dir is not None:
        lines.append(f"wrote the fine-tuned run {found.dec_dir}")
    say(*lines)
    return 0


def _write_labels(out: Path, labels: Any, probability: Any) -> None:
    from ...data.io import write_text

    header = "index,cluster" + (",probability" if probability is not None else "")
    rows = [
        f"{i},{int(c)}" + (f",{probability[i]:.6g}" if probability is not None else "")
        for i, c in enumerate(labels)
    ]
    write_text(out, "\n".join([header, *rows]) + "\n")


def _pictures(out: Path, found: Any, method: str) -> list[tuple[Path, Any]]:
    """The clusters on a 2-D map of the codes with decoded prototypes, and the
    confusion of classes by clusters when labels are known (path, figure)."""
    from ...analysis.latent.projections import project
    from ...analysis.plots.clusters import plot_cluster_map, plot_confusion
    from ...tasks.clustering_run import prototypes

    run, r = found.run, found.result
    protos = None  # a piano roll or series window makes no legible thumbnail, and
    # a conditional run's centre decodes to nothing without a condition
    if run.input_kind != "sequence" and not run.capabilities.conditional:
        protos = prototypes(found)
        if len(run.sample_shape) == 3:
            protos = protos.clamp(0, 1)
        else:  # vectors: in the source's units, as the user knows them
            protos = run.scaling.to_source(protos.numpy())
    view = project(found.codes, "auto")
    fig = plot_cluster_map(
        view.points,
        r.labels,
        prototypes=protos,
        true_labels=found.y,
        title=f"{method} on the {view.method} map of the codes",
    )
    figures = [(out.with_name(f"{out.stem}-map.png"), fig)]
    if found.y is not None:
        confusion = plot_confusion(found.y, r.labels, class_names=run.classes)
        figures.append((out.with_name(f"{out.stem}-confusion.png"), confusion))
    return figures
