"""Validating readers of a run's records: code_stats.json, metrics.json, history.csv.

A run directory is read back long after it was written, perhaps edited by hand or
damaged: each reader here checks what it returns (shape, type, finiteness) and
refuses anything else with one AekitError naming the file, so the commands that
use the records never fail inside NumPy or torch.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.io import read_json
from ..errors import AekitError

MAX_HISTORY_BYTES = 64 * 2**20  # far more than any run's epochs; a guard on garbage
_SYMMETRY_TOLERANCE = 1e-6  # relative: JSON round-trips floats exactly, edits do not


# -- code_stats.json ----------------------------------------------------------------
def read_code_stats(
    path: str | os.PathLike, latent_dim: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean (D,), covariance (D, D)) as float64, checked and made usable.

    The covariance must be square, of the run's latent size, finite and symmetric;
    it is returned projected onto the positive semi-definite matrices (negative
    eigenvalues, from rounding or edits, clipped to 0), so sample_gaussian draws
    from it even where a Cholesky factorisation would fail.
    """
    path = Path(path)
    stats = read_json(path)
    if not isinstance(stats, dict) or "mean" not in stats or "cov" not in stats:
        raise AekitError(f"{path}: expected an object with 'mean' and 'cov'")
    mean = _float_array(stats["mean"], path, "mean")
    cov = _float_array(stats["cov"], path, "cov")
    d = latent_dim
    if mean.shape != (d,):
        raise AekitError(
            f"{path}: 'mean' has shape {mean.shape}; the model's codes have {d} values"
        )
    if cov.shape != (d, d):
        raise AekitError(f"{path}: 'cov' has shape {cov.shape}; expected ({d}, {d})")
    scale = max(float(np.abs(cov).max()), np.finfo(np.float64).tiny)
    if not np.allclose(cov, cov.T, rtol=0, atol=_SYMMETRY_TOLERANCE * scale):
        raise AekitError(f"{path}: 'cov' is not symmetric, so not a covariance")
    return torch.from_numpy(mean), torch.from_numpy(nearest_psd(cov))


