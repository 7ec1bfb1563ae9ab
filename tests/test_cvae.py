"""The conditional VAE (cvae, conv-cvae): training on labels or CSV attribute columns,
sampling by label, redrawing under another label, the posterior as a distribution,
the explorer's class selector, and one-line refusals of bad input."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

import aekit
import aekit.interfaces.api
from aekit.errors import AekitError
from aekit.interfaces.cli import main
from aekit.models import build_model


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def classifier():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    digits = load_digits()
    return LogisticRegression(max_iter=2000).fit(digits.data, digits.target)


def test_samples_of_each_label_are_classified_as_that_label(cvae_run, classifier):
    hits = []
    for label in range(10):
        x = aekit.sample(cvae_run, 30, label=label, seed=label)
        hits.append(classifier.predict(x.reshape(30, -1)) == label)
    accuracy = float(np.mean(hits))
    assert accuracy > 0.6, accuracy  # chance is 0.1


def test_the_run_records_its_condition_and_classes(cvae_run):
    record = json.loads((cvae_run / "config.json").read_text())
    assert record["data"]["condition"] == "label"
    assert record["data"]["n_classes"] == 10
    assert record["model"]["config"]["classes"] == 10
    run = aekit.load_run(cvae_run)
    assert run.capabilities.conditional and run.capabilities.posterior


def test_redrawing_an_input_as_another_label(cvae_run, classifier):
    from aekit.analysis.attributes import redraw_as

    data = aekit.interfaces.api.load_inputs(aekit.load_run(cvae_run), "digits")
    threes = data.subset(np.flatnonzero(data.y.numpy() == 3)[:20])
    recon, sevens = redraw_as(cvae_run, threes, 7)  # their own labels: 3
    assert recon.shape == sevens.shape == (20, 1, 8, 8)
    assert np.mean(classifier.predict(sevens.reshape(20, -1) * 16) == 7) > 0.6


def test_posterior_statistics_and_stochastic_reconstructions(cvae_run, tmp_path):
    stats = tmp_path / "stats.npz"
    args = ["encode", str(cvae_run), "digits", "--stats", "--out", str(stats)]
    assert main(args) == 0
    with np.load(stats) as f:
        assert f["mu"].shape == f["logvar"].shape == (1797, 4)
    out = tmp_path / "rec.npy"
    args = ["reconstruct", str(cvae_run), "digits", "--samples", "3", "--out", str(out)]
    assert main(args) == 0
    rec = np.load(out)
    assert rec.shape == (1797, 3, 8, 8)
    assert not np.allclose(rec[:, 0], rec[:, 1])  # each from its own draw of z
    mu, _ = aekit.interfaces.api.encode_stats(cvae_run, "digits")
    assert np.allclose(mu, aekit.encode(cvae_run, "digits"), atol=1e-6)


def test_sample_and_edit_commands(cvae_run, tmp_path, capsys):
    png = tmp_path / "sevens.png"
    args = ["sample", str(cvae_run), "--label", "7", "-n", "16", "--out", str(png)]
    assert main(args) == 0 and png.stat().st_size > 0
    npy = tmp_path / "all.npy"
    assert main(["sample", str(cvae_run), "-n", "20", "--out", str(npy)]) == 0
    assert "every class" in capsys.readouterr().out
    assert np.load(npy).shape == (20, 8, 8)
    edit = tmp_path / "edit.png"
    args = ["edit", str(cvae_run), "digits", "--to-label", "7", "--out", str(edit)]
    assert main(args) == 0 and edit.stat().st_size > 0


def _one_line_error(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


def test_bad_input_is_one_line_and_exit_2(cvae_run, tmp_path, capsys):
    out = str(tmp_path / "x.npy")
    _one_line_error(
        capsys,
        ["sample", str(cvae_run), "--label", "99", "-n", "4", "--out", out],
        "outside the run's classes",
    )
    _one_line_error(
        capsys,
        ["edit", str(cvae_run), "digits", "--to-label", "10", "--out", out],
        "outside the run's classes",
    )
    _one_line_error(
        capsys,
        ["train", "--data", "digits", "--model", "mlp", "--tc-weight", "2"],
        "takes no option(s) --tc-weight",
    )
    _one_line_error(
        capsys,
        ["train", "--data", "digits", "--model", "cvae", "--prior", "vamp:0"],
        "needs K >= 1",
    )


def test_conditions_are_checked_by_the_model():
    model = build_model("cvae", (6,), latent_dim=2, hidden=(8,), classes=3)
    x = torch.rand(4, 6)
    with pytest.raises(AekitError, match="needs a condition"):
        model.loss(x, x)
    with pytest.raises(AekitError, match="outside the model's classes"):
        model.loss(x, x, torch.tensor([0, 1, 2, 3]))
    # the decoder sees the class: one code decodes differently under two labels
    z = torch.zeros(1, 2)
    assert not torch.allclose(model.decode(z, torch.tensor([0])), model.decode(z, [1]))


def test_conv_cvae_trains_and_samples(tmp_path):
    run = aekit.train(
        "digits",
        "conv-cvae",
        out=tmp_path / "conv",
        epochs=1,
        latent_dim=2,
        channels=(4, 8),
        pictures=False,
        report=False,
    )
    assert aekit.sample(run, 5, label=2).shape == (5, 8, 8)


def test_condition_on_csv_columns(attribute_csv, tmp_path):
    run = aekit.train(
        str(attribute_csv),
        "cvae",
        out=tmp_path / "attr",
        condition="size,tint",
        epochs=2,
        latent_dim=2,
        hidden=(16,),
        pictures=False,
        report=False,
    )
    assert run.sample_shape == (5,)  # the condition columns left the features
    assert run.record["data"]["condition"] == ["size", "tint"]
    assert run.model.config.attributes == 2
    data = aekit.interfaces.api.load_inputs(run, str(attribute_csv))
    assert data.c.shape == (120, 2) and data.x.shape == (120, 5)
    assert set(np.unique(data.c[:, 0].numpy())) == {0.0, 1.0}  # source units
    assert aekit.encode(run, str(attribute_csv)).shape == (120, 2)
    again = aekit.load_run(run.path)
    x = aekit.reconstruct(again, str(attribute_csv))
    assert x.shape == (120, 5)


def test_conditions_that_do_not_fit_are_refused(attribute_csv, tmp_path):
    with pytest.raises(AekitError, match="no feature column named 'colour'"):
        aekit.train(str(attribute_csv), "cvae", condition="colour", epochs=1)
    with pytest.raises(AekitError, match="applies to conditional models"):
        aekit.train(str(attribute_csv), "mlp", condition="size", epochs=1)
    with pytest.raises(AekitError, match="has no labels"):
        aekit.train(str(attribute_csv), "cvae", epochs=1)


def test_explorer_class_selector(cvae_run):
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from aekit.interfaces.explore import load_explorer
    from aekit.interfaces.explore.server import create_app

    client = TestClient(
        create_app(load_explorer(cvae_run)), base_url="http://127.0.0.1:8000"
    )
    info = client.get("/api/info").json()
    assert info["conditional"] and info["n_classes"] == 10
    one = client.post("/api/decode", json={"code": [0, 0, 0, 0], "label": 1}).json()
    eight = client.post("/api/decode", json={"code": [0, 0, 0, 0], "label": 8}).json()
    assert one["image"] != eight["image"]
    bad = client.post("/api/decode", json={"point": [0, 0], "label": 12})
    assert bad.status_code == 422 and "outside" in bad.json()["error"]
    assert client.post("/api/item", json={"index": 3}).status_code == 200
    assert 'id="class"' in client.get("/").text


@pytest.mark.parametrize("name", ["cvae", "conv-cvae"])
def test_every_conditional_vae_overfits_one_small_batch(name):
    torch.manual_seed(0)
    kw = {"channels": (16, 32)} if name.startswith("conv") else {"hidden": (64,)}
    kw |= {"beta": 0.0, "likelihood": "gaussian", "sigma": 0.05}
    model = build_model(name, (1, 8, 8), latent_dim=8, **kw)
    x, c = (torch.rand(8, 1, 8, 8) > 0.5).float(), torch.arange(8) % 10
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(400):
        optimizer.zero_grad()
        model.loss(x, x, c)["loss"].backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        assert float(((model(x, c) - x) ** 2).mean()) < 0.02


def test_cvae_exports_with_its_condition(cvae_run, tmp_path):
    pytest.importorskip("onnxruntime")
    meta = aekit.export_onnx(cvae_run, tmp_path / "onnx")
    assert all(g["condition"] == "c" for g in meta["graphs"].values())
    assert all(g["max_abs_diff"] <= 1e-5 for g in meta["graphs"].values())


def test_a_conditional_run_draws_every_picture(tmp_path):
    torch.set_num_threads(1)
    run = aekit.train(
        "digits", "cvae", out=tmp_path / "pics", epochs=1, latent_dim=2, hidden=(32,)
    )
    for kind in ("reconstructions", "latent", "manifold", "interpolate", "traverse"):
        assert (run.path / f"{kind}.png").is_file(), kind
    assert (run.path / "samples.png").is_file()  # one row per class
