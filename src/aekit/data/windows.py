"""Windows of a series and the way back: per-window results -> per-time-step values.

Windows start every `stride` steps, plus one aligned to the series' end, so every
step lies in at least one window; a step's value is the mean over its windows.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import AekitError


def default_stride(window: int) -> int:
    """A quarter window: each step lies in about four windows, so step scores average
    four errors and training sees each step at four offsets, at a quarter of the
    memory of stride 1 (whose windows repeat every value `window` times)."""
    return max(1, window // 4)


def check_window(window: object, stride: object) -> tuple[int, int]:
    """Valid (window, stride); stride None takes default_stride."""
    for what, v in (("window", window), ("stride", stride)):
        if v is not None and (
            isinstance(v, bool) or not isinstance(v, (int, np.integer))
        ):
            raise AekitError(f"{what} must be a whole number of time steps, not {v!r}")
    if window is None:
        raise AekitError("a stride needs a window length too")
    if window < 2:
        raise AekitError(f"window must be at least 2 time steps, got {window}")
    stride = default_stride(int(window)) if stride is None else stride
    if stride < 1:
        raise AekitError(f"stride must be at least 1 time step, got {stride}")
    if stride > window:
        raise AekitError(
            f"stride ({stride}) is longer than the window ({window}): the steps "
            "between windows would never be seen"
        )
    return int(window), int(stride)


def window_starts(n_steps: int, window: int, stride: int) -> np.ndarray:
    """First step of each window: every `stride` steps, plus one ending at the end."""
    window, stride = check_window(window, stride)
    if window > n_steps:
        raise AekitError(
            f"window ({window} steps) is longer than the series ({n_steps} steps)"
        )
    starts = np.arange(0, n_steps - window + 1, stride)
    if starts[-1] != n_steps - window:
        starts = np.append(starts, n_steps - window)
    return starts


def cut_windows(values: np.ndarray, window: int, stride: int) -> np.ndarray:
    """(T, C) series -> (N, C, W) windows, channels first."""
    starts = window_starts(len(values), window, stride)
    view = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)
    return np.ascontiguousarray(view[starts])  # (N, C, W)


def window_scores_to_steps(
    errors: np.ndarray | torch.Tensor, n_steps: int, window: int, stride: int
) -> np.ndarray:
    """Per-window errors (N,) or per-window-step errors (N, W) -> (T,) step scores.

    A step's score is the mean of the errors of the windows that cover it.
    """
    e = _numpy(errors).astype(np.float64)
    if e.ndim == 1:
        e = np.repeat(e[:, None], window, axis=1)
    starts = window_starts(n_steps, window, stride)
    if e.shape != (len(starts), window):
        raise AekitError(
            f"errors of shape {e.shape} do not fit a series of {n_steps} steps cut "
            f"into {len(starts)} windows of {window} (stride {stride})"
        )
    return _overlap_mean(e[:, None, :], starts, n_steps)[:, 0]


def windows_to_series(
    windows: np.ndarray | torch.Tensor, n_steps: int, stride: int
) -> np.ndarray:
    """(N, C, W) windows cut with `stride` -> the (T, C) series, overlaps averaged."""
    w = _numpy(windows)
    if w.ndim != 3:
        raise AekitError(f"windows must be (N, C, W), got shape {w.shape}")
    starts = window_starts(n_steps, w.shape[2], stride)
    if len(w) != len(starts):
        raise AekitError(
            f"{len(w)} windows, but a series of {n_steps} steps has {len(starts)} "
            f"windows of {w.shape[2]} (stride {stride})"
        )
    return _overlap_mean(w.astype(np.float64), starts, n_steps).astype(w.dtype)


def _overlap_mean(w: np.ndarray, starts: np.ndarray, n_steps: int) -> np.ndarray:
    """(N, C, W) values at steps starts[i] + k -> (T, C) means of the covering ones."""
    steps = (starts[:, None] + np.arange(w.shape[2])).ravel()  # (N * W,)
    values = w.transpose(1, 0, 2).reshape(w.shape[1], -1)  # (C, N * W)
    # bincount with weights sums far faster than np.add.at
    total = np.stack(
        [np.bincount(steps, weights=v, minlength=n_steps) for v in values], axis=1
    )
    return total / np.bincount(steps, minlength=n_steps)[:, None]


def _numpy(a: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        return a.detach().float().cpu().numpy()
    return np.asarray(a)
