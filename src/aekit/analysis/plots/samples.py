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
    title = f"{run_label(run)}\nnew data: codes drawn from each distribution, decoded"
    if caps.conditional:
        return _samples_by_class(run, data, o, title)
    own = inference.draw_codes(run, o.samples, seed=o.seed)
    if caps.sampler == "prior":
        panels = {"the prior": own}
    elif caps.sampler == "learned":
        panels = {"the learned prior over codes": own}
    else:
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
    per = max(1, min(o.samples // max(len(conditions), 1), 10))
    rows = []
    for k, condition in enumerate(conditions):
        c = condition.expand(per, *condition.shape)
        rows.append(inference.sample(run, per, seed=o.seed + k, c=c))
    if len(run.sample_shape) == 3:
        return plot_image_rows([display(run, x) for x in rows], names, title=title)
    return plot_vector_strips(rows, names, title=title, row_label="draw")


def _first_distinct(rows: torch.Tensor, n: int) -> torch.Tensor:
    picked: list[torch.Tensor] = []
    for row in rows:
        if len(picked) < n and not any(torch.equal(row, p) for p in picked):
            picked.append(row)
    return torch.stack(picked)
