"""Anomaly detection over time on real series that ship with statsmodels, recorded in
BENCHMARKS.md.

    pip install statsmodels pyod
    python benchmarks/series_anomaly.py [--out runs/bench-series] [--quick]

Series (statsmodels.datasets): sunspots (yearly, 309 steps), elnino (monthly sea
temperatures 1950-2010 as one series, 732 steps), co2 (weekly Mauna Loa, 2284 steps,
gaps interpolated, differenced to remove its trend) and nile (yearly, 100 steps).
None carries anomaly labels, so anomalies are injected (Wu & Keogh 2021's advice:
few, varied, labelled exactly): in the second half of each series, three spans of
half a window each, one of each kind: a bump of 3 standard deviations, a level
shift of 2, and a span of extra noise (1 sd). The first half, clean, is what every
detector is fitted on; every step of the second half is scored.

Detectors score the same (C, W) windows (stride 1, standardised with the training
half's mean and sd, as the aekit run stores it), and a step's score is the mean
over the windows covering it (data.series.window_scores_to_steps) for all of them:
aekit's conv1d, lstm and conv1d-vae (reconstruction error), and pyod's AutoEncoder,
IsolationForest and PCA on the flattened windows. Metric: per-step AUROC against the
injected labels, mean over three injection seeds. Bar: aekit's autoencoders beat
PCA on windows.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import aekit
from aekit.analysis.metrics import auroc
from aekit.analysis.series_anomaly import window_errors
from aekit.data.series import window_scores_to_steps
from aekit.run import load_inputs, run_data

SERIES = {"sunspots": 16, "elnino": 24, "co2": 52, "nile": 8}  # name -> window
AEKIT = {  # name -> (registry model, options)
    "aekit conv1d": ("conv1d", {"channels": (16, 32), "latent_dim": 8}),
    "aekit lstm": ("lstm", {"hidden_size": 32, "latent_dim": 8}),
    "aekit conv1d-vae": ("conv1d-vae", {"channels": (16, 32), "latent_dim": 8}),
}
PYOD = ("pyod AutoEncoder", "pyod IsolationForest", "pyod PCA")
TRAINING = {"batch_size": 32, "lr": 3e-3, "patience": 0, "val_fraction": 0.1}


def load_series(name: str) -> np.ndarray:
    import statsmodels.api as sm

    if name == "sunspots":
        return sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    if name == "nile":
        return sm.datasets.nile.load_pandas().data["volume"].to_numpy()
    if name == "elnino":
        months = sm.datasets.elnino.load_pandas().data.iloc[:, 1:]
        return months.to_numpy().reshape(-1)
    co2 = sm.datasets.co2.load_pandas().data["co2"].interpolate().bfill()
    return np.diff(co2.to_numpy())


def inject(values: np.ndarray, window: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three anomalies (bump, level shift, noise) in the second half, apart."""
    rng = np.random.default_rng(seed)
    x, labels = values.astype(np.float64).copy(), np.zeros(len(values), dtype=int)
    sd, half, span = values[: len(values) // 2].std(), len(values) // 2, window // 2
    slots = np.linspace(half, len(values) - span, 4).astype(int)[:3]
    for kind, start in zip(("bump", "shift", "noise"), slots, strict=True):
        start = int(start + rng.integers(0, max(1, (slots[1] - slots[0]) - 2 * span)))
        start = min(start, len(values) - span)
        steps = slice(start, start + span)
        if kind == "bump":
            x[steps] += 3 * sd * np.hanning(span + 2)[1:-1] * rng.choice([-1, 1])
        elif kind == "shift":
            x[steps] += 2 * sd * rng.choice([-1, 1])
        else:
            x[steps] += sd * rng.standard_normal(span)
        labels[steps] = 1
    return x, labels


def write_csv(path: Path, values: np.ndarray, labels: np.ndarray | None) -> Path:
    head = "value" + (",is_anomaly" if labels is not None else "")
    rows = [
        f"{v:.8g}" + (f",{labels[i]}" if labels is not None else "")
        for i, v in enumerate(values)
    ]
    path.write_text(head + "\n" + "\n".join(rows) + "\n")
    return path


def pyod_scores(name: str, train: np.ndarray, test: np.ndarray, seed: int) -> Any:
    if name == "pyod AutoEncoder":
        from pyod.models.auto_encoder import AutoEncoder

        model = AutoEncoder(epoch_num=30, verbose=0, random_state=seed)
    elif name == "pyod IsolationForest":
        from pyod.models.iforest import IForest

        model = IForest(random_state=seed)
    else:
        from pyod.models.pca import PCA

        model = PCA(random_state=seed)
    return model.fit(train).decision_function(test)


def one_series(name: str, window: int, seeds: list[int], epochs: int, out: Path):
    values = load_series(name)
    half = len(values) // 2
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    train_csv = write_csv(folder / "train.csv", values[:half], None)
    runs, seconds = {}, {}
    for label, (model, options) in AEKIT.items():
        started = time.perf_counter()
        runs[label] = aekit.train(
            str(train_csv), model, out=folder / model, overwrite=True,
            window=window, stride=1, epochs=epochs, pictures=False, report=False,
            **options, **TRAINING,
        )  # fmt: skip
        seconds[label] = time.perf_counter() - started
    first = next(iter(runs.values()))
    train_windows = run_data(first).x.flatten(1).numpy()
    results: dict[str, list[float]] = {k: [] for k in (*AEKIT, *PYOD)}
    for seed in seeds:
        x, labels = inject(values, window, seed)
        test_csv = write_csv(folder / f"test-{seed}.csv", x, labels)
        data = load_inputs(first, str(test_csv))
        truth = labels[half:]
        for label, run in runs.items():
            errors, _ = window_errors(run, data.x)
            steps = window_scores_to_steps(errors, len(x), window, 1)
            results[label].append(auroc(truth, steps[half:]))
        test_windows = data.x.flatten(1).numpy()
        for label in PYOD:
            started = time.perf_counter()
            scores = pyod_scores(label, train_windows, test_windows, seed)
            seconds[label] = seconds.get(label, 0) + time.perf_counter() - started
            steps = window_scores_to_steps(scores, len(x), window, 1)
            results[label].append(auroc(truth, steps[half:]))
    return len(values), results, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/bench-series"))
    parser.add_argument("--quick", action="store_true", help="2 epochs, one seed")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--series", nargs="*", default=list(SERIES))
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    seeds = [0] if args.quick else [0, 1, 2]
    epochs = 2 if args.quick else args.epochs
    columns = [*AEKIT, *PYOD]
    table = [
        "| series (steps, window) | " + " | ".join(columns) + " |",
        "| --- |" + " ---: |" * len(columns),
    ]
    means: dict[str, list[float]] = {c: [] for c in columns}
    total = time.perf_counter()
    for name in args.series:
        n, results, seconds = one_series(name, SERIES[name], seeds, epochs, args.out)
        cells = []
        for c in columns:
            m = float(np.mean(results[c]))
            means[c].append(m)
            cells.append(f"{m:.3f}")
        table.append(f"| {name} ({n}, {SERIES[name]}) | " + " | ".join(cells) + " |")
        print(f"{name}: " + ", ".join(f"{c} {s:.1f}s" for c, s in seconds.items()))
    table.append(
        "| **mean** | "
        + " | ".join(f"**{np.mean(means[c]):.3f}**" for c in columns)
        + " |"
    )
    print("\n".join(table))
    best_ae = max(np.mean(means[c]) for c in AEKIT)
    print(
        f"\nbar: best aekit autoencoder {best_ae:.3f} vs pyod PCA "
        f"{np.mean(means['pyod PCA']):.3f} -> "
        + ("met" if best_ae > np.mean(means["pyod PCA"]) else "NOT met")
    )
    print(
        f"per-step AUROC, mean over injection seeds {seeds}; {epochs} epochs; "
        f"{time.perf_counter() - total:.0f} s in all; {platform.processor() or ''} "
        f"torch {torch.__version__}, {torch.get_num_threads()} thread"
    )


if __name__ == "__main__":
    main()
