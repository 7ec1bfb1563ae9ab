"""`aekit bench`: a fixed protocol of (model x data set) configs, trained, evaluated,
checked against their bars and written as a markdown table.

Each config is one explicit JSON file (benchmarks/configs/*.json):

    {"name": "conv16-fashion-mnist",
     "data": {"source": "../shared/data/fashion-mnist", "options": {"split": "train"},
              "test": 10000, "seed": 0},
     "model": "conv", "options": {"latent_dim": 16, "epochs": 20, ...},
     "evaluate": {"k": 1000, "nll_examples": 1000},
     "bars": {"max_mse_ratio_to_pca": 0.6, "kmeans_above_raw": true,
              "nll_never_up": true}}

The data set is split once, seeded, into train and test (`test` examples held out)
and both parts are written as .npz files under OUT/data, so every run directory can
reload its training data; the run trains on the train part (keeping its own
validation split for early stopping) and is evaluated on the test part.

A config whose data is absent (a folder outside the repository, not downloaded yet)
is skipped with a message naming it, so the configs on the data sets that ship with
the packages (digits, mnist-5k) run from a fresh clone.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.io import read_json, write_json, write_text
from ..errors import AekitError

logger = logging.getLogger(__name__)

BARS = ("max_mse_ratio_to_pca", "kmeans_above_raw", "nll_never_up")
QUICK = {"epochs": 1}  # --quick: wiring check, not a result
QUICK_EVALUATE = {"k": 10, "nll_examples": 50}


def load_config(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    config = read_json(path)
    if not isinstance(config, dict):
        raise AekitError(f"{path}: a bench config is a JSON object")
    missing = [k for k in ("name", "data", "model") if k not in config]
    if missing:
        raise AekitError(f"{path}: bench config lacks {', '.join(missing)}")
    if "source" not in config["data"]:
        raise AekitError(f"{path}: the config's data needs a source")
    unknown = sorted(set(config.get("bars", {})) - set(BARS))
    if unknown:
        raise AekitError(f"{path}: unknown bar(s) {unknown}; known: {list(BARS)}")
    return config


def find_configs(paths: list[str | Path]) -> list[Path]:
    """Config files given directly or found (*.json, sorted) in given directories."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(p.glob("*.json"))
        elif p.is_file():
            found.append(p)
        else:
            raise AekitError(f"no such bench config or directory: {p}")
    if not found:
        raise AekitError(f"no bench configs (*.json) in {', '.join(map(str, paths))}")
    return found


def missing_data(config: dict[str, Any]) -> list[str]:
    """The config's data sources that are neither built-in names nor existing paths."""
    from ..data import DATASETS

    source = config["data"]["source"]
    sources = source if isinstance(source, list) else [source]
    return [
        str(s) for s in sources if str(s) not in DATASETS and not Path(str(s)).exists()
    ]


