"""The lecture pictures of a trained run, one function per kind: run + data -> Figure.

Every function takes the run, the examples to show (model units) and PictureOptions,
draws with the plain plot functions, and is deterministic for `options.seed`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from ... import inference
from ...data import Dataset
from ...data.memory import allocation_guard
from ...data.music import DEFAULT_PITCH_RANGE
from ...errors import AekitError
from ...inference.distributions import posterior_of_run, walks_prior
from ...run import Run, readers
from ...training.noise import Noise
from .. import latent
from .curves import plot_history
from .grids import (
    plot_image_rows,
    plot_vector_rows,
    plot_vector_strips,
)
from .latent import plot_latent_scatter, plot_manifold
from .sequences import plot_sequence_grid

EMBED_POINTS = 1000  # t-SNE and UMAP see at most this many codes
MAX_TRAVERSED = 16  # rows of a traversal: the most active dimensions beyond this
N_SHOWN = 10  # examples in the reconstructions picture
DEFAULT_LOWEST_PITCH = DEFAULT_PITCH_RANGE[0]  # a music run that named no range


@dataclass(frozen=True)
class PictureOptions:
    seed: int = 0  # every random choice (examples, pairs, draws, t-SNE) follows it
    projection: str = "auto"  # latent: auto (2-D as is, else PCA), pca, tsne, umap
    grid: int = 15  # manifold: cells per side
    dims: tuple[int, ...] | None = None  # manifold plane / traversed dimensions
    steps: int = 10  # frames per interpolation or traversal
    pairs: int = 4  # interpolation pairs
    samples: int = 36  # draws per sampler
    components: int = 10  # Gaussian-mixture components for a plain AE's codes
    max_points: int = 5000  # latent scatter points (PCA or as is)
    fit: Dataset | None = None  # whose codes samplers fit (default: the shown data)


def run_label(run: Run) -> str:
    if not run.capabilities.has_code:  # image-to-image: its task, no code
        return f"{run.path.name} ({run.model_name}, {run.task})"
    return f"{run.path.name} ({run.model_name}, {run.model.latent_dim}-D code)"


def display(run: Run, x: torch.Tensor) -> torch.Tensor:
    """Model values as images in [0, 1]; standardised data is min-max scaled."""
    if run.scaling.domain == "unit":
        return x
    lo, hi = x.min(), x.max()
    return (x - lo) / (hi - lo).clamp_min(1e-8)


def need_images(run: Run, kind: str) -> None:
    if len(run.sample_shape) != 3:
        raise AekitError(
            f"the {kind} picture needs image data; {run.path} was trained on "
            f"{run.input_kind}s of shape {tuple(run.sample_shape)}"
        )


def is_rolls(run: Run) -> bool:
    """Piano rolls (sequences in [0, 1]) rather than real-valued series."""
    return run.input_kind == "sequence" and run.scaling.domain == "unit"


def lowest_pitch(run: Run) -> int:
    pitches = (run.data_spec.get("options") or {}).get("pitch_range")
    return int(pitches[0]) if pitches else DEFAULT_LOWEST_PITCH


def sequence_rows(run: Run, rows, labels, *, title, **kw) -> Figure:
    """Sequences (K, C, T) per row: piano rolls for music, lines for series."""
    rolls = is_rolls(run)
    return plot_sequence_grid(
        rows, labels, title=title, rolls=rolls, lowest_pitch=lowest_pitch(run), **kw
    )


def _strips(run, strips, labels, *, title, column_labels, row_label="step"):
    if run.input_kind == "sequence":
        return sequence_rows(
            run, strips, labels, title=title, column_labels=column_labels
        )
    if len(run.sample_shape) == 3:
        shown = [display(run, s) for s in strips]
        return plot_image_rows(shown, labels, title=title, column_labels=column_labels)
    return plot_vector_strips(strips, labels, title=title, row_label=row_label)


# -- the kinds ----------------------------------------------------------------------
def reconstructions(run: Run, data: Dataset, o: PictureOptions) -> Figure:
    """Held-out originals above their reconstructions (clean, noisy, denoised for a
    denoising run)."""
    pick = shown_examples(data)
    x, c = data.x[pick], _condition(run, data, pick)
    noise = run.train_config.noise
    if noise:
        bounds = (0.0, 1.0) if run.scaling.domain == "unit" else None
        noisy = Noise.parse(noise)(
            x, bounds=bounds, generator=torch.Generator().manual_seed(0)
        )
        rows = [x, noisy, inference.reconstruct(run, noisy, c)]
        labels = ["clean", "noisy", "denoised"]
        title = f"{run.model_name} denoising ({noise}) on held-out examples"
    else:
        rows = [x, inference.reconstruct(run, x, c)]
        labels = ["original", "reconstruction"]
        title = (
            f"{run.model_name} (code size {run.model.latent_dim}) on held-out examples"
        )
    if data.is_image:
        return plot_image_rows(rows, labels, title=title)
    if data.kind == "sequence":
        if is_rolls(run) or len(rows) > 2:
            return sequence_rows(run, rows, labels, title=title)
        return sequence_rows(
            run,
            rows[:1],
            ["original (solid),\nreconstruction\n(dashed)"],
            title=title,
            overlay=rows[1],
        )
    return plot_vector_rows(
        [np.asarray(r) for r in rows],
        labels,
        title=title,
        feature_names=run.record["data"].get("feature_names"),
    )


def shown_examples(data: Dataset, n: int = N_SHOWN) -> torch.Tensor:
    """Indices of up to n examples: one per class first when there are labels."""
    if data.y is None:
        return torch.arange(min(n, len(data)))
    picked: list[int] = []
    for label in torch.unique(data.y).tolist():
        picked.append(int((data.y == label).nonzero()[0, 0]))
    rest = [i for i in range(len(data)) if i not in set(picked)]
    return torch.tensor((picked + rest)[:n])


def _repeat(c: torch.Tensor | None, n: int) -> torch.Tensor | None:
    """One example's condition (1, ...) for n decoded codes; None stays None."""
    return None if c is None else c[:1].expand(n, *c.shape[1:])


