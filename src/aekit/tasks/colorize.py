"""Colorization: a grayscale image's lightness L -> its colour (Lab a/b or RGB).

Trains on colour images only (a grayscale one holds no colour to learn); scored by
PSNR and SSIM against the true colours beside the grayscale copy
(aekit.analysis.colorization); `aekit colorize` writes one colour PNG per input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import AekitError
from .image_task import PATCH_OPTIONS
from .patch_task import PatchTask

COLOR_LOSSES = ("l1", "mse")


class Colorize(PatchTask):
    name = "colorize"
    summary = "grayscale (L) image -> its colour (Lab a/b or RGB)"
    train_options = ("color_space", "color_loss", *PATCH_OPTIONS)
    command = "colorize"
    command_help = "colour grayscale images with a --task colorize run"
    inputs_help = (
        "image files or a folder (any size; colour images are read as their "
        "lightness), or 'photos' for the held-out demo photos"
    )

    def read_source(self, data, opts):
        from ..data.paired import read_images

        return read_images(data)

    def check_pairs(self, pairs):
        from ..data.pair_sources import colour_only

        return colour_only(pairs)

    def model_options(self, pairs, opts):
        from ..data.color import check_color_space

        space = opts.get("color_space", "lab")
        check_color_space(space)
        loss = opts.get("color_loss", "l1")
        if loss not in COLOR_LOSSES:
            raise AekitError(
                f"color loss must be one of {', '.join(COLOR_LOSSES)}, not {loss!r}"
            )
        return {
            "in_channels": 1,
            "out_channels": 2 if space == "lab" else 3,
            "output": "identity" if space == "lab" else "sigmoid",
            "loss": loss,
            # segmentation's settings of the shared models, fixed so that
            # --class-weights or --ignore-index on a colorize run is refused
            "class_weights": None,
            "ignore_index": 255,
        }

    def patches(self, part, size, opts, *, seed):
        from ..data.color import colorization_dataset
        from ..data.paired import extract_patches

        per_image = opts.get("patches_per_image")
        patches, _ = extract_patches(part, size, per_image=per_image, seed=seed)
        space = opts.get("color_space", "lab")
        return colorization_dataset(patches, space, part.source)

    def settings(self, pairs, opts):
        return {"color_space": opts.get("color_space", "lab")}

    def predict(self, run, pairs):
        """(H, W, 3) RGB float images in [0, 1], one per input image, any size."""
        import torch

        from ..data.color import lightness, to_rgb
        from ..inference.images import predict_whole
        from .image_outputs import task_settings

        space = task_settings(run)["color_space"]
        light = [torch.from_numpy(lightness(a))[None] for a in pairs.images]  # (1,H,W)
        outputs = predict_whole(run.model, light)
        return [to_rgb(x, y, space) for x, y in zip(light, outputs, strict=True)]

    def patch_scores(self, run, val, out):
        from ..analysis.colorization import color_scores
        from ..data.color import to_rgb
        from .image_outputs import task_settings

        space = task_settings(run)["color_space"]
        truth = [to_rgb(x, t, space) for x, t in zip(val.x, val.target, strict=True)]
        pred = [to_rgb(x, o, space) for x, o in zip(val.x, out, strict=True)]
        return color_scores(truth, pred)

    def image_scores(self, run, pairs):
        import numpy as np

        from ..analysis.colorization import color_scores

        truth = [a.astype(np.float64) / 255.0 for a in pairs.images]
        return color_scores(truth, self.predict(run, pairs))

    def evaluation_options(self, run, options):
        return {}

    def predictions_figure(self, run, val, out):
        from ..analysis.plots import plot_image_rows
        from ..data.color import to_rgb
        from .image_outputs import N_SHOWN, as_chw, task_settings

        n = min(N_SHOWN, len(val))
        x, target, y = val.x[:n], val.target[:n], out[:n]
        space = task_settings(run)["color_space"]
        rows = [
            x.repeat(1, 3, 1, 1),
            as_chw([to_rgb(a, b, space) for a, b in zip(x, y, strict=True)]),
            as_chw([to_rgb(a, b, space) for a, b in zip(x, target, strict=True)]),
        ]
        labels = ["input (L)", "colorized", "true colour"]
        title = f"{run.model_name} colorization ({space}) on held-out patches"
        return plot_image_rows(rows, labels, title=title)

    def write_applied(self, run, inputs, out: Path, names, **options) -> str:
        from ..data.pixels import save_png

        for name, rgb in zip(names, self.predict(run, inputs), strict=True):
            save_png(out / f"{name}.png", rgb)
        return f"wrote {len(names)} colour image(s) to {out}"


COLORIZE = Colorize()


def colorize(run: Any, inputs: Any) -> list[Any]:
    """Colour versions (H, W, 3) uint8 of grayscale or colour images, each its own size.

    `run`: a Run or its directory; `inputs`: a folder, image files, a uint8 array, or
    "photos" (held-out demo photos).
    """
    import numpy as np

    from .apply import as_task_run

    run = as_task_run(run, COLORIZE)
    rgb = COLORIZE.apply(run, inputs)
    return [(np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8) for a in rgb]


__all__ = ["COLORIZE", "Colorize", "colorize"]
