"""Metrics as plain functions: data first, options keyword-only, a float (or array) out.

Reconstruction (MSE, MAE, BCE, PSNR, SSIM), clustering against labels (Hungarian-
matched accuracy, NMI, ARI) and ranking anomaly scores (AUROC, AUPRC). SSIM follows
Wang et al. 2004, "Image Quality Assessment: From Error Visibility to Structural
Similarity", https://doi.org/10.1109/TIP.2003.819861, with the settings of
scikit-image's `structural_similarity` (7x7 uniform window, K1 0.01, K2 0.03, sample
covariance, borders cropped). Every function validates its input and raises
AekitError (a ValueError) with a message.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..errors import AekitError

LAYER = "base"  # below every layer: any layer may import it

REDUCTIONS = ("mean", "none")


def _array(a, name: str = "values") -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise AekitError(f"{name} must be numeric: {e}") from e


def _pair(x, x_hat) -> tuple[np.ndarray, np.ndarray]:
    a, b = _array(x, "x"), _array(x_hat, "x_hat")
    if a.shape != b.shape:
        raise AekitError(f"shapes differ: {a.shape} and {b.shape}")
    if a.size == 0:
        raise AekitError("no values to compare")
    return a, b


def _reduce(values: np.ndarray, reduction: str) -> float | np.ndarray:
    """values (N, ...) -> their mean (a float) or one mean per example (N,)."""
    if reduction == "mean":
        return float(np.mean(values))
    if reduction == "none":
        if values.ndim == 0:
            raise AekitError("reduction='none' needs a batch (N, ...) of examples")
        return values.reshape(len(values), -1).mean(axis=1)
    raise AekitError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def mse(x, x_hat, *, reduction: str = "mean") -> float | np.ndarray:
    """Mean squared error over every value; reduction='none' gives one per example."""
    a, b = _pair(x, x_hat)
    return _reduce((a - b) ** 2, reduction)


def mae(x, x_hat, *, reduction: str = "mean") -> float | np.ndarray:
    """Mean absolute error over every value; reduction='none' gives one per example."""
    a, b = _pair(x, x_hat)
    return _reduce(np.abs(a - b), reduction)


def bce(x, x_hat, *, eps: float = 1e-7, reduction: str = "mean") -> float | np.ndarray:
    """Binary cross-entropy in nats per value of targets x in [0, 1] and
    probabilities x_hat, clipped to [eps, 1 - eps] so a confident miss stays finite."""
    a, b = _pair(x, x_hat)
    if a.min() < 0 or a.max() > 1 or b.min() < 0 or b.max() > 1:
        raise AekitError("BCE needs targets and predictions in [0, 1]")
    b = np.clip(b, eps, 1.0 - eps)
    return _reduce(-(a * np.log(b) + (1.0 - a) * np.log1p(-b)), reduction)


def psnr(x, x_hat, *, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: 10 log10(range^2 / MSE), over all values."""
    return psnr_from_mse(mse(x, x_hat), data_range=data_range)


def psnr_from_mse(error: float, *, data_range: float = 1.0) -> float:
    """10 log10(range^2 / MSE); inf for a perfect reconstruction."""
    if not error >= 0:
        raise AekitError(f"an MSE must be >= 0, got {error}")
    if not data_range > 0:
        raise AekitError(f"data_range must be positive, got {data_range}")
    return math.inf if error == 0 else 10.0 * math.log10(data_range**2 / error)


def ssim(
    x,
    x_hat,
    *,
    data_range: float = 1.0,
    win_size: int = 7,
    k1: float = 0.01,
    k2: float = 0.03,
    reduction: str = "mean",
) -> float | np.ndarray:
    """Mean structural similarity of images (N, C, H, W), (N, H, W) or one (H, W).

    Each channel of each image is scored on its own and the channels averaged, as
    scikit-image does with `channel_axis`; reduction='none' gives one per image.
    """
    a, b = _pair(x, x_hat)
    single = a.ndim == 2
    if single:
        a, b = a[None, None], b[None, None]
    elif a.ndim == 3:
        a, b = a[:, None], b[:, None]
    if a.ndim != 4:
        raise AekitError(f"SSIM needs images (N, C, H, W), got shape {a.shape}")
    if win_size < 3 or win_size % 2 == 0:
        raise AekitError(f"win_size must be odd and at least 3, got {win_size}")
    if min(a.shape[2:]) < win_size:
        raise AekitError(
            f"images of {a.shape[2]}x{a.shape[3]} are smaller than the "
            f"{win_size}x{win_size} SSIM window"
        )
    if not data_range > 0:
        raise AekitError(f"data_range must be positive, got {data_range}")
    per_image = _ssim_map(a, b, data_range, win_size, k1, k2).mean(axis=(1, 2, 3))
    if reduction == "none" and not single:
        return per_image
    return _reduce(per_image, "mean" if single else reduction)


