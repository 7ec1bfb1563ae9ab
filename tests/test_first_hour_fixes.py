"""Issue 14, "the first hour": what a new user hits in their first runs."""

from __future__ import annotations

import numpy as np
import pytest

from aekit.analysis import latent


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
    from aekit.data.io import write_json
    from aekit.interfaces.bench import find_configs, run_bench

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

    from aekit.analysis.plots import plot_image_rows, plot_vector_strips

    strengths = [-2.0, 0.0, 2.0]
    # the title aekit.analysis.plots.kinds.edits writes, for a run with a long-ish name
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
    from aekit.analysis.plots import plot_vector_rows
    from aekit.data import load_dataset

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


# -- short conv runs learn: norms in the conv body, a warm-up in the schedule ----------
def _factors(**config):
    import torch

    from aekit.training.loop import TrainConfig
    from aekit.training.optim import make_scheduler

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = make_scheduler(opt, TrainConfig(**config), steps_per_epoch=10)
    out = []
    for _ in range(config.get("epochs", 1) * 10):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return np.array(out)


def test_warmup_rises_linearly_then_follows_the_schedule():
    import math

    lr = _factors(epochs=10, warmup_steps=20, schedule="cosine")  # 100 steps
    np.testing.assert_allclose(lr[:20], np.arange(1, 21) / 21)
    assert lr[20] == pytest.approx(1.0)  # the peak right after the warm-up
    assert np.all(np.diff(lr[20:]) <= 0) and lr[-1] < 1e-3  # cosine down to ~0
    assert lr[60] == pytest.approx(0.5 * (1 + math.cos(math.pi * 40 / 80)))
    constant = _factors(epochs=10, warmup_steps=20, schedule="constant")
    assert np.all(constant[20:] == 1.0) and constant[0] < 0.1
    # no warm-up: the cosine schedule of runs before warmup_steps existed
    old = _factors(epochs=10, warmup_steps=0, schedule="cosine")
    np.testing.assert_allclose(old, 0.5 * (1 + np.cos(np.pi * np.arange(100) / 100)))
    # a warm-up longer than a short run is capped at a third of it
    short = _factors(epochs=3, warmup_steps=1000)
    assert short.max() == pytest.approx(1.0) and np.argmax(short) == 10


def test_warmup_steps_must_not_be_negative():
    from aekit.errors import AekitError
    from aekit.training.loop import TrainConfig

    with pytest.raises(AekitError, match="warmup"):
        TrainConfig(warmup_steps=-1)


@pytest.mark.parametrize("norm", ["group", "batch"])
def test_conv_norms_are_in_the_body_and_group_norm_ignores_the_batch(norm):
    import torch

    from aekit.models import build_model

    torch.manual_seed(0)
    model = build_model("conv", (1, 16, 16), latent_dim=4, channels=(8, 16), norm=norm)
    kind = torch.nn.GroupNorm if norm == "group" else torch.nn.BatchNorm2d
    assert sum(isinstance(m, kind) for m in model.modules()) == 4  # 2 down, 2 up
    x = torch.rand(6, 1, 16, 16)
    model.train()
    loss = model.loss(x, x)["loss"]
    loss.backward()
    assert torch.isfinite(loss)
    if norm == "group":  # the same code for an example alone or in any batch
        with torch.no_grad():
            model.train()
            together = model.encode(x)
            model.eval()
            alone = torch.cat([model.encode(x[i : i + 1]) for i in range(6)])
        torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-5)