def _condition(run: Run, data: Dataset, pick: Any = slice(None)) -> Any:
    c = inference.data_conditions(run, data)
    return None if c is None else c[pick]


def latent_scatter(run: Run, data: Dataset, o: PictureOptions) -> Figure:
    limit = o.max_points if o.projection in ("auto", "pca") else EMBED_POINTS
    shown = latent.subsample(data, limit, seed=o.seed)
    codes = latent.encode_tensor(run, shown.x, _condition(run, shown)).numpy()
    p = latent.project(codes, o.projection, seed=o.seed)
    d = codes.shape[1]
    how = f"{p.method} of the {d}-D code"
    if p.method == "code":
        how = f"the {d}-D code as it is"
    what = "posterior means" if posterior_of_run(run).is_distribution else "codes"
    return plot_latent_scatter(
        p.points,
        None if shown.y is None else shown.y.numpy(),
        shown.classes or run.classes,
        title=f"{run_label(run)}\n{what} of {len(shown)} examples: {how}",
        xlabel=p.xlabel,
        ylabel=p.ylabel,
    )


def manifold(run: Run, data: Dataset, o: PictureOptions) -> Figure:
    need_images(run, "manifold")
    codes = latent.encode_tensor(run, data.x, _condition(run, data))
    dims = tuple(o.dims) if o.dims else None
    size = o.grid * o.grid * math.prod(run.sample_shape) * 4
    with allocation_guard(f"draw a {o.grid}x{o.grid} manifold", nbytes=size):
        first = _condition(run, data, slice(0, 1))
        plane = latent.code_plane(
            codes,
            o.grid,
            variational=walks_prior(run),
            dims=dims,
            prior=latent.prior_moments(run, first),
        )
        c = _repeat(_condition(run, data, slice(0, 1)), len(plane.codes))
        images = display(run, latent.decode_tensor(run, plane.codes, c))
        return plot_manifold(
            images,
            plane.u,
            plane.v,
            title=f"{run_label(run)}\n{o.grid}x{o.grid} decoded codes over {plane.how}",
            xlabel=plane.xlabel,
            ylabel=plane.ylabel,
        )


def interpolation_frames(
    run: Run, data: Dataset, o: PictureOptions
) -> tuple[list[tuple[int, int]], dict[str, torch.Tensor]]:
    """Pairs of example indices, and per path kind the decoded frames
    (pairs, steps, *sample) between their codes, model units."""
    pairs = pick_pairs(data, o.pairs, seed=o.seed)
    index = [i for p in pairs for i in p]
    z = latent.encode_tensor(run, data.x[index], _condition(run, data, index))
    # a conditional run decodes each path under its start's condition
    starts = _condition(run, data, [i for i, _ in pairs])
    c = None if starts is None else starts.repeat_interleave(o.steps, 0)
    frames = {}
    for method in latent.PATHS:
        paths = torch.stack(
            [
                latent.interpolation_path(run, z[2 * k], z[2 * k + 1], o.steps, method)
                for k in range(len(pairs))
            ]
        )
        x = latent.decode_tensor(run, paths.flatten(0, 1), c)
        frames[method] = x.reshape(len(pairs), o.steps, *x.shape[1:])
    return pairs, frames


