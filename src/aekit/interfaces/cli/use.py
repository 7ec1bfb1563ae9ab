"""Commands that use a trained run: reconstruct, encode, decode, sample, denoise, info,
and `datasets`, which lists the built-in data."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import AekitError
from .common import (
    add_command,
    add_force,
    check_output,
    inputs_arg,
    positive_int,
    print_json,
    say,
    seed,
)

MIDI = (".mid", ".midi")  # a music run's samples and decoded codes as MIDI


def register(subparsers: Any) -> None:
    for name, help_, func in [
        ("reconstruct", "reconstruct inputs through a trained run", reconstruct),
        ("denoise", "denoise inputs with a trained (denoising) run", denoise),
    ]:
        p = add_command(subparsers, name, help_)
        p.add_argument("run", type=Path, metavar="RUN")
        p.add_argument(
            "inputs",
            nargs="+",
            metavar="INPUTS",
            help="a data source (name, file, folder) or image files",
        )
        p.add_argument("--out", type=Path, required=True, metavar="DIR|FILE.npy")
        add_force(p)
        if name == "reconstruct":
            p.add_argument(
                "--samples",
                type=positive_int,
                metavar="N",
                help="N stochastic reconstructions per input, decoded from draws "
                "of the posterior (VAEs): an .npy of shape (inputs, N, *sample)",
            )
            p.add_argument("--seed", type=int, default=0)
        if name == "denoise":
            p.add_argument(
                "--add-noise",
                metavar="KIND:AMOUNT",
                help="corrupt the inputs first (to see the model at work)",
            )
        p.set_defaults(func=func)

    p = add_command(subparsers, "encode", "write the codes of inputs")
    p.add_argument("run", type=Path, metavar="RUN")
    p.add_argument("inputs", nargs="+", metavar="INPUTS")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="codes.npy|codes.csv|stats.npz|stats.csv",
    )
    p.add_argument(
        "--stats",
        action="store_true",
        help="write the posterior's mu and logvar, each (N, latent), to an .npz or a "
        "CSV (columns mu0.., logvar0..) (VAEs)",
    )
    p.set_defaults(func=encode)

    p = add_command(subparsers, "decode", "decode codes (an .npy of shape (N, latent))")
    p.add_argument("run", type=Path, metavar="RUN")
    p.add_argument("codes", type=Path, metavar="CODES.npy")
    p.add_argument(
        "--label", type=int, metavar="K", help="conditional runs: decode as class K"
    )
    p.add_argument(
        "--condition",
        metavar="COL=V,...",
        help="runs conditioned on CSV columns: decode under these column values",
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR|FILE.npy|FILE.mid")
    add_force(p)
    p.set_defaults(func=decode)

    p = add_command(subparsers, "sample", "generate new examples from the decoder")
    p.add_argument("run", type=Path, metavar="RUN")
    p.add_argument("-n", type=positive_int, default=64, help="how many (default 64)")
    p.add_argument("--seed", type=seed, default=0, help="default 0")
    p.add_argument(
        "--label",
        type=int,
        metavar="K",
        help="conditional runs: draw class K (default: every class in turn)",
    )
    p.add_argument(
        "--condition",
        metavar="COL=V,...",
        help="runs conditioned on CSV columns: the value of each, e.g. smile=1,age=0.3",
    )
    p.add_argument(
        "--out", type=Path, required=True, metavar="FILE.png|FILE.npy|FILE.mid|DIR"
    )
    add_force(p)
    p.set_defaults(func=sample)

    p = add_command(
        subparsers, "info", "describe a run: model, data, training, metrics"
    )
    p.add_argument("run", type=Path, metavar="RUN")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=info)

    p = add_command(subparsers, "datasets", "list the built-in data sets")
    p.set_defaults(func=datasets)


def reconstruct(args: argparse.Namespace) -> int:
    from .. import api

    if args.samples is not None:
        from ...data.io import write_npy

        check_output(args.out, (".npy",), "stochastic reconstructions")
        out = api.reconstruct_samples(
            args.run, inputs_arg(args.inputs), args.samples, seed=args.seed
        )
        write_npy(args.out, out)
        say(f"wrote {out.shape[1]} reconstructions of {len(out)} inputs to {args.out}")
        return 0
    kind = check_output(
        args.out, (".npy", ".csv", "dir"), "reconstructions", force=args.force
    )
    run = api.as_run(args.run)
    out = api.reconstruct(run, inputs_arg(args.inputs))
    return write_data(out, args.out, kind, run)


def denoise(args: argparse.Namespace) -> int:
    from .. import api

    kind = check_output(
        args.out, (".npy", ".csv", "dir"), "denoised inputs", force=args.force
    )
    run = api.as_run(args.run)
    out = api.denoise(run, inputs_arg(args.inputs), add_noise=args.add_noise)
    return write_data(out, args.out, kind, run)


def encode(args: argparse.Namespace) -> int:
    from ...data.io import write_npy
    from .. import api

    if args.stats:
        import io

        from ...data.io import write_bytes

        kind = check_output(args.out, (".npz", ".csv"), "posterior statistics")
        mu, logvar = api.encode_stats(args.run, inputs_arg(args.inputs))
        if kind == ".csv":  # one row per input: mu0.., then logvar0..
            k = range(mu.shape[1])
            names = [*(f"mu{i}" for i in k), *(f"logvar{i}" for i in k)]
            _write_table(args.out, names, np.hstack([mu, logvar]))
        else:
            buf = io.BytesIO()
            np.savez(buf, mu=mu.astype(np.float32), logvar=logvar.astype(np.float32))
            write_bytes(args.out, buf.getvalue())
        say(f"wrote mu and logvar ({len(mu)}, {mu.shape[1]}) to {args.out}")
        return 0
    kind = check_output(args.out, (".npy", ".csv"), "codes")
    codes = api.encode(args.run, inputs_arg(args.inputs))
    if kind == ".npy":
        write_npy(args.out, codes.astype(np.float32, copy=False))  # no second copy
    else:
        _write_table(args.out, [f"z{i}" for i in range(codes.shape[1])], codes)
    say(f"wrote {len(codes)} codes of size {codes.shape[1]} to {args.out}")
    return 0


def decode(args: argparse.Namespace) -> int:
    from ... import inference
    from .. import api

    kind = check_output(
        args.out, (".npy", ".csv", *MIDI, "dir"), "decoded data", force=args.force
    )
    run = api.as_run(args.run)
    z = inference.check_codes(run, read_codes(args.codes))
    given = args.label is not None or args.condition is not None
    if run.capabilities.conditional and not given:
        how = "--condition COL=V,..." if run.condition_columns else "--label K"
        raise AekitError(f"{run.path} is conditional: say what to decode as, {how}")
    c = (
        inference.sample_conditions(
            run, len(z), label=args.label, values=args.condition
        )
        if given
        else None
    )
    x = inference.decode(run, z, c)
    if _music(run, kind):
        return write_music(run, x, args.out)
    return write_data(run.scaling.to_source(x), args.out, kind, run)


def sample(args: argparse.Namespace) -> int:
    from .. import api

    kind = check_output(
        args.out, (".png", ".npy", ".csv", *MIDI, "dir"), "samples", force=args.force
    )
    run = api.as_run(args.run)
    from ... import inference

    c = inference.sample_conditions(
        run, args.n, label=args.label, values=args.condition
    )
    if run.capabilities.conditional and run.condition_columns is None:
        if args.label is None:
            say(f"no --label: drawing every class of {run.path} in turn")
    if _music(run, kind):
        rolls = inference.sample(run, args.n, seed=args.seed, c=c)
        return write_music(run, rolls, args.out)
    if kind == ".png":
        from ...analysis.plots import plot_image_grid
        from ...data.io import save_figure

        if len(run.sample_shape) != 3:
            raise AekitError(
                f"this run's data are {run.input_kind}s, not images; write samples "
                "as .npy or .csv"
            )
        x = inference.sample(run, args.n, seed=args.seed, c=c)
        how = {
            "prior": "the prior",
            "fitted": "a Gaussian fitted to the training codes",
            "learned": "the learned prior over codes",
        }[run.capabilities.sampler]
        if args.label is not None:
            how += f", class {args.label}"
        if args.condition is not None:
            how += f", {args.condition}"
        save_figure(
            plot_image_grid(
                x, title=f"{args.n} samples from {how}", ncol=min(8, args.n)
            ),
            args.out,
        )
        say(f"wrote {args.n} samples to {args.out}")
        return 0
    out = api.sample(
        run, args.n, seed=args.seed, label=args.label, condition=args.condition
    )
    return write_data(out, args.out, kind, run)


def info(args: argparse.Namespace) -> int:
    from .. import api

    summary = api.info(args.run)
    if args.json:
        print_json(summary)
        return 0
    data = summary["data"]
    shape = (
        f"code size {summary['latent_dim']}"
        if summary["latent_dim"] is not None
        else f"task {summary['task']}"
    )
    say(
        f"run:        {summary['path']}",
        f"model:      {summary['model']} ({summary['parameters']:,} parameters, "
        f"{shape})",
        f"data:       {data.get('name')} {data.get('sample_shape')} "
        f"({data.get('n_train')} train / {data.get('n_val')} val)",
        f"training:   {summary['training']['epochs']} epochs, batch "
        f"{summary['training']['batch_size']}, lr {summary['training']['lr']}"
        + (
            f", noise {summary['training']['noise']}"
            if summary["training"]["noise"]
            else ""
        ),
    )
    if "dec" in summary:
        d = summary["dec"]
        say(
            f"clustering: {d['method']}-fine-tuned from {d['fine_tuned_from']}, "
            f"k={d['k']}, gamma {d['gamma']}"
        )
    for key, value in summary["metrics"].items():
        if isinstance(value, dict | list):  # nested task metrics: see --json
            continue
        shown = f"{value:.5g}" if isinstance(value, float) else value
        say(f"  {key:<22}{shown}")
    say(f"files:      {', '.join(summary['files'])}")
    return 0


def datasets(args: argparse.Namespace) -> int:
    from .. import api

    for name, description in api.datasets().items():
        say(f"{name:<12}{description}")
    return 0


def _write_table(path: Path, names: list[str], values: np.ndarray) -> None:
    from ...data.io import write_text

    rows = "\n".join(",".join(f"{v:.7g}" for v in row) for row in values)
    write_text(path, ",".join(names) + "\n" + rows + "\n")


def read_codes(path: Path) -> np.ndarray:
    if not path.is_file():
        raise AekitError(f"no such file: {path}")
    from ...data.files import check_npy_header

    try:
        if path.suffix.lower() == ".csv":
            if len(path.read_text(errors="replace").strip().splitlines()) < 2:
                raise AekitError(f"{path}: no codes (an empty file or a header only)")
            codes = np.loadtxt(
                path, delimiter=",", skiprows=1, ndmin=2, dtype=np.float32
            )
        else:
            with open(path, "rb") as f:  # one plain array; never .npz or a pickle
                check_npy_header(f, path.stat().st_size, str(path))
                f.seek(0)
                codes = np.load(f, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        if isinstance(e, AekitError):
            raise
        reason = " ".join(str(e).split())
        raise AekitError(f"{path} is not a readable array of codes ({reason})") from e
    if codes.dtype.kind not in "fiu":  # shape and finiteness: api.decode checks
        raise AekitError(f"{path} holds {codes.dtype} values; codes must be numbers")
    return codes


def _music(run: Any, kind: str) -> bool:
    """MIDI is written for a music run's folders and .mid files; .mid needs music."""
    from ...analysis.music_midi import is_music_run

    music = is_music_run(run)
    if kind in MIDI and not music:
        raise AekitError(f"{run.path} was not trained on music; --out cannot be MIDI")
    return music and kind in (*MIDI, "dir")


