"""Issue 14, "the first hour": what a new user hits in their first runs."""

from __future__ import annotations

import numpy as np
import pytest

from aekit import latent


def test_umap_projection_runs_and_keeps_clusters_apart():
    pytest.importorskip("umap")
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(0, 0.1, (25, 5)), rng.normal(5, 0.1, (25, 5))])
    p = latent.project(z, "umap", seed=0)
    assert p.method == "UMAP" and p.points.shape == (50, 2)
    assert np.isfinite(p.points).all()
    a, b = p.points[:25], p.points[25:]
    gap = np.linalg.norm(a.mean(0) - b.mean(0))
    spread = max(
        np.linalg.norm(a - a.mean(0), axis=1).max(),
        np.linalg.norm(b - b.mean(0), axis=1).max(),
    )
    assert gap > 2 * spread  # the two clusters stay two clusters


def test_all_extra_covers_every_other_extra():
    import re

    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    covered: set[str] = set()
    for requirement in extras["all"]:
        m = re.fullmatch(r"aekit\[([\w,\s-]+)\]", requirement.replace(" ", ""))
        assert m, f"'all' lists aekit's own extras, not {requirement!r}"
        covered |= set(m.group(1).split(","))
    assert covered == set(extras) - {"all", "test"}


def test_quick_bench_runs_present_data_and_skips_missing(tmp_path):
    from aekit.bench import find_configs, run_bench
    from aekit.io import write_json

    configs = tmp_path / "configs"
    common = {"model": "mlp", "evaluate": {"k": 10}, "bars": {}}
    write_json(
        configs / "a-digits.json",
        {
            "name": "mlp4-digits",
            "data": {"source": "digits", "test": 300, "seed": 0},
            "options": {"latent_dim": 4, "hidden": [32]},
            **common,
        },
    )
    absent = tmp_path / "not-downloaded" / "fashion-mnist"
    write_json(
        configs / "b-absent.json",
        {"name": "mlp4-absent", "data": {"source": str(absent)}, **common},
    )
    said: list[str] = []
    reports, md = run_bench(
        find_configs([configs]), tmp_path / "out", quick=True, log=said.append
    )
    assert [r["bench"]["name"] for r in reports] == ["mlp4-digits"]
    assert reports[0]["bench"]["epochs_run"] == 1
    assert any("mlp4-absent" in m and "skipped" in m and str(absent) in m for m in said)
    text = md.read_text()
    assert "mlp4-digits" in text and "Skipped" in text and "mlp4-absent" in text
    assert not (tmp_path / "out" / "runs" / "mlp4-absent").exists()


def _title_inside(fig) -> bool:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    box = fig._suptitle.get_window_extent(canvas.get_renderer())
    whole = fig.bbox
    return box.x0 >= whole.x0 and box.x1 <= whole.x1 and box.y1 <= whole.y1


@pytest.mark.parametrize("images", [True, False], ids=["images", "vectors"])
def test_edit_figure_title_fits_with_three_strengths(images):
    import torch

    from aekit.plots import plot_image_rows, plot_vector_strips

    strengths = [-2.0, 0.0, 2.0]
    # the title aekit.plots.kinds.edits writes, for a run with a long-ish name
    title = (
        "conv-mnist-5k-2026-11-30-0330 (conv, 16-D code)\nedited along the "
        "'smiling' vector (|v| = 3.21); strength 0 is the reconstruction"
    )
    if images:
        strips = [torch.rand(1 + len(strengths), 1, 28, 28) for _ in range(3)]
        fig = plot_image_rows(
            strips,
            ["input 1", "input 2", "input 3"],
            title=title,
            column_labels=["input", *[f"{v:+g}" for v in strengths]],
        )
    else:
        strips = [torch.rand(len(strengths), 13) for _ in range(3)]
        fig = plot_vector_strips(strips, ["a", "b", "c"], title=title)
    assert _title_inside(fig)
    assert "strength 0 is the reconstruction" in fig._suptitle.get_text().replace(
        "\n", " "
    )


def test_csv_column_names_label_the_heat_map(tmp_path):
    from aekit.data import load_dataset
    from aekit.plots import plot_vector_rows

    names = ["age", "height", "weight", "income"]
    rows = np.random.default_rng(0).normal(size=(20, 4))
    path = tmp_path / "people.csv"
    lines = [",".join([*names, "label"])]
    lines += [",".join([*map(str, r), str(i % 2)]) for i, r in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n")
    data = load_dataset(path)
    assert data.feature_names == tuple(names)  # the label column is not a feature
    assert data.subset([0, 1]).feature_names == tuple(names)

    fig = plot_vector_rows(
        [data.x[:5], data.x[:5]],
        ["input", "output"],
        title="t",
        feature_names=data.feature_names,
    )
    for ax in fig.axes[:2]:
        assert [t.get_text() for t in ax.get_xticklabels()] == names
    with pytest.raises(ValueError, match="3 feature names for 4 features"):
        plot_vector_rows([data.x[:5]], ["input"], title="t", feature_names=names[:3])

    headless = tmp_path / "plain.csv"
    headless.write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n")
    assert load_dataset(headless).feature_names is None
