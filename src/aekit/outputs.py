"""What a finished training leaves in its run directory: metrics and pictures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data import Dataset
from .errors import AekitError
from .io import read_json, save_figure, write_json
from .metrics import mae, mse, pca_reconstruction_mse, psnr
from .noise import Noise
from .plots import plot_image_grid, plot_image_rows, plot_vector_rows
from .run import Run

CODE_STATS = "code_stats.json"
N_SHOWN = 10  # examples in reconstructions.png


def write_outputs(
    run: Run,
    train: Dataset,
    val: Dataset,
    history: Any,
    *,
    pictures: bool = True,
    report: bool = True,
) -> dict[str, Path]:
    """metrics.json and code statistics always; the pictures as PNG files unless
    `pictures` is False; report.html (embedding the pictures, drawn for it alone when
    `pictures` is False) unless `report` is False."""
    from .api import batched

    written = {}
    x_hat = batched(run.model, val.x)
    codes = batched(run.model.encode, train.x)
    written["metrics"] = write_json(
        run.path / "metrics.json", run_metrics(run, train, val, x_hat, history)
    )
    written["code_stats"] = write_code_stats(run, codes)
    if pictures:
        written["reconstructions"] = save_figure(
            reconstruction_figure(run, val), run.path / "reconstructions.png"
        )
        if run.is_variational and val.is_image:
            from .api import sample_model_units

            fig = plot_image_grid(
                sample_model_units(run, 64, seed=run.train_config.seed),
                title=f"{run.model_name}: 64 draws from the prior, decoded",
            )
            written["samples"] = save_figure(fig, run.path / "samples.png")
    if pictures or report:  # the lecture pictures and the report (aekit.plots)
        from .plots.pictures import write_run_pictures

        written |= write_run_pictures(
            run, train, val, pictures=pictures, report=report, written=written
        )
    return written


def run_metrics(
    run: Run, train: Dataset, val: Dataset, x_hat: torch.Tensor, history: Any
) -> dict[str, Any]:
    best = next(r for r in history.rows if r["epoch"] == history.best_epoch)
    metrics: dict[str, Any] = {
        "best_epoch": history.best_epoch,
        "epochs_run": len(history.rows),
        "stop_reason": history.stop_reason,
        "train_seconds": round(sum(r["seconds"] for r in history.rows), 3),
        **{k: v for k, v in best.items() if k.startswith("val_")},
        "val_mse": mse(val.x, x_hat),
        "val_mae": mae(val.x, x_hat),
    }
    if run.scaling.domain == "unit":
        metrics["val_psnr"] = psnr(val.x, x_hat)
    pca = pca_reconstruction_mse(train.x.numpy(), val.x.numpy(), run.model.latent_dim)
    metrics[f"pca{run.model.latent_dim}_val_mse"] = pca
    metrics["mse_ratio_to_pca"] = metrics["val_mse"] / pca if pca > 0 else None
    return metrics


def write_code_stats(run: Run, codes: torch.Tensor) -> Path:
    """Mean and covariance of the training codes: how a plain AE is sampled from."""
    z = codes.double()
    mean = z.mean(0)
    cov = (
        torch.cov(z.T).reshape(len(mean), len(mean))
        if len(z) > 1
        else torch.eye(len(mean))
    )
    cov = cov + 1e-6 * torch.eye(len(mean), dtype=cov.dtype)
    return write_json(
        run.path / CODE_STATS, {"mean": mean.tolist(), "cov": cov.tolist(), "n": len(z)}
    )


def read_code_stats(run: Run) -> tuple[torch.Tensor, torch.Tensor]:
    path = run.path / CODE_STATS
    if not path.is_file():
        raise AekitError(f"{run.path} has no {CODE_STATS}; retrain to sample from it")
    stats = read_json(path)
    try:
        mean = torch.tensor(stats["mean"], dtype=torch.float32)
        cov = torch.tensor(stats["cov"], dtype=torch.float32)
    except (KeyError, TypeError, ValueError) as e:
        raise AekitError(f"{path} is malformed: {e}") from e
    return mean, cov


def shown_examples(data: Dataset, n: int = N_SHOWN) -> torch.Tensor:
    """Indices of up to n examples: one per class first when there are labels."""
    if data.y is None:
        return torch.arange(min(n, len(data)))
    picked: list[int] = []
    for label in torch.unique(data.y).tolist():
        picked.append(int((data.y == label).nonzero()[0, 0]))
    rest = [i for i in range(len(data)) if i not in set(picked)]
    return torch.tensor((picked + rest)[:n])


def reconstruction_figure(run: Run, data: Dataset):
    from .api import batched

    x = data.x[shown_examples(data)]
    noise = run.train_config.noise
    if noise:
        bounds = (0.0, 1.0) if run.scaling.domain == "unit" else None
        noisy = Noise.parse(noise)(
            x, bounds=bounds, generator=torch.Generator().manual_seed(0)
        )
        rows, labels = (
            [x, noisy, batched(run.model, noisy)],
            ["clean", "noisy", "denoised"],
        )
        title = f"{run.model_name} denoising ({noise}) on held-out examples"
    else:
        rows, labels = [x, batched(run.model, x)], ["original", "reconstruction"]
        title = (
            f"{run.model_name} (code size {run.model.latent_dim}) on held-out examples"
        )
    if data.is_image:
        return plot_image_rows(rows, labels, title=title)
    return plot_vector_rows([np.asarray(r) for r in rows], labels, title=title)