def test_conv_without_norm_keeps_the_old_checkpoint_layout():
    """norm "none" and decoder_start "zero" are the conv body of runs made before
    either existed: same parameter names and shapes, so their weights still load."""
    import torch

    from aekit.models import build_model

    old_keys = {  # aekit before issue 14, conv with channels (8, 16), code 4
        "body.down.0.0.weight": (8, 1, 3, 3),
        "body.down.0.0.bias": (8,),
        "body.down.1.0.weight": (16, 8, 3, 3),
        "body.down.1.0.bias": (16,),
        "body.up.0.conv.weight": (8, 8, 4, 4),
        "body.up.0.conv.bias": (8,),
        "body.up.1.conv.weight": (16, 8, 4, 4),
        "body.up.1.conv.bias": (8,),
        "body.head_out.weight": (1, 8, 3, 3),
        "body.head_out.bias": (1,),
        "to_code.weight": (4, 256),
        "to_code.bias": (4,),
        "from_code.weight": (256, 4),
        "from_code.bias": (256,),
    }
    torch.manual_seed(0)
    model = build_model(
        "conv",
        (1, 16, 16),
        latent_dim=4,
        channels=(8, 16),
        norm="none",
        decoder_start="zero",
    )
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == old_keys


# -- --sparsity that kills the code is flagged --------------------------------------
def test_dead_code_units_counts_units_that_do_not_vary():
    import torch

    from aekit.analysis.diagnostics import dead_code_units

    rng = np.random.default_rng(0)
    z = rng.normal(0, 2.0, (200, 6))
    z[:, [1, 4]] = 0.7 + rng.normal(0, 1e-3, (200, 2))  # constant, whatever the input
    assert dead_code_units(z) == 2
    assert dead_code_units(torch.from_numpy(z).float()) == 2
    assert dead_code_units(z, tol=1e-6) == 0
    with pytest.raises(ValueError, match=r"\(N, d\)"):
        dead_code_units(z[0])
    with pytest.raises(ValueError, match="NaN"):
        dead_code_units(np.full((3, 2), np.nan))


def test_a_sparsity_collapsed_run_is_flagged_and_a_normal_one_is_not():
    import torch

    from aekit.analysis.diagnostics import dead_code_units
    from aekit.data import load_dataset
    from aekit.models import build_model
    from aekit.training.loop import TrainConfig, fit

    data = load_dataset("mnist-5k")
    train, val = data.subset(range(1000)), data.subset(range(1000, 1200))
    dead = {}
    for sparsity in (0.0, 0.1):
        torch.manual_seed(0)
        model = build_model(
            "mlp", (1, 28, 28), latent_dim=8, hidden=(128,), sparsity=sparsity
        )
        fit(model, train, val, TrainConfig(epochs=5, device="cpu", precision="fp32"))
        model.eval()
        with torch.no_grad():
            dead[sparsity] = dead_code_units(model.encode(val.x))
    assert dead == {0.0: 0, 0.1: 8}


def test_cosine_floor_starts_at_lr_and_ends_at_a_tenth_of_it():
    from aekit.training.config import COSINE_FLOOR, TrainConfig

    lr = _factors(epochs=10, schedule="cosine-floor")  # 100 steps
    assert lr[0] == pytest.approx(1.0)
    assert np.all(np.diff(lr) <= 0) and np.all(lr >= COSINE_FLOOR)
    cosine = 0.5 * (1 + np.cos(np.pi * np.arange(100) / 100))
    np.testing.assert_allclose(lr, COSINE_FLOOR + (1 - COSINE_FLOOR) * cosine)
    assert lr[-1] == pytest.approx(COSINE_FLOOR, abs=1e-3)
    # after a warm-up it peaks at lr, then falls to the floor
    warm = _factors(epochs=10, schedule="cosine-floor", warmup_steps=20)
    assert warm[0] < 0.1 and warm[20] == pytest.approx(1.0)
    assert warm[-1] == pytest.approx(COSINE_FLOOR, abs=1e-3)
    assert TrainConfig(schedule="cosine-floor").schedule == "cosine-floor"


def test_cosine_floor_run_records_its_schedule_and_ends_at_the_floor(tmp_path):
    from aekit.interfaces import api

    data = np.random.default_rng(0).random((64, 6)).astype("float32")
    run = api.train(
        data,
        "mlp",
        out=tmp_path / "run",
        epochs=2,
        schedule="cosine-floor",
        lr=1e-2,
        pictures=False,
        report=False,
    )
    assert run.train_config.schedule == "cosine-floor"
    assert run.history.rows[-1]["lr"] == pytest.approx(1e-3)
