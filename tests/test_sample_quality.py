"""The sample-quality number: Fréchet distance, cached classifier, evaluate hook."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit.analysis import sample_quality
from aekit.analysis.evaluation import evaluate
from aekit.analysis.sample_quality import frechet_distance
from aekit.interfaces import api
from aekit.interfaces.cli import main
from aekit.run import run_splits

torch.set_num_threads(1)


def test_frechet_is_zero_for_identical_sets_and_grows_with_a_shift():
    a = np.random.default_rng(0).normal(size=(500, 6))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    distances = [frechet_distance(a, a + s) for s in (0.1, 0.5, 1.0, 2.0)]
    assert distances == sorted(distances) and distances[0] > 0
    # equal covariances: the distance is the squared shift of the means
    assert distances[2] == pytest.approx(6 * 1.0**2, rel=1e-6)


def test_frechet_matches_the_closed_form_for_scaled_gaussians():
    a = np.random.default_rng(1).normal(size=(4000, 3))
    b = 2.0 * a  # covariance 4 S: Tr(S + 4S - 2 * 2S) = Tr(S); mean 2 mu
    expected = np.trace(np.cov(a, rowvar=False)) + (a.mean(0) ** 2).sum()
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)


def test_frechet_refuses_mismatched_features():
    with pytest.raises(ValueError, match="differ"):
        frechet_distance(np.zeros((3, 2)), np.zeros((3, 4)))


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "mlp"
    return api.train(
        "digits", "mlp", out=out, epochs=1, hidden=(32,), latent_dim=4,
        pictures=False, report=False,
    )  # fmt: skip


def test_scores_a_run_and_caches_its_classifier(mlp_run):
    train, val = run_splits(mlp_run)
    first = sample_quality.sample_quality(mlp_run, train, val)
    assert first["n"] == len(val)
    assert first["frechet"] > 0 and first["frechet_train"] >= 0
    assert first["classifier_accuracy"] > 0.8  # 8x8 digits are easy
    assert "label_accuracy" not in first  # not conditional
    weights = mlp_run.path / "sample_quality" / "classifier.safetensors"
    stamp = weights.stat().st_mtime_ns
    again = sample_quality.sample_quality(mlp_run, train, val)
    assert weights.stat().st_mtime_ns == stamp  # loaded, not trained again
    assert again == first


def test_conditional_runs_get_the_accuracy_on_their_asked_labels(mlp_run, monkeypatch):
    train, val = run_splits(mlp_run)
    # stand in for a conditional run: "samples" are held-out digits of the asked
    # labels, so the label accuracy is the classifier's accuracy on them
    order = torch.argsort(val.y)
    asked = val.y[order]
    monkeypatch.setattr(
        sample_quality,
        "_draw",
        lambda run, n, seed, test: (val.x[order][:n], asked[:n]),
    )
    out = sample_quality.sample_quality(mlp_run, train, val)
    assert out["label_accuracy"] == pytest.approx(out["classifier_accuracy"])


def test_unscorable_runs_say_why(mlp_run):
    train, val = run_splits(mlp_run)
    unlabelled = val.subset(slice(None))
    unlabelled.y = None
    out = sample_quality.sample_quality(mlp_run, train, unlabelled)
    assert "labelled" in out["skipped"]


def test_evaluate_reports_samples_and_the_cli_prints_them(mlp_run, capsys):
    report = evaluate(mlp_run, nll_examples=10, probe=False, compress=False)
    assert report["samples"]["frechet"] > 0
    skipped = evaluate(mlp_run, probe=False, compress=False, samples=False)
    assert "samples" not in skipped
    code = main(["evaluate", str(mlp_run.path), "--no-probes", "--no-compression"])
    assert code == 0 and "Fréchet distance" in capsys.readouterr().out


def test_a_vqvae_without_its_prior_is_skipped(tmp_path):
    run = api.train(
        "digits", "vq-vae", out=tmp_path / "vq", epochs=1, channels=(8, 16),
        codebook_size=8, code_dim=4, fit_prior=False, pictures=False, report=False,
    )  # fmt: skip
    train, val = run_splits(run)
    out = sample_quality.sample_quality(run, train, val)
    assert "fit-prior" in out["skipped"]