def pick_pairs(data: Dataset, n: int, *, seed: int = 0) -> list[tuple[int, int]]:
    """n pairs of examples: of neighbouring classes when labelled, else at random."""
    g = torch.Generator().manual_seed(seed)
    if len(data) < 2:
        raise AekitError("interpolation needs at least two examples")
    if data.y is not None and len(torch.unique(data.y)) > 1:
        labels = torch.unique(data.y).tolist()
        first = {c: int((data.y == c).nonzero()[0, 0]) for c in labels}
        order = [first[c] for c in labels]
    else:
        order = torch.randperm(len(data), generator=g).tolist()
    m = len(order)
    return [(order[(2 * k) % m], order[(2 * k + 1) % m]) for k in range(n)]


def interpolate(run: Run, data: Dataset, o: PictureOptions) -> Figure:
    pairs, frames = interpolation_frames(run, data, o)
    strips, labels = [], []
    for k, (i, j) in enumerate(pairs):
        for method, x in frames.items():
            ends = (data.x[i : i + 1], data.x[j : j + 1])
            images = run.input_kind in ("image", "sequence")  # inputs at the ends
            strips.append(torch.cat([ends[0], x[k], ends[1]]) if images else x[k])
            labels.append(f"{_name(data, i)} → {_name(data, j)}\n{method}")
    t = [f"{v:.2g}" for v in np.linspace(0, 1, o.steps)]
    return _strips(
        run,
        strips,
        labels,
        title=f"{run_label(run)}\ninterpolation between the codes of two inputs "
        "(inputs at both ends; t = 0 and 1 are their reconstructions)",
        column_labels=["input", *t, "input"],
    )


def _name(data: Dataset, i: int) -> str:
    return data.label_name(int(data.y[i])) if data.y is not None else f"#{i}"


def traverse(run: Run, data: Dataset, o: PictureOptions) -> Figure:
    codes = latent.encode_tensor(run, data.x, _condition(run, data))
    d = codes.shape[1]
    if o.dims:
        dims = latent.check_dim_list(list(o.dims), d)
    else:
        dims = latent.active_dims(codes, min(d, MAX_TRAVERSED))
    vae = walks_prior(run)
    first = shown_examples(data, 1)[:1]
    prior = latent.prior_moments(run, _condition(run, data, first))
    values = latent.traversal_values(codes, dims, o.steps, variational=vae, prior=prior)
    base = codes[first[0]]
    rows = latent.traversal_codes(base, dims, values)
    c = _repeat(_condition(run, data, first), len(dims) * o.steps)
    x = latent.decode_tensor(run, rows.flatten(0, 1), c)
    strips = list(x.reshape(len(dims), o.steps, *x.shape[1:]))
    sweep = "the prior's σ" if vae else "σ of each dimension's codes"
    s = np.linspace(-latent.paths.SPAN, latent.paths.SPAN, o.steps)
    return _strips(
        run,
        strips,
        [f"z{k}" for k in dims],
        title=f"{run_label(run)}\neach row sweeps one dimension of one example's code "
        f"(in {sweep}), the others fixed",
        column_labels=[f"{v:+.1f}σ" for v in s],
        row_label="",
    )


def history(run: Run, data: Any, o: PictureOptions) -> Figure:
    columns = read_history(run)
    vae = posterior_of_run(run).is_distribution
    names = {
        "loss": "total (negative ELBO)" if vae else "total loss",
        "recon": "reconstruction",
        "kl": "KL to the prior",
        "sparsity": "sparsity penalty (L1)",
        "sigma": "decoder σ (learned)",
    }
    from .curves import history_terms

    terms = {t: names.get(t, t) for t in history_terms(columns)}
    return plot_history(
        columns,
        title=f"{run_label(run)}: training curves",
        terms=terms,
        best_epoch=run.metrics.get("best_epoch"),
        ylabel="nats per example" if vae else "loss",
    )


def read_history(run: Run) -> dict[str, list[float]]:
    path = run.path / "history.csv"
    if not path.is_file():
        raise AekitError(f"{run.path} has no history.csv; it has not finished an epoch")
    rows = readers.read_history(path)
    if not rows:
        raise AekitError(f"{path} holds no epochs")
    return {k: [float(r.get(k, math.nan)) for r in rows] for k in rows[0]}
