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
