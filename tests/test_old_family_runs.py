"""Runs written before the model families moved into sub-packages (models/vae/,
models/sequence/, ...) still load and give the numbers they gave then: the run names
its model by registry name, so moving a family's modules must not touch a run."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import aekit
from aekit.interfaces.cli import main

OLD = Path(__file__).parent / "data" / "family_runs"
VECTOR = ("cvae", "beta-tc-vae", "vae-gan", "wae", "aae")
SEQUENCE = ("lstm", "conv1d")


@pytest.fixture(scope="module")
def expected():
    with np.load(OLD / "expected.npz") as f:
        return dict(f)


@pytest.fixture(scope="module")
def old(tmp_path_factory):
    """A copy of the old runs: reading them must not need to write beside them."""
    copy = tmp_path_factory.mktemp("family") / "runs"
    shutil.copytree(OLD, copy)
    return copy


def test_configs_name_no_module(old):
    for run in (*VECTOR, *SEQUENCE, "segnet"):
        assert "aekit." not in (old / run / "config.json").read_text()


@pytest.mark.parametrize("run", VECTOR)
def test_vector_families_as_before(old, expected, run):
    x, c = expected["digits"], (expected["labels"] if run == "cvae" else None)
    np.testing.assert_allclose(
        aekit.reconstruct(old / run, x, c=c), expected[f"{run}_reconstruct"], atol=1e-5
    )
    np.testing.assert_allclose(
        aekit.encode(old / run, x, c=c), expected[f"{run}_encode"], atol=1e-5
    )
    label = {"label": 3} if run == "cvae" else {}
    np.testing.assert_allclose(
        aekit.sample(old / run, 4, seed=0, **label),
        expected[f"{run}_sample"],
        atol=1e-5,
    )


@pytest.mark.parametrize("run", SEQUENCE)
def test_sequence_families_as_before(old, expected, run):
    w = expected["windows"]
    np.testing.assert_allclose(
        aekit.reconstruct(old / run, w), expected[f"{run}_reconstruct"], atol=1e-5
    )
    np.testing.assert_allclose(
        aekit.encode(old / run, w), expected[f"{run}_encode"], atol=1e-5
    )


def test_segnet_as_before(old, expected):
    out = np.stack(aekit.segment(old / "segnet", expected["images"]))
    np.testing.assert_array_equal(out, expected["segnet"])


def test_old_wae_info_through_the_cli(old, capsys):
    assert main(["info", str(old / "wae")]) == 0
    assert "wae" in capsys.readouterr().out