def _ssim_map(
    a: np.ndarray, b: np.ndarray, data_range: float, win: int, k1: float, k2: float
) -> np.ndarray:
    """SSIM at every window position that lies wholly inside the image."""
    t = torch.from_numpy(np.stack([a, b, a * a, b * b, a * b]))  # (5, N, C, H, W)
    n, c, h, w = a.shape
    means = torch.nn.functional.avg_pool2d(
        t.reshape(5 * n * c, 1, h, w), win, stride=1
    ).reshape(5, n, c, h - win + 1, w - win + 1)
    ux, uy, uxx, uyy, uxy = means.numpy()
    cov_norm = win * win / (win * win - 1.0)  # sample covariance over the window
    vx, vy = cov_norm * (uxx - ux * ux), cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    return ((2 * ux * uy + c1) * (2 * vxy + c2)) / (
        (ux**2 + uy**2 + c1) * (vx + vy + c2)
    )


def pca_reconstruction_mse(
    train: np.ndarray | torch.Tensor,
    test: np.ndarray | torch.Tensor,
    n_components: int,
    *,
    seed: int = 0,
) -> float:
    """MSE of PCA with `n_components`, fitted on `train`, reconstructing `test`."""
    from sklearn.decomposition import PCA

    a = np.asarray(train, dtype=np.float32).reshape(len(train), -1)
    b = np.asarray(test, dtype=np.float32).reshape(len(test), -1)
    k = min(n_components, a.shape[0], a.shape[1])
    pca = PCA(n_components=k, random_state=seed).fit(a)
    return mse(b, pca.inverse_transform(pca.transform(b)))


# -- clustering against labels --------------------------------------------------------
def _labels(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if len(a) != len(b):
        raise AekitError(f"{len(a)} labels but {len(b)} predictions")
    if len(a) == 0:
        raise AekitError("no labels to compare")
    return a, b


def clustering_accuracy(y_true, y_pred) -> float:
    """Accuracy after matching clusters to classes one-to-one (Hungarian algorithm).

    The matching maximises the number of agreeing examples (Kuhn 1955; as in Xie et
    al. 2016, https://arxiv.org/abs/1511.06335); extra clusters match no class.
    """
    from scipy.optimize import linear_sum_assignment

    a, b = _labels(y_true, y_pred)
    classes, ia = np.unique(a, return_inverse=True)
    clusters, ib = np.unique(b, return_inverse=True)
    counts = np.zeros((len(clusters), len(classes)), dtype=np.int64)
    np.add.at(counts, (ib, ia), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / len(a))


def nmi(y_true, y_pred) -> float:
    """Normalised mutual information (arithmetic mean normalisation, scikit-learn)."""
    from sklearn.metrics import normalized_mutual_info_score

    return float(normalized_mutual_info_score(*_labels(y_true, y_pred)))


def ari(y_true, y_pred) -> float:
    """Adjusted Rand index (Hubert & Arabie 1985): 0 by chance, 1 when identical."""
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(*_labels(y_true, y_pred)))


# -- ranking anomaly scores ------------------------------------------------------------
def _binary(labels, scores) -> tuple[np.ndarray, np.ndarray]:
    y, s = _labels(labels, scores)
    if not np.isin(y, (0, 1, True, False)).all():
        raise AekitError("anomaly labels must be 0 (normal) or 1 (anomaly)")
    y = y.astype(bool)
    s = _array(s, "scores")
    if not np.isfinite(s).all():
        raise AekitError("anomaly scores hold NaN or inf")
    if y.all() or not y.any():
        raise AekitError("AUROC and AUPRC need both normal and anomalous examples")
    return y, s


def auroc(labels, scores) -> float:
    """Area under the ROC curve: the chance that a random anomaly (label 1) scores
    above a random normal example, ties counting one half (Mann-Whitney U)."""
    from scipy.stats import rankdata

    y, s = _binary(labels, scores)
    ranks = rankdata(s)  # average ranks for ties
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def auprc(labels, scores) -> float:
    """Area under the precision-recall curve as average precision: the sum over
    score thresholds of precision times the recall gained there."""
    y, s = _binary(labels, scores)
    order = np.argsort(-s, kind="mergesort")
    y, s = y[order], s[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # end of each tied score
    tp = np.cumsum(y)[last]
    precision = tp / (last + 1)
    recall_gain = np.diff(np.r_[0, tp]) / y.sum()
    return float(np.sum(precision * recall_gain))
