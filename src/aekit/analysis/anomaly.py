"""Anomaly detection by reconstruction error: scores, thresholds, flags.

An autoencoder trained on normal data reconstructs it well and anything else badly
(e.g. Sakurada & Yairi 2014, https://doi.org/10.1145/2689746.2689747), so the score
of an input is its mean squared reconstruction error. A threshold on the scores of
the training data flags inputs: a percentile (the share `contamination` of training
inputs above it), the largest training error, or the mean plus k standard deviations.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.csvfile import is_number
from ..errors import AekitError
from ..inference import BATCH, batched, data_conditions
from ..run import Run, as_run, load_inputs, run_splits
from .metrics import auprc, auroc

THRESHOLDS = ("percentile", "max", "sigma")


def reconstruction_errors(
    model: Any,
    x: torch.Tensor,
    c: torch.Tensor | None = None,
    *,
    batch_size: int = BATCH,
) -> np.ndarray:
    """Mean squared reconstruction error of each example (N,), in model units; a
    conditional model reconstructs each under its condition c."""

    def errors(xb: torch.Tensor, *cb: torch.Tensor) -> torch.Tensor:
        return (model(xb, *cb) - xb).double().pow(2).flatten(1).mean(1)

    return batched(errors, x, c, batch_size=batch_size).cpu().numpy()


def threshold(
    train_scores: np.ndarray,
    *,
    method: str = "percentile",
    contamination: float = 0.01,
    sigmas: float = 3.0,
) -> float:
    """The score above which an input is flagged, set on normal training scores."""
    s = np.asarray(train_scores, dtype=np.float64).reshape(-1)
    if len(s) == 0 or not np.isfinite(s).all():
        raise AekitError("thresholds need finite scores of at least one training input")
    if method == "percentile":
        if not 0 <= contamination < 1:
            raise AekitError(f"contamination must be in [0, 1), got {contamination}")
        return float(np.quantile(s, 1.0 - contamination))
    if method == "max":
        return float(s.max())
    if method == "sigma":
        if not sigmas >= 0:
            raise AekitError(f"sigmas must be >= 0, got {sigmas}")
        return float(s.mean() + sigmas * s.std())
    raise AekitError(
        f"unknown threshold {method!r}; choose from {', '.join(THRESHOLDS)}"
    )


def training_threshold(
    run: Run, *, method: str, contamination: float, sigmas: float
) -> tuple[float, int]:
    """The threshold `method` sets on the errors of the run's training split, and
    how many training inputs it was set on."""
    train, _ = run_splits(run)
    errors = reconstruction_errors(run.model, train.x, data_conditions(run, train))
    limit = threshold(errors, method=method, contamination=contamination, sigmas=sigmas)
    return limit, len(train)


def detect(
    run: Any,
    inputs: Any,
    *,
    method: str = "percentile",
    contamination: float = 0.01,
    sigmas: float = 3.0,
) -> dict[str, Any]:
    """Score `inputs` with a run and flag those above a threshold set on the run's
    training split: {"scores", "anomaly" (bool array), "threshold", ...}."""
    run = as_run(run)
    limit, n_train = training_threshold(
        run, method=method, contamination=contamination, sigmas=sigmas
    )
    data = load_inputs(run, inputs)
    scores = reconstruction_errors(run.model, data.x, data_conditions(run, data))
    return {
        "scores": scores,
        "anomaly": scores > limit,
        "threshold": limit,
        "method": method,
        "n_train": n_train,
    }


def write_scores(path: str | Path, scores: np.ndarray, flags: np.ndarray) -> Path:
    """CSV with one row per input, in input order: index, score, anomaly (0/1)."""
    from ..data.io import write_csv

    rows = [
        {"index": i, "score": f"{s:.8g}", "anomaly": int(f)}
        for i, (s, f) in enumerate(zip(scores, flags, strict=True))
    ]
    return write_csv(path, rows, ["index", "score", "anomaly"])


def parse_classes(spec: str, classes: tuple[str, ...] | None) -> list[int]:
    """'0-8', '0,3,5-7' or class names ('cat,dog') -> sorted label ids."""
    names = {name: i for i, name in enumerate(classes or ())}
    ids: set[int] = set()
    for part in (p.strip() for p in spec.split(",")):
        if part in names:
            ids.add(names[part])
        elif m := re.fullmatch(r"(\d+)\s*-\s*(\d+)", part):
            lo, hi = int(m[1]), int(m[2])
            if lo > hi:
                raise AekitError(f"class range {part!r} runs backwards")
            ids.update(range(lo, hi + 1))
        elif part.isdigit():
            ids.add(int(part))
        else:
            raise AekitError(
                f"normal classes {spec!r}: {part!r} is neither a label, a range "
                "like 0-8, nor a class name"
            )
    return sorted(ids)


def labels_from_classes(y: np.ndarray | torch.Tensor, normal: list[int]) -> np.ndarray:
    """1 for an anomaly (a class not in `normal`), 0 for a normal example."""
    y = np.asarray(y)
    return (~np.isin(y, normal)).astype(np.int64)


def read_anomaly_labels(path: str | Path, n: int) -> np.ndarray:
    """One 0/1 per input from a CSV: one column, or a column named anomaly/label."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [r for r in csv.reader(f) if r]
    except OSError as e:
        raise AekitError(f"cannot read anomaly labels {path}: {e.strerror}") from e
    if rows and not is_number(rows[0][-1]):
        header = [h.strip().lower() for h in rows.pop(0)]
        column = next(
            (header.index(h) for h in ("anomaly", "label") if h in header), -1
        )
    else:
        column = -1
    try:
        labels = np.array([float(r[column]) for r in rows])
    except (ValueError, IndexError) as e:
        raise AekitError(f"{path}: anomaly labels must be numbers ({e})") from e
    if len(labels) != n:
        raise AekitError(f"{path} holds {len(labels)} anomaly labels for {n} inputs")
    if not np.isin(labels, (0, 1)).all():
        raise AekitError(f"{path}: anomaly labels must be 0 (normal) or 1 (anomaly)")
    return labels.astype(np.int64)


