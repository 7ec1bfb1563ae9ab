"""Every data set of the panel trained with `aekit train --data X` and nothing else.

    python benchmarks/defaults_panel.py                     # the panel (~15-25 min)
    python benchmarks/defaults_panel.py --large             # + Fashion 60k, 50k table
    python benchmarks/defaults_panel.py --only iris,co2-spike --json out.json

Data: benchmarks/panel_data.py (images, tables, UCR series, long series with
labelled anomalies; the UCR sets need `pip install aeon`, the anomaly and table sets
statsmodels). Each row: the model aekit chose, the optimiser steps it took, the
wall time of the whole command (pictures and report included), validation MSE x PCA
(from the run's metrics) and test MSE x PCA (PCA fitted on the run's training split
at the same code size, both on the held-out test source, in model units); for
anomalies, the distance in steps from the top-scored step of the test series to
the labelled region (0: inside) and whether it is a hit (within 100 steps, the UCR
rule, or one window if longer).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

import panel_data  # noqa: E402
from aekit import inference  # noqa: E402
from aekit.analysis.metrics import mse, pca_reconstruction_mse  # noqa: E402
from aekit.run import load_inputs, load_run, run_splits  # noqa: E402


def train(source: str, out: Path, extra: list[str]) -> tuple[float, int, str]:
    command = [
        sys.executable,
        "-m",
        "aekit",
        "train",
        "--data",
        source,
        "--out",
        str(out),
        "--force",
        *extra,
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    tail = (done.stdout + done.stderr).strip().splitlines()
    return seconds, done.returncode, tail[-1] if tail else ""


def score(name: str, kind: str, run_dir: Path, test: str) -> dict:
    run = load_run(run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    config = json.loads((run_dir / "config.json").read_text())
    n_train = config["data"]["n_train"]
    batch = config["training"]["batch_size"]
    epochs = metrics["epochs_run"]
    row = {
        "data": name,
        "kind": kind,
        "model": run.model_name,
        "n_train": n_train,
        "steps": epochs * math.ceil(n_train / batch),
        "val_x_pca": metrics.get("mse_ratio_to_pca"),
        "stop": metrics.get("stop_reason"),
    }
    train_split, _ = run_splits(run)
    test_data = load_inputs(run, test)
    x_hat = inference.reconstruct(run, test_data.x)
    pca = pca_reconstruction_mse(
        train_split.x.numpy(), test_data.x.numpy(), run.model.latent_dim
    )
    row["test_x_pca"] = mse(test_data.x, x_hat) / pca if pca > 0 else None
    if kind == "anomaly":
        from aekit.analysis.series_anomaly import detect_series

        result = detect_series(run, test)
        scores, labels = result["scores"][0], np.asarray(result["labels"][0]) != 0
        where = np.flatnonzero(labels)
        top = int(np.argmax(scores))
        distance = (
            0
            if where[0] <= top <= where[-1]
            else int(min(abs(top - where[0]), abs(top - where[-1])))
        )
        window = config["data"]["options"].get("window") or 0
        row["anomaly_distance"] = distance
        row["hit"] = distance <= max(100, window)
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cache", type=Path, default=Path("/tmp/aekit-panel"))
    p.add_argument("--large", action="store_true", help="add the 50k-60k data sets")
    p.add_argument("--only", help="comma-separated data set names")
    p.add_argument("--json", type=Path, help="write the rows here")
    p.add_argument("--train-args", default="", help="extra `aekit train` options")
    args = p.parse_args()
    entries = panel_data.panel(args.cache, args.large)
    if args.only:
        wanted = set(args.only.split(","))
        entries = [e for e in entries if e[0] in wanted]
    rows = []
    print(
        f"# {platform.processor() or platform.machine()}, "
        f"python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
    print("| data | kind | model | steps | wall s | val x PCA | test x PCA | anomaly |")
    print("|---|---|---|---:|---:|---:|---:|---|")
    for name, kind, train_src, test_src, note in entries:
        out = args.cache / "runs" / name
        seconds, code, last = train(train_src, out, args.train_args.split())
        if code != 0:
            row = {"data": name, "kind": kind, "error": last, "seconds": seconds}
            print(f"| {name} | {kind} | refused: {last} | | {seconds:.0f} | | | |")
        else:
            row = score(name, kind, out, test_src) | {"seconds": seconds, "note": note}
            hit = ""
            if kind == "anomaly":
                said = "hit" if row["hit"] else "miss"
                hit = f"{said} ({row['anomaly_distance']} steps)"
            print(
                f"| {name} | {kind} | {row['model']} | {row['steps']:,} | "
                f"{seconds:.0f} | {row['val_x_pca']:.3f} | {row['test_x_pca']:.3f} | "
                f"{hit} |",
                flush=True,
            )
        rows.append(row)
    ok = [r for r in rows if "error" not in r]
    if ok:
        val = [r["val_x_pca"] for r in ok]
        test = [r["test_x_pca"] for r in ok]
        hits = [r["hit"] for r in ok if r["kind"] == "anomaly"]
        print(
            f"\nmedian val x PCA {statistics.median(val):.3f}, max {max(val):.3f}; "
            f"median test x PCA {statistics.median(test):.3f}, max {max(test):.3f}; "
            f"anomalies top-1: {sum(hits)}/{len(hits)}; refused: {len(rows) - len(ok)}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