def prepare_data(spec: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """Split the source once (seeded) into train.npz and test.npz under out/data."""
    from ..data import load_dataset

    n_test, seed = int(spec.get("test", 1000)), int(spec.get("seed", 0))
    stem = Path(str(spec["source"])).name or "data"
    folder = out / "data" / f"{stem}-test{n_test}-seed{seed}"
    train_path, test_path = folder / "train.npz", folder / "test.npz"
    if train_path.is_file() and test_path.is_file():
        return train_path, test_path
    data = load_dataset(spec["source"], **spec.get("options", {}))
    if not 0 < n_test < len(data):
        raise AekitError(f"cannot hold out {n_test} of {len(data)} examples")
    perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    for path, index in ((test_path, perm[:n_test]), (train_path, perm[n_test:])):
        part = data.subset(index)
        arrays = {"x": _source_array(part)}
        if part.y is not None:
            arrays["y"] = part.y.numpy()
        _write_npz(path, arrays)
    return train_path, test_path


def run_config(
    config: dict[str, Any], out: Path, *, quick: bool = False
) -> dict[str, Any]:
    """Train and evaluate one config; returns its evaluation with timings and bars."""
    from ..analysis.evaluation import evaluate
    from ..tasks.pipeline import train

    train_path, test_path = prepare_data(config["data"], out)
    options = {**config.get("options", {}), **(QUICK if quick else {})}
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
    start = time.perf_counter()
    run = train(
        str(train_path),
        config["model"],
        out=out / "runs" / config["name"],
        overwrite=True,
        pictures=False,
        **options,
    )
    trained = time.perf_counter() - start
    evaluate_options = {
        **config.get("evaluate", {}),
        **(QUICK_EVALUATE if quick else {}),
    }
    report = evaluate(run, str(test_path), **evaluate_options)
    report["bench"] = {
        "name": config["name"],
        "data": config["data"],
        "options": config.get("options", {}),
        "epochs_run": len(run.history.rows),
        "parameters": sum(p.numel() for p in run.model.parameters()),
        "train_seconds": trained,
        "evaluate_seconds": time.perf_counter() - start - trained,
        "bars": check_bars(report, config.get("bars", {})),
    }
    write_json(out / "results" / f"{config['name']}.json", report)
    return report


def check_bars(report: dict[str, Any], bars: dict[str, Any]) -> list[dict[str, Any]]:
    """Each bar of the config: what it asks, what the run shows, passed or not."""
    checks = []
    for bar, value in bars.items():
        if bar == "max_mse_ratio_to_pca":
            ratio = report.get("baseline", {}).get("mse_ratio")
            passed = ratio is not None and ratio <= value
            shown = f"test MSE / PCA-{report['latent_dim']} MSE = {_fmt(ratio)}"
            checks.append(_bar(f"MSE ratio to PCA <= {value}", shown, passed))
        elif bar == "kmeans_above_raw" and value:
            codes = report.get("codes", {})
            model = codes.get("model", {}).get("kmeans_accuracy")
            raw = codes.get("raw", {}).get("kmeans_accuracy")
            passed = model is not None and raw is not None and model > raw
            shown = f"k-means accuracy {_fmt(model)} on codes, {_fmt(raw)} on pixels"
            checks.append(_bar("k-means on codes above raw pixels", shown, passed))
        elif bar == "nll_never_up" and value:
            by_k = report.get("vae", {}).get("nll", {}).get("by_k", {})
            values = [by_k[k] for k in sorted(by_k, key=int)]
            passed = len(values) > 1 and all(
                b <= a for a, b in zip(values, values[1:], strict=False)
            )
            shown = ", ".join(f"k={k}: {_fmt(by_k[k])}" for k in sorted(by_k, key=int))
            checks.append(_bar("NLL estimate never goes up with k", shown, passed))
    return checks


def run_bench(
    configs: list[Path],
    out: Path,
    *,
    quick: bool = False,
    command: str = "aekit bench",
    log: Callable[[str], None] | None = None,
) -> tuple[list[dict[str, Any]], Path]:
    """Run every config whose data is present; write OUT/bench.md (which lists the
    skipped ones too); return the reports and its path."""
    loaded = [load_config(p) for p in configs]
    reports: list[dict[str, Any]] = []
    skipped: dict[str, list[str]] = {}
    for config in loaded:
        missing = missing_data(config)
        if missing:
            skipped[config["name"]] = missing
            message = f"{config['name']}: skipped, no data at {', '.join(missing)}"
            (log or logger.warning)(message)  # the CLI prints it; else it is logged
            continue
        if log:
            log(f"{config['name']}: training and evaluating")
        reports.append(run_config(config, out, quick=quick))
        write_text(
            out / "bench.md",
            markdown(reports, command=command, quick=quick, skipped=skipped),
        )
    write_text(
        out / "bench.md",
        markdown(reports, command=command, quick=quick, skipped=skipped),
    )
    return reports, out / "bench.md"


def machine() -> str:
    """CPU model, cores, torch and its threads: what the numbers were measured on."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{model}, {os.cpu_count()} cores, {gpu}; torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), {platform.platform()}"
    )


def markdown(
    reports: list[dict[str, Any]],
    *,
    command: str,
    quick: bool = False,
    skipped: dict[str, list[str]] | None = None,
) -> str:
    """One table per data set, then the bars; figures on each held-out test split;
    last, the configs `skipped` (name -> missing data sources)."""
    lines = [f"Command: `{command}`", "", f"Machine: {machine()}", ""]
    if quick:
        lines += ["**--quick: one epoch, k = 10; a wiring check, not a result.**", ""]
    by_data: dict[str, list[dict[str, Any]]] = {}
    for r in reports:
        by_data.setdefault(str(r["bench"]["data"]["source"]), []).append(r)
    for source, rows in by_data.items():
        spec = rows[0]["bench"]["data"]
        lines += [
            f"### {source} (test: {spec.get('test', 1000)} held out, seed "
            f"{spec.get('seed', 0)}; {rows[0]['data']['n_train']} train)",
            "",
            "| config | model | code | params | epochs | train s | test MSE | "
            "PCA MSE | ratio | PSNR | SSIM | k-means acc code / PCA / raw | "
            "NMI code / raw | logistic code / raw | k-NN code / raw | NLL nats |",
            "|" + " --- |" * 16,
        ]
        lines += [_row(r) for r in rows]
        lines.append("")
    bars = [(r["bench"]["name"], b) for r in reports for b in r["bench"]["bars"]]
    if bars:
        lines += [
            "### Bars",
            "",
            "| config | bar | measured | |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {name} | {b['bar']} | {b['measured']} | "
            f"{'pass' if b['passed'] else '**FAIL**'} |"
            for name, b in bars
        ]
        lines.append("")
    if skipped:
        lines += ["### Skipped: data not found", ""]
        lines += [f"- {name}: {', '.join(src)}" for name, src in skipped.items()]
        lines.append("")
    return "\n".join(lines)


def _row(r: dict[str, Any]) -> str:
    b, rec = r["bench"], r["reconstruction"]["overall"]
    base, codes = r.get("baseline", {}), r.get("codes", {})

    def probe(key: str, names: tuple[str, ...]) -> str:
        return " / ".join(_fmt(codes.get(n, {}).get(key), 3) for n in names)

    nll = r.get("vae", {}).get("nll")
    nll_text = f"{nll['nats']:.2f} ± {nll['stderr']:.2f} (k={nll['k']})" if nll else ""
    cells = [
        b["name"],
        r["model"],
        str(r["latent_dim"]),
        f"{b['parameters']:,}",
        str(b["epochs_run"]),
        f"{b['train_seconds']:.0f}",
        _fmt(rec["mse"]),
        _fmt(base.get("pca_mse")),
        _fmt(base.get("mse_ratio"), 3),
        _fmt(rec.get("psnr"), 3),
        _fmt(rec.get("ssim"), 3),
        probe("kmeans_accuracy", ("model", "pca", "raw")),
        probe("kmeans_nmi", ("model", "raw")),
        probe("logistic_accuracy", ("model", "raw")),
        probe("knn_accuracy", ("model", "raw")),
        nll_text,
    ]
    return "| " + " | ".join(cells) + " |"


def _bar(bar: str, measured: str, passed: bool) -> dict[str, Any]:
    return {"bar": bar, "measured": measured, "passed": bool(passed)}


def _fmt(value: Any, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def _source_array(data: Any) -> np.ndarray:
    """Samples in source units; 8-bit images stay uint8 so they reload the same."""
    s = data.scaling
    if s.domain == "unit" and s.scale == 255.0 and s.offset == 0.0:
        return np.rint(s.to_source(data.x)).astype(np.uint8)
    if s.domain == "unit":
        return data.x.numpy()  # model units already in [0, 1]: reloaded as they are
    return s.to_source(data.x)


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    from ..data.io import atomic_path

    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
