"""A segmentation run's pictures name their classes, and a model that predicts one
class almost everywhere is warned of (issue 25.4)."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from aekit.analysis.segmentation import default_palette
from aekit.tasks.image_outputs import add_class_legend, dominant_class_warning


def test_the_legend_names_each_class_in_its_colour():
    palette = default_palette(256).astype(np.float32) / 255.0
    fig = add_class_legend(Figure(), palette, ["ground", "red", "blue"], 3)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["ground", "red", "blue"]
    colours = [to_rgb(h.get_facecolor()) for h in legend.legend_handles]
    np.testing.assert_allclose(colours, palette[:3], atol=1e-6)
    # a run without class names: the ids, one per class the model predicts
    fig = add_class_legend(Figure(), palette, None, 2)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["0", "1"]


def test_warns_when_one_class_takes_over_95_percent_of_pixels():
    ids = np.zeros((4, 10, 10), np.int64)
    ids[0, 0, :4] = 1  # 4 of 400 pixels: background takes 99 %
    warning = dominant_class_warning(ids, ["background", "cat"])
    assert "'background'" in warning and "99.0%" in warning
    ids[:, :3] = 1  # 30 % cats
    assert dominant_class_warning(ids, ["background", "cat"]) is None
