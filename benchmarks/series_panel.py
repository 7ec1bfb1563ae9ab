"""The series anomaly panel of issue 24, recorded in BENCHMARKS.md.

    pip install aeon statsmodels
    python benchmarks/series_panel.py [--out runs/series-panel] [--epochs 30]

Eleven series, all offline, each with one labelled anomaly:
- UCR anomaly archive 135 (InternalBleeding16, 7,501 steps; shipped in the aeon
  wheel as KDD-TSAD_135): trained on its first 1,200 steps, as the archive splits it;
- ten real series with one injected anomaly of known position (Wu & Keogh 2021's
  advice: one anomaly per series, labelled exactly), in the second half, the
  first half (clean) being what every detector is fitted on: statsmodels co2
  (weekly, differenced), elnino (monthly, one series) and sunspots (yearly), aeon's
  segmentation series ElectricDevices (first 4,000 steps) and GunPoint, and three
  channels of aeon's Daphnet S06R02E0 gait recording (first 4,000 steps; the
  anomaly in one channel). Kinds: a bump of 3 sd (Hann-shaped), a level shift of
  2 sd, a span of extra noise (1 sd), each half a window long.

Detectors, all on the same windows (--window 64, aekit's default stride, the
run's scaling) and all turned into step scores the same way (the mean over the
windows covering a step): aekit conv1d, lstm and lstm-vae at their defaults
(mean squared error; lstm also with EncDec-AD's Gaussian error score; each also
with `--score spe-t2`, the error plus the code's T^2 distance), PCA on the
windows with the same code size (16), and the matrix-profile discord: a window's
Euclidean distance to its nearest training window. Scores on the steps after the
training part: the UCR rule (top-1 within 100 steps of the label), VUS-PR (buffers
up to one window) and wall time (training + scoring).
"""

from __future__ import annotations

import argparse
import glob
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import aekit
from aekit.analysis.encdec_score import fit_error_model, step_errors
from aekit.analysis.series_anomaly import window_errors
from aekit.analysis.series_code_score import code_scores, fit_code_score
from aekit.analysis.series_scores import ucr_hit, vus_pr
from aekit.models.pca_start import principal_directions
from aekit.run import load_inputs, run_splits

WINDOW, LATENT = 64, 16
LEARNED = ("conv1d", "lstm", "lstm-vae")
SPE_T2 = tuple(f"{m} spe-t2" for m in LEARNED)
COLUMNS = (*LEARNED, "lstm encdec", *SPE_T2, "PCA", "discord")
INJECTED = [  # (source, kind, seed)
    ("co2", "bump", 0), ("co2", "shift", 1), ("elnino", "noise", 2),
    ("elnino", "bump", 3), ("sunspots", "shift", 4), ("electric", "bump", 5),
    ("electric", "noise", 6), ("gunpoint", "shift", 7), ("gunpoint", "bump", 8),
    ("daphnet", "bump", 9),
]  # fmt: skip


def aeon_data(name: str) -> str:
    import aeon.datasets

    return str(Path(aeon.datasets.__file__).parent / "data" / name)


def source(name: str) -> np.ndarray:
    """(T, C) values of a real series."""
    import statsmodels.api as sm

    if name == "co2":
        co2 = sm.datasets.co2.load_pandas().data["co2"].interpolate().bfill()
        return np.diff(co2.to_numpy())[:, None]
    if name == "elnino":
        months = sm.datasets.elnino.load_pandas().data.iloc[:, 1:]
        return months.to_numpy().reshape(-1, 1)
    if name == "sunspots":
        return sm.datasets.sunspots.load_pandas().data[["SUNACTIVITY"]].to_numpy()
    if name == "electric":
        path = aeon_data("segmentation/ElectricDevices.csv")
        return np.loadtxt(path, delimiter=",")[:4000, 1:2]
    if name == "gunpoint":
        return np.loadtxt(aeon_data("segmentation/GunPoint.csv"), delimiter=",")[:, 1:2]
    path = glob.glob(aeon_data("Daphnet_S06R02E0/*.csv"))[0]
    table = np.genfromtxt(path, delimiter=",", skip_header=1)
    return table[:4000, 1:4]  # ankle: forward, vertical, lateral


