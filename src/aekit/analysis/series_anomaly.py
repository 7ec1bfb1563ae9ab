"""Anomaly detection over time: a window-trained run scores every step of a series.

Malhotra et al. 2016 (https://arxiv.org/abs/1607.00148) and Keras's conv1d example
score a series by how badly an autoencoder trained on normal windows rebuilds it.
Here each window's score is its mean squared reconstruction error (model units) and
a step's score is the mean over the windows that cover it (data.series
`SeriesInfo.step_scores`); the threshold is set on the run's training windows as
in aekit.analysis.anomaly. With per-step labels, the ranking is scored per step (AUROC,
AUPRC) and by the UCR anomaly archive's rule (Wu & Keogh 2021,
https://arxiv.org/abs/2009.13807): the top-scored step must lie within 100 steps
of the labelled anomaly.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .. import inference
from ..data import Dataset
from ..errors import AekitError
from ..run import Run, as_run, load_inputs
from .anomaly import threshold, training_threshold
from .encdec_score import fit_error_model, step_errors
from .metrics import auprc, auroc
from .series_code_score import code_scores, fit_code_score
from .series_scores import UCR_SLACK, series_scores, ucr_hit  # noqa: F401

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SCORES = {  # name -> what a step's score is
    "mse": "mean squared reconstruction error of the windows covering a step",
    "encdec": "EncDec-AD: squared Mahalanobis distance of the step's error vector "
    "under a Gaussian fitted on normal windows, mean over the windows covering it",
    "spe-t2": "reconstruction error plus the code's Hotelling T^2 distance to the "
    "training windows' codes, each over its training median, mean over the windows "
    "covering a step",
}
# spe-t2 measured at least PCA's and the discord's VUS-PR for conv1d, lstm and
# lstm-vae on the 11-series panel; mse tied PCA (BENCHMARKS.md, issue 24)
DEFAULT_SCORE = "spe-t2"
STEP_COLUMNS = ["series", "step", "time", "label", "score", "anomaly"]
MAX_DRAWN = 4  # series drawn in one picture


def is_window_run(run: Run) -> bool:
    """A run trained on windows cut from series (not piano rolls nor .ts samples)."""
    options = run.data_spec.get("options") or {}
    return run.input_kind == "sequence" and options.get("window") is not None


def window_errors(run: Run, x: torch.Tensor) -> tuple[np.ndarray, torch.Tensor]:
    """(N,) mean squared errors of windows and their (N, C, W) reconstructions."""
    x_hat = inference.reconstruct(run, x)
    errors = (x_hat - x).double().pow(2).flatten(1).mean(1)
    return errors.numpy(), x_hat


def detect_series(
    run: Run | str | Path,
    inputs: Any,
    *,
    method: str = "percentile",
    contamination: float = 0.01,
    sigmas: float = 3.0,
    score: str = DEFAULT_SCORE,
) -> dict[str, Any]:
    """Score every time step of `inputs` (series files) with a window-trained run and
    flag the steps above a threshold set on the run's training windows. `score`:
    "mse", each window's mean squared error; "encdec", EncDec-AD's per-step
    Gaussian error score (aekit.analysis.encdec_score); "spe-t2", the error plus the
    code's distance to normal codes (aekit.analysis.series_code_score), the
    default.

    Returns {"rows" (one per step, for write_step_scores), "scores" and "anomaly"
    (per series), "threshold", "series" and "reconstructions" ((T, C) per series,
    source units), "names", "labels", "method", "n_train", "score", and
    "ranking" (step_ranking's figures, None without step labels)}."""
    if score not in SCORES:
        raise AekitError(f"unknown score {score!r}; choose from {', '.join(SCORES)}")
    run = as_run(run)
    if not is_window_run(run):
        raise AekitError(
            f"{run.path} was not trained on series windows (--window); detect scores "
            "its inputs one by one instead"
        )
    data = load_inputs(run, inputs)
    if data.series is None:
        raise AekitError(f"{data.name}: not a series cut into windows")
    errors, x_hat = window_errors(run, data.x)
    if score == "encdec":
        gaussian, train_scores = fit_error_model(run)
        errors = gaussian.score(step_errors(run, data.x))  # (N, W)
        limit = threshold(
            train_scores, method=method, contamination=contamination, sigmas=sigmas
        )
        n_train = len(train_scores)
    elif score == "spe-t2":
        fitted, train_scores = fit_code_score(run)
        errors = code_scores(run, data.x, fitted)
        limit = threshold(
            train_scores, method=method, contamination=contamination, sigmas=sigmas
        )
        n_train = len(train_scores)
    else:
        limit, n_train = training_threshold(
            run, method=method, contamination=contamination, sigmas=sigmas
        )
    info = data.series
    scores = info.step_scores(errors)
    flags = [s > limit for s in scores]
    rows = info.step_rows(errors)
    for row, flag in zip(rows, np.concatenate(flags), strict=True):
        row["score"] = f"{row['score']:.8g}"
        row["anomaly"] = int(flag)
    return {
        "rows": rows,
        "scores": scores,
        "anomaly": flags,
        "threshold": limit,
        "method": method,
        "n_train": n_train,
        "series": _source_series(run, info.to_series(data.x)),
        "reconstructions": _source_series(run, info.to_series(x_hat)),
        "names": [p.name for p in info.parts],
        "labels": [p.step_labels for p in info.parts],
        "score": score,
        "ranking": step_ranking(data, errors, score=score),
    }


def detect_summary(result: dict[str, Any]) -> dict[str, Any]:
    """detect_series's figures without the per-step arrays (detect --json)."""
    keys = ("score", "threshold", "method", "n_train", "ranking")
    return {k: result[k] for k in keys} | {
        "flagged_steps": int(sum(f.sum() for f in result["anomaly"])),
        "n_steps": len(result["rows"]),
    }


def _source_series(run: Run, series: list[np.ndarray]) -> list[np.ndarray]:
    """(T, C) series in model units -> source units (the run's stored scaling)."""
    return [run.scaling.to_source(s.T[None])[0].T for s in series]


def write_step_scores(path: str | Path, result: dict[str, Any]) -> Path:
    """CSV, one row per time step: series, step, time, label, score, anomaly (0/1)."""
    from ..data.io import write_csv

    return write_csv(path, result["rows"], STEP_COLUMNS)


def scores_figure(result: dict[str, Any], run: Run | None = None) -> Figure:
    """The series, its reconstruction, the step scores and the flagged spans."""
    from .plots.sequences import plot_series_scores

    n = min(len(result["series"]), MAX_DRAWN)
    name = f"{run.path.name} ({run.model_name}): " if run is not None else ""
    flagged = int(sum(f.sum() for f in result["anomaly"]))
    total = int(sum(len(f) for f in result["anomaly"]))
    return plot_series_scores(
        result["series"][:n],
        result["reconstructions"][:n],
        result["scores"][:n],
        result["anomaly"][:n],
        result["threshold"],
        names=[Path(s).name for s in result["names"][:n]],
        labels=result["labels"][:n],
        title=f"{name}{flagged} of {total} steps flagged (threshold "
        f"{result['threshold']:.4g}, {result['method']}); labelled anomalies in black"
        + _scores_line(result.get("ranking")),
    )


def _scores_line(ranking: dict[str, Any] | None) -> str:
    """The ranking's series scores for a picture's title ('' without labels)."""
    if not ranking or ranking.get("vus_pr") is None:
        return ""
    return (
        f"\nUCR top-1 {ranking['ucr_top1_hits']} of {ranking['ucr_series']}, VUS-PR "
        f"{ranking['vus_pr']:.3f}, point-adjusted F1 {ranking['pa_f1']:.3f}"
    )


def step_ranking(
    data: Dataset, errors: np.ndarray, *, score: str = "mse"
) -> dict[str, Any] | None:
    """Per-step AUROC / AUPRC of the step scores against the series' step labels,
    and per series (aekit.analysis.series_scores) the UCR top-1 hit rate, VUS-PR,
    range-AUC-PR and point-adjusted F1; None when the series carry no step labels."""
    info = data.series
    if info is None or any(p.step_labels is None for p in info.parts):
        return None
    scores = info.step_scores(errors)
    truth = [np.asarray(p.step_labels) != 0 for p in info.parts]
    s, t = np.concatenate(scores), np.concatenate(truth).astype(np.int64)
    out: dict[str, Any] = {
        "score": SCORES[score],
        "n_steps": len(s),
        "n_anomalous_steps": int(t.sum()),
    }
    if 0 < t.sum() < len(t):
        out |= {"auroc": auroc(t, s), "auprc": auprc(t, s)}
        out["auprc_chance"] = float(t.mean())
    out |= series_scores(scores, truth, info.window)
    return out
