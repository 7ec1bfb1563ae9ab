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
    spread = max(np.linalg.norm(a - a.mean(0), axis=1).max(),
                 np.linalg.norm(b - b.mean(0), axis=1).max())
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
