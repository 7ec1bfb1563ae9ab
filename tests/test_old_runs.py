"""Runs written by an older aekit (before the one-package-per-layer move) still load
and give the numbers they gave then: config.json names models by registry name, so
moving modules must not touch a run directory."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import aekit
from aekit.interfaces.cli import main

OLD = Path(__file__).parent / "data" / "old_runs"
RUNS = ("vae", "conv", "vq-vae", "colorize")


@pytest.fixture(scope="module")
def expected():
    with np.load(OLD / "expected.npz") as f:
        return dict(f)


@pytest.fixture
def old(tmp_path):
    """A copy of the old runs: reading them must not need to write beside them."""
    shutil.copytree(OLD, tmp_path / "old_runs")
    return tmp_path / "old_runs"


def test_config_names_no_module(old):
    for run in RUNS:
        assert "aekit." not in (old / run / "config.json").read_text()


@pytest.mark.parametrize("run", RUNS)
def test_info(old, run, capsys):
    assert main(["info", str(old / run), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["model"] == ("unet" if run == "colorize" else run)
    assert info["task"] == ("colorize" if run == "colorize" else "reconstruct")


@pytest.mark.parametrize("run", ["vae", "conv", "vq-vae"])
def test_reconstruct_and_encode_as_before(old, expected, run, tmp_path):
    x = expected["digits"]
    np.testing.assert_allclose(
        aekit.reconstruct(old / run, x), expected[f"{run}_reconstruct"], atol=1e-5
    )
    np.testing.assert_allclose(
        aekit.encode(old / run, x), expected[f"{run}_encode"], atol=1e-5
    )
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "out.npy"
    assert (
        main(
            ["reconstruct", str(old / run), str(tmp_path / "x.npy")]
            + ["--out", str(out)]
        )
        == 0
    )
    assert np.load(out).shape == expected[f"{run}_reconstruct"].shape


@pytest.mark.parametrize("run", ["vae", "conv"])
def test_sample_as_before(old, expected, run, tmp_path):
    np.testing.assert_allclose(
        aekit.sample(old / run, 4, seed=0), expected[f"{run}_sample"], atol=1e-5
    )
    out = tmp_path / "samples.npy"
    assert main(["sample", str(old / run), "-n", "4", "--out", str(out)]) == 0
    np.testing.assert_allclose(np.load(out), expected[f"{run}_sample"], atol=1e-5)


def test_vq_vae_without_prior_says_so(old):
    with pytest.raises(aekit.AekitError, match="no fitted prior"):
        aekit.sample(old / "vq-vae", 4)


def test_colorize_as_before(old, expected):
    out = np.stack(aekit.colorize(old / "colorize", expected["images"]))
    assert np.abs(out.astype(int) - expected["colorize"]).max() <= 1


def test_an_sae_run_saved_before_its_input_scale_loads_unscaled(old):
    """The SAE's input_scale came later: a run without it loads with s = 1 and
    encodes and reconstructs exactly as the code that wrote it did."""
    with np.load(OLD / "sae_expected.npz") as f:
        want = dict(f)
    with np.load(OLD / "expected.npz") as f:
        x = f["digits"]
    run = aekit.load_run(old / "sae")
    assert float(run.model.input_scale) == 1.0
    np.testing.assert_allclose(
        aekit.reconstruct(old / "sae", x), want["sae_reconstruct"], atol=1e-6
    )
    np.testing.assert_allclose(
        aekit.encode(old / "sae", x), want["sae_encode"], atol=1e-6
    )
