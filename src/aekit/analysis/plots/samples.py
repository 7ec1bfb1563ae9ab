"""The samples picture: new data from a run's own sampler, a row per class (or per
condition) for a conditional run; a plain autoencoder also shows N(0, I) and a
Gaussian mixture beside its fitted Gaussian, to show why the fit matters."""

from __future__ import annotations

from typing import Any

import torch
from matplotlib.figure import Figure

from ... import inference
from ...data import Dataset
from ...run import Run
from .. import latent
from .grids import plot_image_panels, plot_image_rows, plot_vector_strips
from .kinds import PictureOptions, display, run_label, sequence_rows

CONDITION_ROWS = 6  # a run conditioned on columns: rows, one per distinct condition


def samples(run: Run, data: Dataset, o: PictureOptions) -> Figure:
    """New data from the run's own sampler (one row per class for a conditional
    run); a plain autoencoder also shows N(0, I) and a Gaussian mixture beside its
    fitted Gaussian, to show why the fit matters."""
    caps = run.capabilities
    if caps.conditional:
        per = _per_condition(run, data, o)
        title = (
            f"{run_label(run)}\n{per} samples per row: codes drawn from "
            f"{run.model.prior_name()}, decoded with the row's condition"
        )
        return _samples_by_class(run, data, o, title)
    own = inference.draw_codes(run, o.samples, seed=o.seed)
    if caps.sampler == "prior":
        source = run.model.prior_name()
    elif caps.sampler == "learned":
        source = "the prior learned over the codes after training"
    else:
        source = None
    if source is not None:
        title = (
            f"{run_label(run)}\n{o.samples} samples: codes drawn from {source}, decoded"
        )
        panels = {"": own}
    else:
        title = (
            f"{run_label(run)}\n{o.samples} samples from each distribution named "
            "above it: codes drawn, then decoded"
        )
        g = torch.Generator().manual_seed(o.seed)
        fit = latent.subsample(o.fit or data, 5000, seed=o.seed)
        codes = latent.encode_tensor(run, fit.x)
        mixture = latent.fit_gaussian_mixture(codes, o.components, seed=o.seed)
        panels = {
            "N(0, I), as a VAE would": torch.randn(
                o.samples, run.model.latent_dim, generator=g
            ),
            "a Gaussian fitted to the codes": own,
            f"a {mixture.n_components}-component Gaussian mixture\n"
            "fitted to the codes": latent.sample_mixture(mixture, o.samples),
        }
    decoded = [latent.decode_tensor(run, z) for z in panels.values()]
    if len(run.sample_shape) == 3:
        return plot_image_panels(
            [display(run, x) for x in decoded], list(panels), title=title
        )
    if run.input_kind == "sequence":
        return sequence_rows(run, decoded, list(panels), title=title)
    return plot_vector_strips(decoded, list(panels), title=title, row_label="draw")


def _samples_by_class(run: Run, data: Dataset, o: PictureOptions, title: str) -> Any:
    """A row per class; a run conditioned on columns, a row per condition of the
    first (distinct) examples shown, named by its column values."""
    columns = run.condition_columns
    if columns:
        conditions = _first_distinct(data.c, CONDITION_ROWS)
        names = [
            ", ".join(f"{n}={v:.3g}" for n, v in zip(columns, c.tolist(), strict=True))
            for c in conditions
        ]
    else:
        conditions = torch.arange(run.n_classes)
        names = [run.classes[k] if run.classes else str(k) for k in conditions]
    per = _per_condition(run, data, o)
    rows = []
    for k, condition in enumerate(conditions):
        c = condition.expand(per, *condition.shape)
        rows.append(inference.sample(run, per, seed=o.seed + k, c=c))
    if len(run.sample_shape) == 3:
        return plot_image_rows([display(run, x) for x in rows], names, title=title)
    return plot_vector_strips(rows, names, title=title, row_label="draw")


def _per_condition(run: Run, data: Dataset, o: PictureOptions) -> int:
    """Samples drawn per row of a conditional run's picture."""
    n = CONDITION_ROWS if run.condition_columns else run.n_classes
    if run.condition_columns and data.c is not None:
        n = len(_first_distinct(data.c, CONDITION_ROWS))
    return max(1, min(o.samples // max(n, 1), 10))


def _first_distinct(rows: torch.Tensor, n: int) -> torch.Tensor:
    picked: list[torch.Tensor] = []
    for row in rows:
        if len(picked) < n and not any(torch.equal(row, p) for p in picked):
            picked.append(row)
    return torch.stack(picked)