def _float_array(value: Any, path: Path, key: str) -> np.ndarray:
    try:
        if not _only_numbers(value):  # NumPy would read None as NaN, True as 1
            raise TypeError
        a = np.array(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as e:  # ragged, text, None
        raise AekitError(f"{path}: '{key}' is not an array of numbers") from e
    if a.size and not np.isfinite(a).all():
        raise AekitError(f"{path}: '{key}' holds NaN or inf")
    return a


def _only_numbers(value: Any) -> bool:
    """True when every leaf of nested lists is an int or float (not a bool)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            return False
    return True


def nearest_psd(cov: np.ndarray) -> np.ndarray:
    """The symmetric part of `cov` with its negative eigenvalues set to 0."""
    sym = (cov + cov.T) / 2
    eigenvalues, vectors = np.linalg.eigh(sym)
    if eigenvalues.min() >= 0:
        return sym
    clipped = (vectors * np.clip(eigenvalues, 0, None)) @ vectors.T
    return (clipped + clipped.T) / 2


def sample_gaussian(
    mean: torch.Tensor,
    cov: torch.Tensor,
    n: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """n draws from N(mean, cov), float32 (n, D), for any PSD covariance.

    Factorised by eigendecomposition, not Cholesky: that works for singular
    covariances (a code that never varies) and for eigenvalues spanning many orders
    of magnitude, where Cholesky in float32, or even float64, fails. Eigenvalues
    a rounding error below zero count as zero.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise AekitError(f"the number of samples must be a whole number >= 0, not {n}")
    mean64 = torch.as_tensor(mean, dtype=torch.float64).reshape(-1)
    cov64 = torch.as_tensor(cov, dtype=torch.float64)
    d = len(mean64)
    if cov64.shape != (d, d):
        raise AekitError(
            f"covariance has shape {tuple(cov64.shape)}; expected ({d}, {d})"
        )
    if not (torch.isfinite(mean64).all() and torch.isfinite(cov64).all()):
        raise AekitError("mean or covariance holds NaN or inf")
    eigenvalues, vectors = torch.linalg.eigh((cov64 + cov64.T) / 2)
    root = vectors * eigenvalues.clamp(min=0).sqrt()  # root @ root.T == cov
    eps = torch.randn(n, d, generator=generator, dtype=torch.float64)
    return (mean64 + eps @ root.T).float()


# -- metrics.json ---------------------------------------------------------------------
def read_metrics(path: str | os.PathLike) -> dict[str, Any]:
    """metrics.json as a dict with text keys; {} when the file does not exist."""
    path = Path(path)
    if not path.is_file():
        return {}
    metrics = read_json(path)
    if not isinstance(metrics, dict):
        raise AekitError(
            f"{path}: expected a JSON object of named figures, not a "
            f"{_json_kind(metrics)}"
        )
    return metrics


def _json_kind(value: Any) -> str:
    kinds = {list: "list", str: "string", bool: "boolean", type(None): "null"}
    return kinds.get(type(value), "number")


# -- history.csv ----------------------------------------------------------------------
def read_history(path: str | os.PathLike) -> list[dict[str, float]]:
    """One dict per epoch, column name -> number (an empty cell, a column added in
    a later epoch, is NaN). Refuses anything that is not such a table: no header,
    no "epoch" column, ragged rows, text in a cell, epochs not counting up from 1."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_HISTORY_BYTES:
            raise AekitError(
                f"{path}: {path.stat().st_size:,} bytes is not a training history"
            )
        with open(path, encoding="utf-8", newline="") as f:
            table = list(csv.reader(f))
    except FileNotFoundError as e:
        raise AekitError(
            f"{path}: no such file; the run has not finished an epoch"
        ) from e
    except UnicodeDecodeError as e:
        raise AekitError(f"{path}: not a training history (not UTF-8 text)") from e
    except csv.Error as e:
        raise AekitError(f"{path}: not a training history ({e})") from e
    except OSError as e:
        raise AekitError(f"cannot read {path}: {e.strerror or e}") from e
    table = [row for row in table if row]
    if not table:
        raise AekitError(f"{path}: empty; the run has not finished an epoch")
    header = [name.strip() for name in table[0]]
    if "epoch" not in header or len(set(header)) != len(header) or "" in header:
        raise AekitError(
            f"{path}: not a training history (the first line must name the columns, "
            "one of them 'epoch', each once)"
        )
    rows = [_history_row(path, header, cells, i) for i, cells in enumerate(table[1:])]
    if not rows:
        raise AekitError(f"{path}: holds no epochs (only a header line)")
    epochs = [row["epoch"] for row in rows]
    if epochs != list(range(1, len(rows) + 1)):
        raise AekitError(f"{path}: the epoch column must count 1, 2, 3, ... in order")
    return rows


def _history_row(
    path: Path, header: list[str], cells: list[str], index: int
) -> dict[str, float]:
    line = index + 2  # counting from 1, after the header
    if len(cells) != len(header):
        raise AekitError(
            f"{path}: line {line} has {len(cells)} fields but the header has "
            f"{len(header)}"
        )
    row: dict[str, float] = {}
    for name, cell in zip(header, cells, strict=True):
        text = cell.strip()
        try:
            value = float(text) if text else math.nan
        except ValueError:
            raise AekitError(
                f"{path}: line {line}, column {name!r}: {text[:40]!r} is not a number"
            ) from None
        row[name] = value
    epoch = row["epoch"]
    if not (math.isfinite(epoch) and epoch == int(epoch)):
        raise AekitError(f"{path}: line {line}: epoch {cells[header.index('epoch')]!r}")
    row["epoch"] = int(epoch)
    return row
