"""Scores of per-step anomaly rankings against labelled anomaly spans, as the series
anomaly literature reports them.

- UCR rule (Wu & Keogh 2021, https://arxiv.org/abs/2009.13807): a hit when the
  top-scored step lies within 100 steps of the labelled span.
- Point-adjusted F1 (Xu et al. 2018, https://arxiv.org/abs/1802.03903): a labelled
  span counts as found in full once any of its steps is flagged; the best F1 over
  thresholds. Generous by construction (Kim et al. 2022 show a random score can do
  well), so it is reported beside, never instead of, the range-based scores.
- Range-AUC-PR and VUS-PR (Paparrizos et al. 2022, "Volume Under the Surface",
  https://www.vldb.org/pvldb/vol15/p2774-paparrizos.pdf): each span's label is
  widened by a buffer of l steps either side whose weight falls as
  sqrt(1 - d / (l + 1)) with the distance d from the span; range precision is the
  widened label mass among the flagged steps over the flagged count, range recall
  is that mass over the mean of the span and widened masses (at most 1) times the
  fraction of spans touched (the existence reward); the area under that
  precision-recall curve is range-AUC-PR, and its mean over buffers 0..max_buffer
  is VUS-PR.
"""

from __future__ import annotations

import numpy as np

UCR_SLACK = 100  # steps either side of the labelled anomaly that count as a hit
N_THRESHOLDS = 250  # score quantiles the PR curves are drawn through
N_BUFFERS = 16  # buffer sizes VUS averages over, 0 to max_buffer


def spans(truth: np.ndarray) -> list[tuple[int, int]]:
    """The labelled spans [start, end) of a boolean (T,) label."""
    t = np.r_[0, np.asarray(truth, dtype=np.int8) != 0, 0]
    edges = np.flatnonzero(np.diff(t))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def ucr_hit(scores: np.ndarray, truth: np.ndarray, slack: int = UCR_SLACK) -> bool:
    """Whether the top-scored step lies within `slack` steps of the labelled span."""
    labelled = np.flatnonzero(truth)
    top = int(np.argmax(scores))
    return bool(labelled[0] - slack <= top <= labelled[-1] + slack)


def _thresholds(scores: np.ndarray) -> np.ndarray:
    """Descending thresholds: score quantiles, the top score first."""
    q = np.quantile(scores, np.linspace(1.0, 0.0, N_THRESHOLDS))
    return np.unique(q)[::-1]


def point_adjusted_f1(scores: np.ndarray, truth: np.ndarray) -> float:
    """The best point-adjusted F1 over thresholds (0 when nothing is labelled)."""
    s, t = np.asarray(scores, np.float64), np.asarray(truth) != 0
    found = spans(t)
    if not found:
        return 0.0
    best = 0.0
    span_max = np.array([s[a:b].max() for a, b in found])
    span_len = np.array([b - a for a, b in found])
    for tau in _thresholds(s):
        flagged = s >= tau
        hit = span_max >= tau
        tp = span_len[hit].sum()  # every step of a touched span
        fp = int((flagged & ~t).sum())
        fn = span_len[~hit].sum()
        if tp:
            best = max(best, 2 * tp / (2 * tp + fp + fn))
    return float(best)


def widened_labels(truth: np.ndarray, buffer: int) -> np.ndarray:
    """(T,) label weights: 1 in a span, sqrt(1 - d / (buffer + 1)) d steps outside."""
    t = (np.asarray(truth) != 0).astype(np.float64)
    if buffer <= 0:
        return t
    out = t.copy()
    n = len(t)
    for a, b in spans(t):
        for d in range(1, buffer + 1):
            w = np.sqrt(1 - d / (buffer + 1))
            for i in (a - d, b - 1 + d):
                if 0 <= i < n:
                    out[i] = max(out[i], w)
    return out


def range_auc_pr(scores: np.ndarray, truth: np.ndarray, buffer: int) -> float:
    """The area under the range precision-recall curve with a `buffer`-step label
    widening (buffer 0: existence-weighted point-wise PR)."""
    s, t = np.asarray(scores, np.float64), np.asarray(truth) != 0
    found = spans(t)
    if not found:
        return 0.0
    soft = widened_labels(t, buffer)
    mass = (t.sum() + soft.sum()) / 2
    span_max = np.array([s[a:b].max() for a, b in found])
    precision, recall = [1.0], [0.0]
    for tau in _thresholds(s):
        flagged = s >= tau
        gained = soft[flagged].sum()
        existence = float(np.mean(span_max >= tau))
        precision.append(gained / max(int(flagged.sum()), 1))
        recall.append(min(gained / mass, 1.0) * existence)
    p, r = np.array(precision), np.array(recall)
    return float(np.sum(np.diff(r) * (p[1:] + p[:-1]) / 2))  # trapezoid


def vus_pr(scores: np.ndarray, truth: np.ndarray, max_buffer: int) -> float:
    """The mean range-AUC-PR over buffers 0..max_buffer (VUS-PR)."""
    buffers = np.unique(np.linspace(0, max(0, max_buffer), N_BUFFERS).astype(int))
    return float(np.mean([range_auc_pr(scores, truth, int(b)) for b in buffers]))


def series_scores(
    scores: list[np.ndarray], truth: list[np.ndarray], window: int
) -> dict[str, float | int | None]:
    """Per-series scores averaged over the series that carry a labelled anomaly:
    UCR top-1 accuracy, VUS-PR (buffers up to one window), range-AUC-PR at a
    buffer of half a window, point-adjusted F1."""
    labelled = [(s, t) for s, t in zip(scores, truth, strict=True) if np.any(t)]
    if not labelled:
        return {"ucr_series": 0, "ucr_top1_hits": 0, "ucr_top1_accuracy": None}
    hits = [ucr_hit(s, t) for s, t in labelled]
    return {
        "ucr_series": len(hits),
        "ucr_top1_hits": int(sum(hits)),
        "ucr_top1_accuracy": float(np.mean(hits)),
        "vus_pr": float(np.mean([vus_pr(s, t, window) for s, t in labelled])),
        "range_auc_pr": float(
            np.mean([range_auc_pr(s, t, window // 2) for s, t in labelled])
        ),
        "pa_f1": float(np.mean([point_adjusted_f1(s, t) for s, t in labelled])),
    }
