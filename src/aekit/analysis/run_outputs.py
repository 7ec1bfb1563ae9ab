"""What a finished training leaves in its run directory: metrics and pictures."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from .. import inference
from ..data import Dataset
from ..data.io import write_bytes, write_json
from ..inference.distributions import walks_prior
from ..run import Run, write_code_stats
from .diagnostics import dead_code_units
from .metrics import mae, mse, pca_reconstruction_mse, psnr
from .plots.compose import figure_png
from .plots.pictures import AFTER_TRAINING, PICTURES, PictureOptions, applicable
from .report import write_html
from .sae_metrics import is_sae, sparsity_metrics

log = logging.getLogger(__name__)


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
    `pictures` is False) unless `report` is False. A picture that fails is logged
    and skipped: it never costs the trained run, its metrics or its report."""
    x_hat = inference.reconstruct(run, val.x, inference.data_conditions(run, val))
    codes = inference.encode(run, train.x, inference.data_conditions(run, train))
    written = {
        "metrics": write_json(
            run.path / "metrics.json", run_metrics(run, train, val, x_hat, history)
        ),
        "code_stats": write_code_stats(run.path, codes),
    }
    dead = dead_code_units(codes) if run.capabilities.codes == "continuous" else 0
    if dead > codes.shape[1] // 2:
        log.warning(
            "%d of %d code units are dead (almost constant over the training data); %s",
            dead,
            codes.shape[1],
            dead_units_hint(run.record["model"].get("config") or {}),
        )
    if pictures or report:  # the lecture pictures and the report (aekit.analysis.plots)
        written |= write_run_pictures(run, train, val, pictures=pictures, report=report)
    return written


def dead_units_hint(config: dict[str, Any]) -> str:
    """What to change about dead code units, among the options the model has."""
    if config.get("sparsity"):
        return "a lower --sparsity (or none) lets them carry information"
    if config.get("sparsity_target") is not None:
        return "a higher --sparsity-target lets them carry information"
    if config.get("beta") is not None:  # a VAE: the KL term closed them
        return (
            "a lower --beta lets them carry information, or a smaller --latent-dim "
            "loses nothing"
        )
    return "a smaller --latent-dim would lose nothing"


def run_metrics(
    run: Run, train: Dataset, val: Dataset, x_hat: torch.Tensor, history: Any
) -> dict[str, Any]:
    # best epoch 0: no epoch validated better than the start (a PCA start)
    best = next((r for r in history.rows if r["epoch"] == history.best_epoch), {})
    metrics: dict[str, Any] = {
        "best_epoch": history.best_epoch,
        "epochs_run": len(history.rows),
        "stop_reason": history.stop_reason,
        "train_seconds": round(sum(r["seconds"] for r in history.rows), 3),
        **{k: v for k, v in best.items() if k.startswith("val_")},
        "val_mse": mse(val.x, x_hat),
        "val_mae": mae(val.x, x_hat),
    }
    if getattr(history, "selection", None):  # the start rule's decision (PCA start)
        metrics["selection"] = history.selection
    if run.scaling.domain == "unit":
        metrics["val_psnr"] = psnr(val.x, x_hat)
    if is_sae(run.model):
        codes = inference.encode(run, val.x)
        metrics["sae"] = sparsity_metrics(codes, val.x, x_hat)
    # PCA with as many components as the input is wide is exact: no comparison
    if run.model.latent_dim < val.x[0].numel():
        metrics |= _pca_comparison(run, train, val, metrics["val_mse"])
    if run.capabilities.codes == "discrete":  # a VQ-VAE's code indices
        codes = inference.encode(run, val.x, inference.data_conditions(run, val))
        metrics["codebook"] = codebook_usage(codes, run.model.config.codebook_size)
    return metrics


