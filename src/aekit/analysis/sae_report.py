"""The report's section on a sparse autoencoder's features: the feature-density
histogram, the leading latents' top inputs beside their decoder directions (images:
a grid; tables: the top rows; series: the windows) and the L0-FVU curve across runs."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data import Dataset
from ..run import Run
from .plots.compose import figure_png
from .plots.sae import (
    plot_feature_density,
    plot_image_features,
    plot_l0_fvu,
    plot_sequence_features,
)
from .report_html import figure_html
from .sae_features import (
    LEADING,
    LatentFeatures,
    decoder_directions,
    direction_image,
    run_features,
    top_weighted,
)
from .sae_frontier import frontier

SHOWN = 8  # top inputs per latent in the report
TABLE_COLUMNS = 10  # columns of a top-rows table: the latent's most weighted ones
TABLE_ROWS = 5


def sae_section(
    run: Run,
    shown: Dataset,
    *,
    compare: Sequence[Any] = (),
    latents: Sequence[int] = (),
    data: Any = None,
    n_latents: int = LEADING,
) -> str:
    """The section's HTML: densities and top inputs on `shown` (the held-out split),
    `latents` shown beside the leading ones, and, with `compare` runs, the L0-FVU
    points of the run and each of them (each on its held-out split, or on `data`)."""
    features = run_features(run, shown.x, per_latent=SHOWN)
    picked = features.leading(n_latents, latents)
    curve = frontier([run, *compare], data=data) if compare else None
    density = plot_feature_density(features.frequency, title=run.path.name)
    name = html.escape(str(getattr(shown, "name", "data")))
    parts = [
        '<h2 id="sae-features">Sparse features</h2>',
        f'<p class="sub">On {features.n_inputs} inputs of {name} '
        "(the held-out split unless other data are given); latents ordered by how "
        "often they fire.</p>",
        figure_html(
            "sae_density",
            figure_png(density),
            "Feature density: latents counted by log10 of the share of inputs they "
            "fire on (Bricken et al. 2023, Gao et al. 2024); dead latents never fire, "
            "dense ones fire on more than a tenth of the inputs.",
        ),
        "<h3>Top inputs of the leading latents</h3>",
        *_top_inputs(run, shown, features, picked),
        '<h3 id="sae-frontier">L0 and FVU across runs</h3>',
    ]
    if curve is None:
        parts.append(
            '<p class="sub">Compare runs on the sparsity-fidelity curve with '
            "<code>aekit report RUN --compare RUN2 RUN3 ...</code>.</p>"
        )
    else:
        fig = plot_l0_fvu(curve, title="L0 against FVU on held-out data")
        where = "the given data" if data is not None else "each run's held-out split"
        parts += [
            figure_html(
                "sae_l0_fvu",
                figure_png(fig),
                f"Each run's L0 and fraction of variance unexplained on {where}, by "
                "family; lower at the same L0 is better.",
            ),
            _points_table(curve),
        ]
    return "\n".join(p for p in parts if p)


def _label(features: LatentFeatures, i: int) -> str:
    return f"latent {i}\n{features.frequency[i]:.2%}"


def _top_inputs(
    run: Run, shown: Dataset, features: LatentFeatures, picked: list[int]
) -> list[str]:
    if not picked:
        return ['<p class="missing">no latent fires on these inputs</p>']
    directions = decoder_directions(run.model, picked).numpy()
    tops = [shown.x[features.tops(i)[0]].numpy() for i in picked]
    labels = [_label(features, i) for i in picked]
    title = f"{run.path.name}: each latent's decoder direction and top inputs"
    if run.input_kind == "image":
        images = np.stack([direction_image(d) for d in directions])
        fig = plot_image_features(images, tops, labels, title=title)
    elif run.input_kind == "sequence":
        fig = plot_sequence_features(directions, tops, labels, title=title)
    else:
        return [
            _feature_table(run, shown, features, i, d)
            for i, d in zip(picked, directions, strict=True)
        ]
    caption = (
        "One row per latent (its firing frequency under its number): its decoder "
        "direction (for images grey is 0, lighter adds, darker removes) and its "
        f"top {SHOWN} held-out inputs, strongest first."
    )
    return [figure_html("sae_top_inputs", figure_png(fig), caption)]


def _feature_table(
    run: Run, shown: Dataset, features: LatentFeatures, latent: int, direction: Any
) -> str:
    """A table latent: its most weighted columns and its top rows in the source's
    units under those columns."""
    names = run.record["data"].get("feature_names") or [
        f"x{j}" for j in range(direction.size)
    ]
    weights = top_weighted(direction, names, n=min(TABLE_COLUMNS, len(names)))
    rows, values = features.tops(latent)
    rows, values = rows[:TABLE_ROWS], values[:TABLE_ROWS]
    source = run.scaling.to_source(shown.x[rows]) if len(rows) else []
    index = {n: j for j, n in enumerate(names)}
    head = "".join(f"<th>{html.escape(n)}</th>" for n, _ in weights)
    lines = [
        "<tr><th>activation</th>" + head + "</tr>",
        "<tr><td><i>direction</i></td>"
        + "".join(f"<td><i>{w:+.3f}</i></td>" for _, w in weights)
        + "</tr>",
    ]
    for v, row in zip(values, source, strict=True):
        cells = "".join(f"<td>{row[index[n]]:.4g}</td>" for n, _ in weights)
        lines.append(f"<tr><td>{v:.4g}</td>{cells}</tr>")
    caption = (
        f"latent {latent}: fires on {features.frequency[latent]:.2%} of inputs; its "
        "most weighted columns (decoder direction), then its top rows (source units)"
    )
    return (
        f'<table class="sae-latent" id="sae-latent-{latent}"><caption><b>'
        f"{html.escape(caption)}</b></caption>{''.join(lines)}</table>"
    )


def _points_table(points: list[dict[str, Any]]) -> str:
    head = "<tr><th>run</th><th>family</th><th>latents</th><th>L0</th><th>FVU</th></tr>"
    body = "".join(
        f"<tr><td>{html.escape(p['name'])}</td><td>{html.escape(p['setting'])}</td>"
        f"<td>{p['latents']}</td><td>{p['l0']:.3g}</td><td>{p['fvu']:.4g}</td></tr>"
        for p in points
    )
    return f'<table id="sae-points">{head}{body}</table>'
