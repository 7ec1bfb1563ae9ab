"""Semantic segmentation: an image -> one class id per pixel.

Each image is paired with its mask (--masks MASKS, or one folder holding images/ and
masks/); trained with cross-entropy (optionally median-frequency class weights),
scored by pixel accuracy, IoU per class and mIoU (aekit.analysis.segmentation);
`aekit segment` writes palette PNG masks and overlays.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import AekitError
from .image_task import PATCH_OPTIONS
from .patch_task import PatchTask
from .task import ApplyOption

IGNORE_INDEX = 255  # the mask value that counts for nothing, unless --ignore-index
GRAY = (0.299, 0.587, 0.114)  # RGB -> luma, for runs trained on grayscale images


class Segment(PatchTask):
    name = "segment"
    summary = "image -> one class id per pixel"
    train_options = ("masks", "classes", "class_weights", "ignore_index")
    train_options += PATCH_OPTIONS
    evaluate_options = ("masks", "classes")
    command = "segment"
    command_help = "label every pixel of images with a --task segment run"
    inputs_help = (
        "image files or a folder (any size), or 'shapes' for the demo test set"
    )
    out_help = (
        "writes DIR/masks/NAME.png (palette PNGs of class ids, and "
        "classes.txt) and DIR/overlays/NAME.png"
    )
    apply_options = (
        ApplyOption(
            "--alpha",
            "opacity of the class colours in the overlays (default 0.5)",
            0.5,
        ),
        ApplyOption("--no-overlay", "masks only", True),
    )

    def read_source(self, data, opts):
        from ..data.pair_sources import image_and_mask_folders
        from ..data.paired import read_pairs

        images, masks = image_and_mask_folders(data, opts.get("masks"))
        return read_pairs(
            images,
            masks,
            classes=opts.get("classes"),
            ignore_index=int(opts.get("ignore_index", IGNORE_INDEX)),
        )

    def check_pairs(self, pairs):
        if pairs.masks is None:
            raise AekitError(f"{pairs.source} has no masks; segmentation needs them")
        return pairs

    def model_options(self, pairs, opts):
        from ..analysis.segmentation import median_frequency_weights

        ignore = int(opts.get("ignore_index", IGNORE_INDEX))
        n = len(pairs.classes)
        weights = opts.get("class_weights", "none")
        if weights == "auto":
            weights = median_frequency_weights(pairs.masks, n, ignore)
        elif weights == "none":
            weights = None
        return {
            "in_channels": 1 if pairs.grayscale else 3,
            "out_channels": n,
            "output": "identity",
            "loss": "cross-entropy",
            "class_weights": weights,
            "ignore_index": ignore,
        }

    def patches(self, part, size, opts, *, seed):
        from ..data.paired import segmentation_dataset

        return segmentation_dataset(
            part,
            size,
            per_image=opts.get("patches_per_image"),
            seed=seed,
            ignore_index=int(opts.get("ignore_index", IGNORE_INDEX)),
        )

    def settings(self, pairs, opts):
        from ..analysis.segmentation import class_palette

        palette = class_palette(len(pairs.classes), pairs.palette)
        ignore = int(opts.get("ignore_index", IGNORE_INDEX))
        return {"ignore_index": ignore, "palette": palette.tolist()}

    def predict(self, run, pairs):
        """(H, W) int64 class ids, one per input image, any size."""
        import numpy as np
        import torch

        from ..inference.images import predict_whole
        from .image_outputs import task_settings

        channels = int(task_settings(run).get("in_channels", 3))
        x = []
        for a in pairs.images:  # RGB uint8; a grayscale photo is one with R = G = B
            t = torch.from_numpy(a.astype(np.float32) / 255.0).permute(2, 0, 1)
            if channels == 1:
                t = (t * torch.tensor(GRAY)[:, None, None]).sum(0, keepdim=True)
            x.append(t)
        return [y.argmax(0).numpy() for y in predict_whole(run.model, x)]

    def patch_scores(self, run, val, out):
        from ..analysis.segmentation import confusion_matrix, segmentation_scores
        from .image_outputs import task_settings

        ignore = task_settings(run)["ignore_index"]
        n = out.shape[1]
        conf = confusion_matrix(out.argmax(1).numpy(), val.target.numpy(), n, ignore)
        return segmentation_scores(conf, run.classes)

    def image_scores(self, run, pairs):
        import numpy as np

        from ..analysis.segmentation import confusion_matrix, segmentation_scores
        from .image_outputs import task_settings

        n, ignore = run.model.config.out_channels, task_settings(run)["ignore_index"]
        if pairs.classes is not None and len(pairs.classes) > n:
            raise AekitError(
                f"{pairs.source} has {len(pairs.classes)} classes; {run.path} knows {n}"
            )
        conf = np.zeros((n, n), np.int64)
        for ids, truth in zip(self.predict(run, pairs), pairs.masks, strict=True):
            conf += confusion_matrix(ids, truth, n, ignore)
        return segmentation_scores(conf, run.classes)

    def evaluation_options(self, run, options):
        from .image_outputs import task_settings

        return {"ignore_index": task_settings(run)["ignore_index"], **options}

    def warnings(self, run, out):
        from .image_outputs import dominant_class_warning

        warning = dominant_class_warning(out.argmax(1).numpy(), run.classes)
        return [] if warning is None else [warning]

    def predictions_figure(self, run, val, out):
        import numpy as np

        from ..analysis.plots import plot_image_rows
        from .image_outputs import (
            N_SHOWN,
            add_class_legend,
            as_chw,
            class_colours,
            task_settings,
        )

        n = min(N_SHOWN, len(val))
        x, target, y = val.x[:n], val.target[:n], out[:n]
        palette = np.asarray(task_settings(run)["palette"], np.float32) / 255.0
        rows = [
            x.repeat(1, 3 // x.shape[1], 1, 1),
            as_chw([class_colours(m, palette) for m in y.argmax(1).numpy()]),
            as_chw([class_colours(m, palette) for m in target.numpy()]),
        ]
        labels = ["image", "predicted", "true"]
        title = f"{run.model_name} segmentation on held-out patches"
        fig = plot_image_rows(rows, labels, title=title)
        return add_class_legend(fig, palette, run.classes, y.shape[1])

    def extra_figures(self, run, val, out):
        from .image_outputs import class_iou_figure

        return {"class_iou": class_iou_figure(run, self.patch_scores(run, val, out))}

    def write_applied(
        self,
        run,
        inputs,
        out: Path,
        names,
        *,
        alpha: float = 0.5,
        overlay: bool = True,
        **options: Any,
    ) -> str:
        import numpy as np

        from ..analysis.segmentation import mask_png_bytes
        from ..analysis.segmentation import overlay as tint
        from ..data.io import write_bytes, write_text
        from ..data.pixels import save_png
        from .image_outputs import task_settings

        palette = np.asarray(task_settings(run)["palette"], dtype=np.uint8)
        for name, image, ids in zip(
            names, inputs.images, self.predict(run, inputs), strict=True
        ):
            write_bytes(out / "masks" / f"{name}.png", mask_png_bytes(ids, palette))
            if overlay:
                tinted = tint(image, ids, palette, alpha=alpha)
                save_png(out / "overlays" / f"{name}.png", tinted / 255.0)
        if run.classes:
            write_text(out / "masks" / "classes.txt", "\n".join(run.classes) + "\n")
        what = "masks and overlays" if overlay else "masks"
        return f"wrote {what} of {len(names)} image(s) to {out}"


SEGMENT = Segment()


def segment(run: Any, inputs: Any) -> list[Any]:
    """Class-id maps (H, W) int64 of images, any size ("shapes": the demo test set).

    `run`: a Run or its directory; `inputs`: a folder, image files, a uint8 array.
    """
    from .apply import as_task_run

    return SEGMENT.apply(as_task_run(run, SEGMENT), inputs)
