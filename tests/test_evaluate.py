"""`aekit evaluate`, `detect` and `bench` on tiny runs: the streamed figures agree with
the same figures computed in one go, and the commands write what they promise."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from aekit.analysis import evaluation, metrics
from aekit.analysis.anomaly import reconstruction_errors
from aekit.analysis.evaluation import evaluate, run_splits
from aekit.data import load_dataset
from aekit.errors import AekitError
from aekit.interfaces.api import load_run, train
from aekit.interfaces.cli import main

FAST = {"probe": False, "compress": False}


@pytest.fixture(scope="module")
def conv_run(tmp_path_factory):
    """A denoising conv AE on the 8x8 digits, trained for two epochs."""
    out = tmp_path_factory.mktemp("runs") / "conv"
    train(
        "digits",
        "conv",
        latent_dim=4,
        channels=(4, 8),
        epochs=2,
        batch_size=64,
        noise="gaussian:0.2",
        out=out,
        pictures=False,
    )
    return out


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "vae"
    train(
        "digits",
        "vae",
        latent_dim=3,
        hidden=(16,),
        epochs=2,
        batch_size=64,
        out=out,
        pictures=False,
    )
    return out


@pytest.fixture(scope="module")
def conv_report(conv_run):
    return evaluate(conv_run, seed=0)


def test_streamed_reconstruction_figures_match_a_direct_computation(
    conv_run, conv_report
):
    run = load_run(conv_run)
    training, val = run_splits(run)
    with torch.no_grad():
        x_hat = run.model(val.x)
    overall = conv_report["reconstruction"]["overall"]
    assert overall["n"] == len(val) == 180
    assert overall["mse"] == pytest.approx(metrics.mse(val.x, x_hat), rel=1e-9)
    assert overall["mae"] == pytest.approx(metrics.mae(val.x, x_hat), rel=1e-9)
    assert overall["bce"] == pytest.approx(metrics.bce(val.x, x_hat), rel=1e-9)
    assert overall["ssim"] == pytest.approx(metrics.ssim(val.x, x_hat), rel=1e-9)
    assert overall["psnr"] == pytest.approx(metrics.psnr(val.x, x_hat), rel=1e-9)
    per_class = conv_report["reconstruction"]["per_class"]
    assert sorted(per_class) == [str(d) for d in range(10)]
    for label, row in per_class.items():
        mask = val.y == int(label)
        assert row["n"] == int(mask.sum())
        assert row["mse"] == pytest.approx(metrics.mse(val.x[mask], x_hat[mask]))
    baseline = conv_report["baseline"]
    expected = metrics.pca_reconstruction_mse(training.x, val.x, 4)
    assert baseline["pca_mse"] == pytest.approx(expected, rel=1e-5)
    assert baseline["mse_ratio"] == pytest.approx(overall["mse"] / expected, rel=1e-5)
    assert "validation" in conv_report["data"]["split"]


def test_batch_size_does_not_change_the_figures(conv_run, conv_report, monkeypatch):
    monkeypatch.setattr(evaluation, "BATCH", 50)  # four batches, the last short
    again = evaluate(conv_run, **FAST)
    for key in ("mse", "mae", "bce", "ssim"):
        assert again["reconstruction"]["overall"][key] == pytest.approx(
            conv_report["reconstruction"]["overall"][key], rel=1e-6
        )
    assert again["baseline"]["pca_mse"] == pytest.approx(
        conv_report["baseline"]["pca_mse"], rel=1e-6
    )


def test_denoising_section(conv_report):
    d = conv_report["denoising"]
    assert d["noise"] == "gaussian:0.2"
    assert d["noisy_psnr"] == pytest.approx(metrics.psnr_from_mse(d["noisy_mse"]))
    assert d["denoised_psnr"] == pytest.approx(metrics.psnr_from_mse(d["denoised_mse"]))


def test_compression_section(conv_run, conv_report):
    run = load_run(conv_run)
    _, val = run_splits(run)
    with torch.no_grad():
        decoded = run.model.decode(run.model.encode(val.x))
    c = conv_report["compression"]
    assert c["float32"]["mse"] == pytest.approx(metrics.mse(val.x, decoded), rel=1e-6)
    # 64 pixels of 8 bits, against 4 code dimensions of 32, 16 and 8 bits
    assert [c[p]["ratio"] for p in ("float32", "float16", "uint8")] == [4, 8, 16]
    assert [c[p]["bytes"] for p in ("float32", "float16", "uint8")] == [16, 8, 4]
    assert c["uint8"]["bits_per_pixel"] == 0.5
    assert c["uint8"]["mse"] >= 0.9 * c["float32"]["mse"]
    assert {"quality", "bits_per_pixel", "psnr"} <= set(c["uint8"]["jpeg"])


def test_probe_section_compares_codes_pca_and_raw(conv_report):
    codes = conv_report["codes"]
    assert codes["n_train"] == 1617 and codes["n_test"] == 180
    for name in ("model", "pca", "raw"):
        assert 0 <= codes[name]["kmeans_accuracy"] <= 1
    assert codes["raw"]["knn_accuracy"] > 0.8  # digits are easy in pixel space


def test_anomaly_auroc_matches_scikit_learn(conv_run):
    report = evaluate(conv_run, "digits", normal_classes="0-8", **FAST)
    assert report["data"]["n"] == 1797
    digits = load_dataset("digits")
    scores = reconstruction_errors(load_run(conv_run).model, digits.x)
    labels = (digits.y.numpy() == 9).astype(int)
    assert report["anomaly"]["n_anomalies"] == labels.sum()
    assert report["anomaly"]["auroc"] == pytest.approx(roc_auc_score(labels, scores))


def test_anomaly_labels_from_a_file_agree_with_normal_classes(conv_run, tmp_path):
    _, val = run_splits(load_run(conv_run))
    path = tmp_path / "labels.csv"
    path.write_text("anomaly\n" + "\n".join(str(int(v == 9)) for v in val.y) + "\n")
    by_file = evaluate(conv_run, anomaly_labels=path, **FAST)["anomaly"]
    by_class = evaluate(conv_run, normal_classes=list(range(9)), **FAST)["anomaly"]
    assert by_file["auroc"] == pytest.approx(by_class["auroc"])
    assert by_file["auprc"] == pytest.approx(by_class["auprc"])
    assert by_file["n_anomalies"] == int((val.y == 9).sum())


def test_vae_section(vae_run):
    report = evaluate(vae_run, k=20, nll_examples=30, **FAST)
    v = report["vae"]
    assert v["elbo"] == pytest.approx(-(v["recon"] + v["kl"]))
    assert (v["nll"]["k"], v["nll"]["n"]) == (20, 30)
    assert list(v["nll"]["by_k"]) == ["1", "10", "20"]
    assert v["nll"]["stderr"] > 0
    assert 0 <= v["active_units"] <= v["latent_dim"] == 3
    assert len(v["kl_per_dim"]) == 3
    assert v["nll_convention"] == "bernoulli-grey"  # digits are grey levels /16


def test_a_run_on_in_memory_data_needs_data_and_has_no_baseline(tmp_path):
    x = np.random.default_rng(0).random((40, 5)).astype(np.float32)
    run = train(
        x, "mlp", latent_dim=2, hidden=(4,), epochs=1, out=tmp_path, pictures=False
    )
    with pytest.raises(AekitError, match="--data"):
        evaluate(run, **FAST)
    report = evaluate(run, x, **FAST)
    assert report["data"]["n"] == 40 and "baseline" not in report
    assert report["reconstruction"]["overall"]["mse"] >= 0


def test_other_tasks_go_to_their_own_evaluation(conv_run, monkeypatch):
    import aekit
    from aekit.tasks import TASKS

    calls = []

    class Scored(type(TASKS["segment"])):
        def evaluate(self, run, data=None, **options):
            calls.append(options)
            return {"pixel_accuracy": 0.5}

    monkeypatch.setitem(TASKS, "segment", Scored())
    run = load_run(conv_run)
    run.record["task"] = "segment"
    assert aekit.evaluate(run, None, threshold=0.5) == {"pixel_accuracy": 0.5}
    assert calls == [{"threshold": 0.5}]


def test_the_autoencoder_suite_refuses_a_run_without_a_code(tmp_path):
    from aekit.data.demo import shape_pairs

    run = train(
        shape_pairs("test", n=4),
        task="segment",
        channels=(4, 8),
        epochs=1,
        batch_size=8,
        patch_size=16,
        patches_per_image=2,
        out=tmp_path / "s",
        pictures=False,
        report=False,
    )
    with pytest.raises(AekitError, match="segment run: its task scores it"):
        evaluate(run)


# -- the command line -----------------------------------------------------------------
def test_cli_evaluate_prints_a_table_and_writes_json(conv_run, tmp_path, capsys):
    out = tmp_path / "m.json"
    assert main(["evaluate", str(conv_run), "--out", str(out), "--no-probes"]) == 0
    report = json.loads(out.read_text())
    assert {"reconstruction", "baseline", "compression", "denoising"} <= set(report)
    shown = capsys.readouterr().out
    assert "PCA-4" in shown and "reconstruction" in shown and str(out) in shown


def test_cli_evaluate_writes_into_the_run_by_default(vae_run):
    args = ["evaluate", str(vae_run), "-k", "5", "--nll-examples", "10", "--no-probes"]
    assert main([*args, "--no-compression"]) == 0
    assert "vae" in json.loads((vae_run / "evaluation.json").read_text())


def test_cli_detect_writes_scores_and_flags(conv_run, tmp_path, capsys):
    inputs = tmp_path / "inputs.npz"
    digits = load_dataset("digits")
    np.savez(inputs, x=digits.scaling.to_source(digits.x[:20]))
    out = tmp_path / "scores.csv"
    args = ["detect", str(conv_run), str(inputs), "--out", str(out)]
    assert main([*args, "--threshold", "max"]) == 0
    rows = out.read_text().splitlines()
    assert rows[0] == "index,score,anomaly" and len(rows) == 21
    scores = np.array([float(r.split(",")[1]) for r in rows[1:]])
    expected = reconstruction_errors(load_run(conv_run).model, digits.x[:20])
    np.testing.assert_allclose(scores, expected, rtol=1e-6)
    assert "flagged" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["evaluate", "no-such-run"], "no such run directory"),
        (["evaluate", "RUN", "--normal-classes", "zero"], "normal classes"),
        (
            ["detect", "RUN", "digits", "--out", "s.csv", "--contamination", "2"],
            "in [0",
        ),
    ],
)
def test_cli_bad_input_is_one_line_and_status_2(conv_run, args, message, capsys):
    args = [str(conv_run) if a == "RUN" else a for a in args]
    assert main([*args, "--no-probes"] if args[0] == "evaluate" else args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_cli_bench_trains_evaluates_and_writes_markdown(tmp_path):
    config = {
        "name": "tiny-vae-digits",
        "data": {"source": "digits", "test": 200, "seed": 0},
        "model": "vae",
        "options": {"latent_dim": 2, "hidden": [16], "epochs": 1, "batch_size": 64},
        "evaluate": {"k": 10, "nll_examples": 20},
        "bars": {"nll_never_up": True, "max_mse_ratio_to_pca": 0.0},
    }
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "tiny.json").write_text(json.dumps(config))
    out = tmp_path / "bench"
    assert main(["bench", str(tmp_path / "configs"), "--out", str(out)]) == 0
    table = (out / "bench.md").read_text()
    assert "| tiny-vae-digits | vae | 2 |" in table and "Machine:" in table
    result = json.loads((out / "results" / "tiny-vae-digits.json").read_text())
    assert (
        result["data"]["n"] == 200 and result["data"]["n_train"] == 1437
    )  # 90% of 1597
    bars = {b["bar"]: b["passed"] for b in result["bench"]["bars"]}
    assert bars["MSE ratio to PCA <= 0.0"] is False  # an impossible bar fails
    assert "NLL estimate never goes up with k" in bars
