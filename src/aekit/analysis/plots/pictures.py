"""Pictures of a run by name: the registry, the `plot` verb, comparisons of two runs,
and the pictures (and report) written at the end of training."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ...data import Dataset
from ...data.io import save_figure
from ...errors import AekitError
from ...run import Run, as_run, run_data, run_splits
from .. import latent
from ..choices import COMPARED, PICTURE_KINDS
from ..series_anomaly import is_window_run
from . import kinds, samples
from .checkerboard import plot_checkerboard
from .compose import compose
from .curves import plot_smoothness
from .kinds import PictureOptions, run_label
from .pca import ae_vs_pca


def series_picture(run: Run, shown: Dataset | None) -> Figure:
    """detect's picture of a series run on the series shown (when the split kept
    them as series), else on its whole training series."""
    from ..series_anomaly import detect_series, scores_figure

    data = shown if shown is not None and shown.series is not None else None
    return scores_figure(detect_series(run, data or run_data(run)), run)


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Picture:
    draw: Callable[[Run, Any, PictureOptions], Figure]
    description: str  # the report's caption
    uses_data: bool = True


PICTURES: dict[str, Picture] = {
    "reconstructions": Picture(
        kinds.reconstructions,
        "Held-out originals above their reconstructions (clean, noisy and denoised "
        "for a denoising run).",
    ),
    "history": Picture(
        kinds.history,
        "Training curves: each loss term on the training and validation splits.",
        uses_data=False,
    ),
    "latent": Picture(
        kinds.latent_scatter,
        "The codes of held-out examples, coloured by label: as they are for a 2-D "
        "code, otherwise projected to 2-D by the method the title names.",
    ),
    "manifold": Picture(
        kinds.manifold,
        "A regular grid of codes decoded into images: for a VAE through the inverse "
        "CDF of its Gaussian prior, for a plain autoencoder over the range of its "
        "codes.",
    ),
    "interpolate": Picture(
        kinds.interpolate,
        "Paths between the codes of two inputs, decoded: linear and spherical.",
    ),
    "traverse": Picture(
        kinds.traverse,
        "One row per latent dimension: that dimension swept while the others stay "
        "fixed at one example's code.",
    ),
    "samples": Picture(
        samples.samples,
        "New data from the decoder: a VAE decodes draws from its prior; a plain "
        "autoencoder's codes follow no known distribution, so N(0, I) fails where a "
        "Gaussian or a Gaussian mixture fitted to its codes does better.",
    ),
    "pca": Picture(
        ae_vs_pca,
        "The autoencoder beside PCA with as many components as the code has "
        "dimensions: their reconstructions of held-out examples and their 2-D maps.",
    ),
    "checkerboard": Picture(
        lambda run, data, o: plot_checkerboard(
            title=f"{run.path.name}: how often each output pixel is written when "
            "a decoder doubles an image (uneven counts show as checkerboards)"
        ),
        "Why transposed convolutions can leave checkerboard artefacts: the number of "
        "times each output pixel is written by a kernel-3 stride-2 transposed "
        "convolution (uneven), a kernel-4 one (even) and nearest upsampling followed "
        "by a convolution (even); --transpose-kernel chooses.",
        uses_data=False,
    ),
    "series": Picture(
        lambda run, data, o: series_picture(run, data),
        "A series run: the series (the data shown, else the training series), its "
        "reconstruction, every step's anomaly score with the threshold and the "
        "flagged steps; labelled anomalies marked in black.",
    ),
}
assert tuple(PICTURES) == PICTURE_KINDS, "aekit.analysis.choices names them"
KINDS = (*PICTURE_KINDS, "compare")
AFTER_TRAINING = ("history", "latent", "manifold", "interpolate", "traverse", "samples")
# pictures that treat the code as a point in a continuous space: meaningless for
# the index grids of discrete codes (a VQ-VAE)
CONTINUOUS_CODES = ("latent", "manifold", "interpolate", "traverse")


def plot(
    run: Run | str | Path,
    kind: str,
    *,
    data: Any = None,
    out: str | Path | None = None,
    other: Run | str | Path | None = None,
    compared: Sequence[str] = COMPARED,
    **options: Any,
) -> Figure:
    """The picture `kind` of a run (see KINDS) as a matplotlib Figure, saved to `out`
    when given. `data` defaults to the run's own held-out split; `compare` draws the
    same pictures of `run` and `other` side by side. Options: PictureOptions fields."""
    run = as_run(run)
    o = picture_options(options)
    if kind == "compare":
        if other is None:
            raise AekitError("compare needs a second run to compare with")
        fig = compare(run, as_run(other), data=data, kinds=compared, options=o)
    elif kind not in PICTURES:
        raise AekitError(f"unknown picture {kind!r}; choose from {', '.join(KINDS)}")
    elif kind in CONTINUOUS_CODES and run.capabilities.codes != "continuous":
        raise AekitError(
            f"the {kind} picture needs continuous codes; a {run.model_name} run has "
            f"{run.capabilities.codes} codes"
        )
    else:
        shown, fit = (None, None)
        if PICTURES[kind].uses_data:
            shown, fit = picture_data(run, data)
        fig = PICTURES[kind].draw(run, shown, dataclasses.replace(o, fit=fit))
    if out is not None:
        save_figure(fig, out)
    return fig


# the largest values a picture can show (a grid of 1000 x 1000 images is already
# more than any screen); beyond them a picture would only exhaust memory
LIMITS = {
    "grid": 1000,
    "steps": 1000,
    "pairs": 1000,
    "samples": 10_000,
    "components": 1000,
    "max_points": 10_000_000,
}


def picture_options(options: dict[str, Any]) -> PictureOptions:
    names = {f.name for f in dataclasses.fields(PictureOptions)} - {"fit"}
    unknown = sorted(set(options) - names)
    if unknown:
        raise AekitError(f"unknown picture option(s) {', '.join(unknown)}")
    o = PictureOptions(**{k: v for k, v in options.items() if v is not None})
    for name, most in LIMITS.items():
        value = getattr(o, name)
        if value < (2 if name in ("grid", "steps") else 1):
            raise AekitError(f"{name} is too small: {value}")
        if value > most:
            raise AekitError(f"{name} is too large: {value} (at most {most:,})")
    if o.projection not in latent.PROJECTIONS:
        raise AekitError(
            f"unknown projection {o.projection!r}; choose from "
            f"{', '.join(latent.PROJECTIONS)}"
        )
    return o


def picture_data(run: Run, data: Any = None) -> tuple[Dataset, Dataset]:
    """(examples to show, examples whose codes samplers fit): the run's validation
    and training splits by default, else `data` for both."""
    if data is not None:
        shown = run_data(run, data)
        return shown, shown
    train, val = run_splits(run)
    return val, train


def applicable(run: Run, kind: str) -> bool:
    """Whether a picture makes sense for the run (its codes, images, code size)."""
    if kind in CONTINUOUS_CODES and run.capabilities.codes != "continuous":
        return False
    images = len(run.sample_shape) == 3
    if kind == "manifold":
        return images and run.model.latent_dim >= 2
    if kind == "checkerboard":  # about image decoders that upsample
        return images
    if kind == "series":
        return is_window_run(run)
    if kind == "pca":  # an unconditional code of images or vectors beside PCA
        caps = run.capabilities
        plain = caps.has_code and not caps.conditional
        return plain and run.input_kind in ("image", "vector")
    return True


# -- comparing runs ------------------------------------------------------------------
def compare(
    a: Run,
    b: Run,
    *,
    data: Any = None,
    kinds: Sequence[str] = COMPARED,
    options: PictureOptions | None = None,
) -> Figure:
    """The same pictures of two runs side by side, on the same examples (run A's
    held-out split by default), with the smoothness of their interpolations."""
    o = options or PictureOptions()
    if a.sample_shape != b.sample_shape:
        raise AekitError(
            f"{a.path} and {b.path} model different data ({a.sample_shape} and "
            f"{b.sample_shape}); compare runs on the same data"
        )
    for kind in kinds:
        if kind not in PICTURES:
            raise AekitError(f"unknown picture {kind!r} to compare")
    source_a, source_b = (r.data_spec.get("source") for r in (a, b))
    scaling_a, scaling_b = (r.data_spec.get("scaling") for r in (a, b))
    if source_a != source_b or scaling_a != scaling_b:
        log.warning(
            "%s and %s were trained on different data (%s and %s); both are shown "
            "on %s",
            a.path,
            b.path,
            source_a or "in-memory data",
            source_b or "in-memory data",
            "the given --data" if data is not None else f"{a.path.name}'s examples",
        )
    shown_a, fit_a = picture_data(a, data)
    shown_b, fit_b = (run_data(b, shown_a), run_data(b, fit_a))
    rows = []
    for kind in kinds:
        if applicable(a, kind) and applicable(b, kind):
            rows.append(
                [
                    PICTURES[kind].draw(a, shown_a, dataclasses.replace(o, fit=fit_a)),
                    PICTURES[kind].draw(b, shown_b, dataclasses.replace(o, fit=fit_b)),
                ]
            )
    rows.append([smoothness_figure([(a, shown_a), (b, shown_b)], o)])
    return compose(rows, title=f"{run_label(a)}   vs   {run_label(b)}")


def frame_changes(frames: Any) -> np.ndarray:
    """Mean absolute change between neighbouring frames (pairs, steps, ...) at each
    step, averaged over pairs: (steps - 1,)."""
    x = frames.flatten(2)
    return (x[:, 1:] - x[:, :-1]).abs().mean(dim=(0, 2)).numpy()


def smoothness_figure(runs: Sequence[tuple[Run, Dataset]], o: PictureOptions) -> Figure:
    changes = {}
    for run, data in runs:
        _, frames = kinds.interpolation_frames(run, data, o)
        changes[run.path.name] = {m: frame_changes(x) for m, x in frames.items()}
    return plot_smoothness(
        changes,
        title="smoothness of interpolations: mean change between neighbouring frames",
        ylabel="mean |change| per value (model units)",
    )
