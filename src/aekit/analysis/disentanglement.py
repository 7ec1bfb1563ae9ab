"""How disentangled a run's codes are: the Mutual Information Gap (MIG) of Chen et
al. 2018 against known factors of variation, and where those factors come from (a
CSV with a column per factor, an array, or the data's labels as one factor)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Dataset
from ..errors import AekitError

MIG_BINS = 20  # equal-width bins per code dimension (Chen et al.'s estimator)


def mutual_information_gap(
    codes: Any, factors: Any, *, bins: int = MIG_BINS
) -> dict[str, Any]:
    """MIG of Chen et al. 2018 (https://arxiv.org/abs/1802.04942, section 5): for
    each factor v_k, the gap between the two code dimensions sharing the most
    information with it, over its entropy, I(z_a; v_k) - I(z_b; v_k) / H(v_k),
    averaged over factors. Codes (N, d) are binned into `bins` equal-width bins per
    dimension; factors (N, K) are discrete values (N,) or (N, K). In [0, 1]: 1 when
    each factor lives in one dimension alone."""
    from sklearn.metrics import mutual_info_score

    z = np.asarray(codes, dtype=np.float64)
    v = np.asarray(factors)
    v = v.reshape(len(v), -1) if v.ndim != 2 else v
    if z.ndim != 2 or len(z) != len(v) or len(z) < 2:
        raise ValueError(
            f"codes {z.shape} and factors {v.shape} must be (N, d) and (N, K), N >= 2"
        )
    if z.shape[1] < 2:
        raise ValueError("MIG needs codes of two dimensions or more")
    binned = [_bin(z[:, j], bins) for j in range(z.shape[1])]
    gaps, per_factor = [], []
    for k in range(v.shape[1]):
        values = np.unique(v[:, k], return_inverse=True)[1]
        entropy = mutual_info_score(values, values)
        if entropy <= 0:
            raise ValueError(f"factor {k} takes one value only: it has no entropy")
        mi = np.array([mutual_info_score(values, b) for b in binned])
        top = np.sort(mi)[::-1]
        gaps.append(float((top[0] - top[1]) / entropy))
        per_factor.append(
            {
                "gap": float(gaps[-1]),
                "dimension": int(np.argmax(mi)),
                "entropy": entropy,
            }
        )
    return {"mig": float(np.mean(gaps)), "bins": bins, "per_factor": per_factor}


def _bin(values: np.ndarray, bins: int) -> np.ndarray:
    edges = np.histogram_bin_edges(values, bins=bins)
    return np.digitize(values, edges[1:-1])


def factors_of(factors: Any, test: Dataset) -> tuple[np.ndarray, str] | None:
    """(factor values (N, K), where they came from), or None when there are none."""
    if factors is None:
        if test.y is None:
            return None
        return test.y.numpy()[:, None], "the data's labels"
    if isinstance(factors, str | Path):
        path = Path(factors)
        if not path.is_file():
            raise AekitError(f"no such factors file: {path}")
        try:
            with warnings.catch_warnings():  # an empty file is refused below
                warnings.simplefilter("ignore")
                table = np.genfromtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
        except ValueError as e:
            raise AekitError(f"{path}: not a table of numbers ({e})") from None
        if len(table) and np.isnan(table[0]).all():
            table = table[1:]  # a header row
        values, name = table, str(path)
    else:
        values, name = np.asarray(factors), "array"
        values = values.reshape(len(values), -1) if values.ndim else values[None, None]
    if values.size == 0:
        raise AekitError(f"{name}: no factors (a column per factor, a row per input)")
    if len(values) != len(test) or not np.isfinite(values).all():
        raise AekitError(
            f"{name}: {len(values)} rows of factors for {len(test)} evaluated inputs "
            "(one finite row per input)"
        )
    return values, name