def write_music(run: Any, rolls: Any, out: Path) -> int:
    from ...analysis.music_midi import write_midi

    paths = write_midi(run, rolls, out)
    where = out if len(paths) > 1 else paths[0]
    say(f"wrote {len(rolls)} piece(s) as {len(paths)} MIDI file(s) to {where}")
    return 0


def write_data(values: np.ndarray, out: Path, kind: str, run: Any) -> int:
    """Rows in source units -> .npy / .csv, or one PNG per row in a directory."""
    from ...data.io import write_npy, write_text

    if kind == ".npy":
        write_npy(out, values)
    elif kind == ".csv":  # with a header, as `encode` writes and a table reads
        flat = values.reshape(len(values), -1)
        names = run.record["data"].get("feature_names") or [
            f"x{i}" for i in range(flat.shape[1])
        ]
        if len(names) != flat.shape[1]:
            names = [f"x{i}" for i in range(flat.shape[1])]
        import csv
        import io

        text = io.StringIO()
        table = csv.writer(text, lineterminator="\n")
        table.writerow(names)
        table.writerows([f"{v:.7g}" for v in r] for r in flat)
        write_text(out, text.getvalue())
    else:
        if len(run.sample_shape) != 3:
            raise AekitError(
                f"this run's data are {run.input_kind}s, not images; use --out FILE.npy"
            )
        from ...data.pixels import save_png

        x = run.scaling.from_source(values).numpy()  # back to [0, 1] for display
        width = max(5, len(str(len(x))))
        for i, image in enumerate(x):
            save_png(out / f"{i:0{width}d}.png", image)
    say(f"wrote {len(values)} item(s) to {out}")
    return 0