def inject(values: np.ndarray, kind: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One anomaly of half a window in the second half, channel 0 (or a random one)."""
    rng = np.random.default_rng(seed)
    x, labels = values.astype(np.float64).copy(), np.zeros(len(values), dtype=int)
    half, span = len(values) // 2, WINDOW // 2
    start = int(rng.integers(half + span, len(values) - 2 * span))
    channel = int(rng.integers(0, x.shape[1]))
    sd = values[:half, channel].std()
    steps = slice(start, start + span)
    if kind == "bump":
        x[steps, channel] += 3 * sd * np.hanning(span + 2)[1:-1] * rng.choice([-1, 1])
    elif kind == "shift":
        x[steps, channel] += 2 * sd * rng.choice([-1, 1])
    else:
        x[steps, channel] += sd * rng.standard_normal(span)
    labels[steps] = 1
    return x, labels


def write_csv(path: Path, values: np.ndarray, labels: np.ndarray | None) -> Path:
    columns = [f"v{c}" for c in range(values.shape[1])]
    head = ",".join(columns) + (",is_anomaly" if labels is not None else "")
    rows = [
        ",".join(f"{v:.8g}" for v in row) + ("" if labels is None else f",{labels[i]}")
        for i, row in enumerate(values)
    ]
    path.write_text(head + "\n" + "\n".join(rows) + "\n")
    return path


def panel(out: Path) -> list[tuple[str, Path, Path, int]]:
    """(name, train csv, test csv, first scored step) for every series."""
    out.mkdir(parents=True, exist_ok=True)
    ucr = Path(aeon_data("KDD-TSAD_135"))
    train = next(ucr.glob("*TRAIN.csv"))
    items = [("ucr135 (real label)", train, next(ucr.glob("*TEST.csv")), 1200)]
    for name, kind, seed in INJECTED:
        values = source(name)
        x, labels = inject(values, kind, seed)
        half = len(values) // 2
        stem = f"{name}-{kind}"
        items.append(
            (
                f"{stem} ({len(values)})",
                write_csv(out / f"{stem}-train.csv", values[:half], None),
                write_csv(out / f"{stem}-test.csv", x, labels),
                half,
            )
        )
    return items


def step_scores(data: Any, errors: np.ndarray, first: int) -> np.ndarray:
    return data.series.step_scores(errors)[0][first:]


def baselines(run: Any, data: Any) -> dict[str, tuple[np.ndarray, float]]:
    """PCA on the training windows and the nearest-training-window distance."""
    started = time.perf_counter()
    train, _ = run_splits(run)
    a, b = train.x.flatten(1).double(), data.x.flatten(1).double()
    mean, basis = principal_directions(a.float(), LATENT)
    centred = b - mean.double()
    recon = centred @ basis.double().T @ basis.double()
    pca = (centred - recon).pow(2).mean(1).numpy()
    pca_seconds = time.perf_counter() - started
    started = time.perf_counter()
    nearest = torch.cat(
        [torch.cdist(chunk, a).min(1).values for chunk in b.split(2048)]
    )
    return {
        "PCA": (pca, pca_seconds),
        "discord": (nearest.numpy(), time.perf_counter() - started),
    }


def one_series(
    train_csv: Path, test_csv: Path, first: int, out: Path, epochs: int
) -> dict[str, tuple[bool, float, float]]:
    """{detector: (UCR hit, VUS-PR, seconds)}."""
    results: dict[str, tuple[bool, float, float]] = {}
    runs, data, truth = {}, None, None
    for model in LEARNED:
        started = time.perf_counter()
        run = aekit.train(
            str(train_csv), model, out=out / model, overwrite=True, window=WINDOW,
            pictures=False, report=False, **({"epochs": epochs} if epochs else {}),
        )  # fmt: skip
        if data is None:
            data = load_inputs(run, str(test_csv))
            truth = np.asarray(data.series.parts[0].step_labels)[first:] != 0
        errors, _ = window_errors(run, data.x)
        scores = step_scores(data, errors, first)
        seconds = time.perf_counter() - started
        results[model] = (
            ucr_hit(scores, truth),
            vus_pr(scores, truth, WINDOW),
            seconds,
        )
        runs[model] = run
        started = time.perf_counter()
        fitted, _ = fit_code_score(run)
        scores = step_scores(data, code_scores(run, data.x, fitted), first)
        results[f"{model} spe-t2"] = (
            ucr_hit(scores, truth),
            vus_pr(scores, truth, WINDOW),
            seconds + time.perf_counter() - started,
        )
    started = time.perf_counter()
    gaussian, _ = fit_error_model(runs["lstm"])
    encdec = gaussian.score(step_errors(runs["lstm"], data.x))
    scores = step_scores(data, encdec, first)
    seconds = results["lstm"][2] + time.perf_counter() - started
    results["lstm encdec"] = (
        ucr_hit(scores, truth),
        vus_pr(scores, truth, WINDOW),
        seconds,
    )
    for name, (errors, seconds) in baselines(runs["conv1d"], data).items():
        scores = step_scores(data, errors, first)
        results[name] = (ucr_hit(scores, truth), vus_pr(scores, truth, WINDOW), seconds)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/series-panel"))
    parser.add_argument("--epochs", type=int, default=None, help="default: aekit's")
    parser.add_argument("--only", type=int, default=None, help="the first N series")
    args = parser.parse_args()
    torch.set_num_threads(1)
    total = time.perf_counter()
    items = panel(args.out)[: args.only]
    table = [
        "| series (steps) | " + " | ".join(COLUMNS) + " |",
        "| --- |" + " ---: |" * len(COLUMNS),
    ]
    rows = {c: [] for c in COLUMNS}
    for name, train_csv, test_csv, first in items:
        slug = name.split()[0]
        result = one_series(train_csv, test_csv, first, args.out / slug, args.epochs)
        cells = []
        for c in COLUMNS:
            hit, vus, seconds = result[c]
            rows[c].append(result[c])
            cells.append(f"{'hit' if hit else 'miss'} {vus:.3f}")
        table.append(f"| {name} | " + " | ".join(cells) + " |")
        print(table[-1], flush=True)
    summary = []
    for label, index, fmt in (("hit rate", 0, "{:.0%}"), ("mean VUS-PR", 1, "{:.3f}"),
                              ("mean wall s", 2, "{:.1f}")):  # fmt: skip
        cells = [fmt.format(np.mean([r[index] for r in rows[c]])) for c in COLUMNS]
        summary.append(f"| **{label}** | " + " | ".join(cells) + " |")
    print("\n".join(table + summary))
    print(
        f"\n{len(items)} series; window {WINDOW}; epochs {args.epochs or 'default'}; "
        f"{time.perf_counter() - total:.0f} s in all; {platform.processor() or ''} "
        f"torch {torch.__version__}, {torch.get_num_threads()} thread"
    )


if __name__ == "__main__":
    main()