def anomaly_truth(
    test: Any,
    normal_classes: str | list[int] | None,
    labels: str | Path | np.ndarray | None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """1 per anomaly, 0 per normal input, from normal classes or a 0/1 file or array;
    and a description of where they came from."""
    if labels is None:
        if test.y is None:
            raise AekitError("--normal-classes needs labelled evaluation data")
        normal = (
            parse_classes(normal_classes, test.classes)
            if isinstance(normal_classes, str)
            else sorted(int(c) for c in normal_classes)
        )
        truth = labels_from_classes(test.y, normal)
        return truth, {"normal_classes": [test.label_name(c) for c in normal]}
    if isinstance(labels, str | Path):
        return read_anomaly_labels(labels, len(test)), {"labels_from": str(labels)}
    truth = np.asarray(labels).reshape(-1)
    if len(truth) != len(test) or not np.isin(truth, (0, 1)).all():
        raise AekitError(f"anomaly labels must be {len(test)} values of 0 or 1")
    return truth.astype(np.int64), {"labels_from": "array"}


def ranking_report(
    scores: np.ndarray, truth: np.ndarray, source: dict[str, Any]
) -> dict[str, Any]:
    """AUROC and AUPRC of anomaly scores against the truth (1 = anomaly)."""
    s, truth = np.asarray(scores), np.asarray(truth)
    return {
        "score": "mean squared reconstruction error",
        **source,
        "n": len(s),
        "n_anomalies": int(truth.sum()),
        "auroc": auroc(truth, s),
        "auprc": auprc(truth, s),
        "auprc_chance": float(truth.mean()),
    }
