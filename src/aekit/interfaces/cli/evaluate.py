"""`aekit evaluate` and `aekit bench`: how good a run is, and the fixed benchmark
protocol."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from ...analysis.sae_text import sparsity_lines
from ...errors import AekitError
from . import common
from .common import add_command, positive_int, say, seed
from .music import music_section

DEFAULT_CONFIGS = Path("benchmarks/configs")


def register(subparsers: Any) -> None:
    p = add_command(
        subparsers,
        "evaluate",
        "measure a run: reconstruction, PCA baseline, VAE likelihood, codes, "
        "compression, anomaly ranking",
    )
    p.add_argument("run", type=Path, metavar="RUN")
    p.add_argument(
        "--data",
        metavar="SOURCE",
        help="data to evaluate on (default: the run's own validation split)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE.json",
        help="where to write the figures (default RUN/evaluation.json)",
    )
    p.add_argument(
        "--normal-classes",
        metavar="0-8|NAMES",
        help="labels of normal data; the rest are anomalies, ranked by AUROC/AUPRC",
    )
    p.add_argument(
        "--anomaly-labels",
        type=Path,
        metavar="FILE.csv",
        help="one 0/1 per evaluated input (1 = anomaly), instead of --normal-classes",
    )
    p.add_argument(
        "-k",
        type=positive_int,
        default=1000,
        help="importance samples per example for a VAE's NLL (default 1000)",
    )
    p.add_argument(
        "--nll-examples",
        type=int,
        default=1000,
        metavar="N",
        help="examples the NLL is estimated on, a seeded subset (default 1000; 0 all)",
    )
    p.add_argument(
        "--no-probes", dest="probe", action="store_false", help="skip probes"
    )
    p.add_argument(
        "--no-compression", dest="compress", action="store_false", help="skip codec"
    )
    p.add_argument(
        "--no-samples",
        dest="samples",
        action="store_false",
        help="skip the sample-quality score (Fréchet distance of samples)",
    )
    p.add_argument(
        "--factors",
        type=Path,
        metavar="FILE.csv",
        help="known factors, a column each, a row per evaluated input: the codes' "
        "disentanglement (MIG); default the data's labels as one factor",
    )
    p.add_argument("--seed", type=seed, default=0, help="default 0")
    p.add_argument("--json", action="store_true", help="print JSON, not tables")
    p.add_argument("--masks", metavar="DIR", help="segment runs: true masks of --data")
    p.add_argument("--classes", metavar="FILE", help="segment runs: class names")
    p.set_defaults(func=evaluate)

    p = add_command(
        subparsers, "bench", "train and evaluate the benchmark configs; markdown table"
    )
    p.add_argument(
        "configs",
        nargs="*",
        type=Path,
        metavar="CONFIG",
        help=f"config files or directories (default {DEFAULT_CONFIGS})",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("runs/bench"),
        metavar="DIR",
        help="runs, split data, results and bench.md (default runs/bench)",
    )
    p.add_argument("--quick", action="store_true", help="one epoch, k=10: wiring only")
    p.set_defaults(func=bench)


EVALUATE_OPTIONS = (
    *("masks", "classes", "normal_classes", "anomaly_labels", "k", "nll_examples"),
    *("probe", "compress", "samples", "seed", "factors"),
)


def evaluate(args: argparse.Namespace) -> int:
    from ...data.io import write_json
    from ...tasks import task_named
    from ..api import as_run
    from .common import print_json

    run = as_run(args.run)
    # the options of every task's evaluation; the run's task takes its own
    given: dict[str, Any] = {k: getattr(args, k) for k in EVALUATE_OPTIONS}
    task = task_named(run.task)
    accepted = task.evaluate_options
    refused = [f"--{k}" for k in ("masks", "classes") if given[k] and k not in accepted]
    if refused:  # the autoencoder options have defaults; a task run reads none
        verb = "is" if len(refused) == 1 else "are"
        raise AekitError(f"{' and '.join(refused)} {verb} not for {task.noun}")
    options = {k: v for k, v in given.items() if k in task.evaluate_options}
    report = task.evaluate(run, args.data, **options)
    out = args.out or run.path / "evaluation.json"
    write_json(out, report)
    if args.json:
        print_json(report)
    else:
        say(*format_report(report))
    say(f"wrote {out}")
    return 0


def bench(args: argparse.Namespace) -> int:
    from ..bench import find_configs, run_bench

    configs = find_configs(args.configs or [DEFAULT_CONFIGS])
    command = "aekit bench " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    _, path = run_bench(
        configs, args.out, quick=args.quick, command=command.strip(), log=say
    )
    say(path.read_text(), f"wrote {path}")
    return 0


# -- the tables the user reads ---------------------------------------------------------
RECONSTRUCTION = {"n": "N", "mse": "MSE", "mae": "MAE", "bce": "BCE", "psnr": "PSNR"}
RECONSTRUCTION |= {"ssim": "SSIM"}
PROBES = {"logistic_accuracy": "logistic", "knn_accuracy": "k-NN"}
PROBES |= {"kmeans_accuracy": "k-means", "kmeans_nmi": "NMI", "kmeans_ari": "ARI"}
CODEC = {"bytes": "bytes", "ratio": "ratio", "bits_per_pixel": "bpp", "psnr": "PSNR"}
CODEC |= {"jpeg_quality": "JPEG q", "jpeg_bits_per_pixel": "JPEG bpp"}
CODEC |= {"jpeg_psnr": "JPEG PSNR"}


def format_report(r: dict[str, Any]) -> list[str]:
    if "reconstruction" not in r:  # another task's figures: print them as they come
        return [f"{key:<28}{_cell(value)}" for key, value in common.flat_items(r)]
    d, rec = r["data"], r["reconstruction"]
    lines = [
        f"{r['run']}: {r['model']}, code size {r['latent_dim']}; "
        f"{d['n']} examples of {d['source']}, {d['split']}"
    ]
    rows = {"overall": rec["overall"], **rec.get("per_class", {})}
    lines += _table("reconstruction", RECONSTRUCTION, rows)
    sections = {"baseline": _baseline, "vae": _vae, "codes": _codes}
    sections |= {"compression": _compression, "denoising": _denoising}
    sections |= {
        "anomaly": _anomaly,
        "anomaly_steps": _anomaly_steps,
        "samples": _samples,
        "prior_fit": lambda f: [  # the family's own measure (WAE, AAE)
            "codes against the prior: "
            + ", ".join(f"{k} {_cell(v)}" for k, v in f.items())
        ],
        "disentanglement": _disentanglement,
        "music": music_section,
        "sparsity": sparsity_lines,
    }
    for name, describe in sections.items():
        if name in r:
            lines += describe(r[name])
    return lines


def _baseline(b: dict[str, Any]) -> list[str]:
    psnr = f"; PSNR {_cell(b.get('pca_psnr'))} vs {_cell(b.get('model_psnr'))} dB"
    return [
        f"PCA-{b['pca_components']} fitted on {b['pca_fitted_on']}: MSE "
        f"{_cell(b['pca_mse'])} vs the model's {_cell(b['model_mse'])}, ratio "
        f"{_cell(b['mse_ratio'])}" + (psnr if "pca_psnr" in b else "")
    ]


def _vae(v: dict[str, Any]) -> list[str]:
    nll, d = v["nll"], v["latent_dim"]
    return [
        f"VAE: ELBO {_cell(v['elbo'])} = -(recon {_cell(v['recon'])} + KL "
        f"{_cell(v['kl'])}) nats per example",
        f"  NLL {nll['nats']:.3f} ± {nll['stderr']:.3f} nats "
        f"({nll['bits_per_dim']:.4f} bits/dim), k={nll['k']} on {nll['n']} "
        f"examples; {v['nll_convention']}",
        "  by k: " + ", ".join(f"{k}: {x:.3f}" for k, x in nll["by_k"].items()),
        f"  active units {v['active_units']}/{d} (mean KL > {v['threshold']}), "
        f"{v['active_units_variance']}/{d} (variance of the posterior mean > "
        f"{v['threshold']})",
    ]


def _disentanglement(d: dict[str, Any]) -> list[str]:
    return [
        f"disentanglement: MIG {d['mig']:.3f} over {len(d['per_factor'])} "
        f"factor(s) from {d['factors']} ({d['bins']} bins per code dimension)"
    ]


def _codes(c: dict[str, Any]) -> list[str]:
    title = f"codes (probes fitted on {c['n_train']}, scored on {c['n_test']})"
    rows = {name: c[name] for name in ("model", "pca", "raw") if name in c}
    return _table(title, PROBES, rows)


def _compression(c: dict[str, Any]) -> list[str]:
    rows = {
        p: {**c[p], **{f"jpeg_{k}": v for k, v in c[p].get("jpeg", {}).items()}}
        for p in ("float32", "float16", "uint8")
    }
    return _table(f"compression (source {c['source_bytes']:g} bytes)", CODEC, rows)


def _denoising(d: dict[str, Any]) -> list[str]:
    psnr = f"; PSNR {_cell(d.get('noisy_psnr'))} -> {_cell(d.get('denoised_psnr'))} dB"
    return [
        f"denoising ({d['noise']}): MSE against the clean inputs "
        f"{_cell(d['noisy_mse'])} noisy, {_cell(d['denoised_mse'])} denoised"
        + (psnr if "noisy_psnr" in d else "")
    ]


def _anomaly(a: dict[str, Any]) -> list[str]:
    return [
        f"anomalies ({a['n_anomalies']} of {a['n']}): AUROC {_cell(a['auroc'])}, "
        f"AUPRC {_cell(a['auprc'])} (chance {_cell(a['auprc_chance'])})"
    ]


def _anomaly_steps(a: dict[str, Any]) -> list[str]:
    lines = [
        f"anomalous steps ({a['n_anomalous_steps']} of {a['n_steps']}): AUROC "
        f"{_cell(a.get('auroc'))}, AUPRC {_cell(a.get('auprc'))} (chance "
        f"{_cell(a.get('auprc_chance'))})"
    ]
    if a["ucr_series"]:
        lines.append(
            f"  UCR top-1: {a['ucr_top1_hits']} of {a['ucr_series']} series have "
            "their top-scored step within 100 steps of the labelled anomaly"
        )
    if a.get("vus_pr") is not None:
        lines.append(
            f"  per series: VUS-PR {_cell(a['vus_pr'])}, range-AUC-PR "
            f"{_cell(a['range_auc_pr'])}, point-adjusted F1 {_cell(a['pa_f1'])}"
        )
    return lines


def _samples(s: dict[str, Any]) -> list[str]:
    if "skipped" in s:
        return [f"samples: not scored ({s['skipped']})"]
    label = ""
    if "label_accuracy" in s:
        label = f"; classified as the asked label {_cell(s['label_accuracy'])}"
    return [
        f"samples ({s['n']}): Fréchet distance {_cell(s['frechet'])} to held-out "
        f"data (training data: {_cell(s['frechet_train'])}) in the features of a "
        f"classifier with held-out accuracy {_cell(s['classifier_accuracy'])}" + label
    ]


def _table(title: str, columns: dict[str, str], rows: dict[str, dict]) -> list[str]:
    shown = [c for c in columns if any(c in row for row in rows.values())]
    out = [title, f"  {'':<10}" + "".join(f"{columns[c]:>12}" for c in shown)]
    for name, row in rows.items():
        cells = "".join(f"{_cell(row.get(c)):>12}" for c in shown)
        out.append(f"  {name[:10]:<10}{cells}")
    return out


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.5g}" if isinstance(value, float) else str(value)