def _pca_comparison(
    run: Run, train: Dataset, val: Dataset, val_mse: float
) -> dict[str, Any]:
    """PCA's validation MSE with the model's code size, the ratio, a warning."""
    pca = pca_reconstruction_mse(train.x.numpy(), val.x.numpy(), run.model.latent_dim)
    out: dict[str, Any] = {f"pca{run.model.latent_dim}_val_mse": pca}
    out["mse_ratio_to_pca"] = val_mse / pca if pca > 0 else None
    warning = pca_warning(
        out["mse_ratio_to_pca"],
        run.model.latent_dim,
        len(train),
        pca_start=getattr(run.model.config, "start", None) == "random",
    )
    if warning:
        log.warning("%s", warning)
        out["warnings"] = [warning]
    return out


PCA_ROUNDING = 1e-3  # a kept PCA start rebuilds PCA's own MSE to float rounding


def pca_warning(
    ratio: float | None, latent_dim: int, n_train: int, *, pca_start: bool = False
) -> str | None:
    """One plain line when a model rebuilds validation data worse than PCA with the
    same code size: the likely cause and what to try; None when it does not."""
    if ratio is None or ratio <= 1.0 + PCA_ROUNDING:
        return None
    cause = (
        f"{n_train} training samples are few for its weights"
        if n_train < 2_000
        else "it may have stopped before it learned enough"
    )
    tries = "--start pca (begins at the PCA solution), " if pca_start else ""
    return (
        f"worse than PCA: validation MSE is {ratio:.2f}x that of PCA with the same "
        f"code size ({latent_dim}); likely {cause}. Try {tries}more --epochs, or a "
        "smaller model"
    )


def codebook_usage(codes: torch.Tensor, size: int) -> dict[str, Any]:
    """How a codebook of `size` codes is used by code indices `codes` (any shape):
    codes used, dead codes (never used) and the perplexity of the usage."""
    from ..models.vqvae.model import perplexity

    index = codes.round().long().reshape(-1)
    used = int(torch.unique(index).numel())
    return {
        "size": size,
        "used": used,
        "dead": size - used,
        "perplexity": float(perplexity(index, size)),
    }


# -- at the end of training -----------------------------------------------------------
def write_run_pictures(
    run: Run,
    train: Dataset,
    val: Dataset,
    *,
    pictures: bool = True,
    report: bool = True,
    written: dict[str, Path] | None = None,
) -> dict[str, Path]:
    """The lecture pictures that suit the run as RUN/KIND.png (unless `pictures` is
    False) and report.html embedding them (unless `report` is False). Pictures in
    `written` are already on disk and are only embedded."""
    if not run.capabilities.has_code:  # image-to-image tasks draw their own
        return {}
    written = written or {}
    o = PictureOptions(seed=run.train_config.seed, pairs=3, fit=train)
    pngs = {k: Path(p).read_bytes() for k, p in written.items() if k in PICTURES}
    kinds_ = [k for k in ("reconstructions", *AFTER_TRAINING) if k not in pngs]
    out: dict[str, Path] = {}
    for kind in kinds_:
        if not _after_training(run, kind):
            continue
        try:
            pngs[kind] = figure_png(PICTURES[kind].draw(run, val, o))
        except Exception as e:  # a picture that cannot be drawn costs no training
            log.warning("no %s picture: %s", kind, _one_line(e))
            continue
        if pictures:
            out[kind] = write_bytes(run.path / f"{kind}.png", pngs[kind])
    if report:
        sections = _sae_sections(run, val) if is_sae(run.model) else []
        out["report"] = write_html(
            run, pngs, run.path / "report.html", sections=sections
        )
    return out


def _sae_sections(run: Run, val: Dataset) -> list[str]:
    """A sparse autoencoder's features section; one that fails costs no training."""
    from .sae_report import sae_section

    try:
        return [sae_section(run, val)]
    except Exception as e:
        log.warning("no sparse features section: %s", _one_line(e))
        return []


def _after_training(run: Run, kind: str) -> bool:
    images = len(run.sample_shape) == 3
    if not applicable(run, kind):
        return False
    if kind == "manifold":
        return applicable(run, kind) and (run.model.latent_dim == 2 or walks_prior(run))
    if kind == "samples" and run.input_kind == "sequence":  # series and music VAEs
        return walks_prior(run)
    if kind in ("interpolate", "traverse", "samples"):
        return images
    return True


def _one_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__
