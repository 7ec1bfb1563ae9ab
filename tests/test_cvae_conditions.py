"""Conditional runs through evaluation and sampling: `aekit evaluate` gives each
input its condition, `sample --condition` and `edit --to-condition` take the values
of the CSV columns a run is conditioned on, and bad values are refused in one line."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from torch import distributions as D

import aekit
from aekit.analysis import likelihood
from aekit.interfaces.cli import main
from aekit.models import build_model
from aekit.models.priors import standard_log_prob
from aekit.run import run_splits


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def label_run(cvae_run):
    return aekit.load_run(cvae_run)


@pytest.fixture
def attribute_run(attribute_csv, tmp_path):
    return aekit.train(
        str(attribute_csv),
        "cvae",
        out=tmp_path / "attr",
        condition="size,tint",
        epochs=150,  # 2 steps an epoch: 120 rows
        latent_dim=2,
        hidden=(32,),
        lr=3e-3,
        pictures=False,
        report=False,
    )


def test_evaluate_gives_a_conditional_run_every_section(label_run, tmp_path):
    out = tmp_path / "evaluation.json"
    assert main(["evaluate", str(label_run.path), "-k", "20", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert np.isfinite(report["vae"]["nll"]["nats"])
    nll = report["vae"]["nll"]
    assert nll["nats"] <= nll["by_k"]["1"]  # -L_20 <= -L_1 on the same examples
    assert report["codes"]["model"]["logistic_accuracy"] > 0.1  # probes ran
    # the condition travels with the code: ceil(log2 10) = 4 bits beside 4 floats
    assert report["compression"]["float32"]["bytes"] == (32 * 4 + 4) / 8
    assert report["compression"]["condition"] == "one of 10 labels, 4 bit(s)"
    assert report["samples"]["label_accuracy"] > 0.5


def test_the_right_label_explains_an_input_better_than_a_wrong_one(label_run):
    _, val = run_splits(label_run)
    x, y = val.x[:100], val.y[:100]
    right = likelihood.importance_weighted_nll(label_run.model, x, k=20, c=y)
    wrong = likelihood.importance_weighted_nll(label_run.model, x, k=20, c=(y + 1) % 10)
    assert right.nats < wrong.nats - 1.0


def test_sampling_follows_the_condition_values(attribute_run, tmp_path, capsys):
    big = aekit.sample(attribute_run, 200, condition="size=1,tint=0")
    small = aekit.sample(attribute_run, 200, condition={"size": 0, "tint": 0})
    assert big.shape == (200, 5)
    # the features were noise + 2 * size + tint: the samples move with size
    assert big.mean() - small.mean() > 1.0
    again = aekit.sample(attribute_run, 200, condition=[1, 0])
    np.testing.assert_array_equal(big, again)  # names or column order, same seed
    out = tmp_path / "s.npy"
    argv = ["sample", str(attribute_run.path), "-n", "7", "--out", str(out)]
    assert main([*argv, "--condition", "tint=-1,size=1"]) == 0
    assert np.load(out).shape == (7, 5)


def test_an_input_redrawn_under_other_values(attribute_run, attribute_csv, tmp_path):
    recon, redrawn = aekit.redraw_as(
        attribute_run, str(attribute_csv), condition="size=1,tint=0"
    )
    own = aekit.interfaces.api.load_inputs(attribute_run, str(attribute_csv)).c
    was_small = (own[:, 0] == 0).numpy()
    to_source = attribute_run.scaling.to_source
    shift = to_source(redrawn)[was_small].mean() - to_source(recon)[was_small].mean()
    assert shift > 1.0
    out = tmp_path / "edits.npy"
    argv = ["edit", str(attribute_run.path), str(attribute_csv), "--out", str(out)]
    assert main([*argv, "--to-condition", "size=0,tint=1"]) == 0
    assert np.load(out).shape == (120, 5)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "give their values: --condition size=V,tint=V"),
        (["--condition", "size=1"], "no 'tint'"),
        (["--condition", "size=1,tint=0,hue=2"], "unknown column 'hue'"),
        (["--condition", "size=1,tint=nan"], "must be finite"),
        (["--condition", "1,2,3"], "3 value(s) for 2 condition column(s)"),
        (["--condition", "size=big,tint=0"], "takes numbers"),
        (["--label", "1"], "not on labels; give --condition"),
    ],
)
def test_bad_condition_values_are_one_line(
    attribute_run, tmp_path, capsys, extra, message
):
    out = tmp_path / "s.npy"
    argv = ["sample", str(attribute_run.path), "-n", "3", "--out", str(out), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_condition_values_on_a_label_run_are_refused(label_run, tmp_path, capsys):
    out = tmp_path / "s.npy"
    argv = ["sample", str(label_run.path), "--condition", "a=1", "--out", str(out)]
    assert main(argv) == 2
    assert "not conditioned on CSV columns" in capsys.readouterr().err
    assert not out.exists()


def test_an_attribute_run_evaluates(attribute_run, attribute_csv):
    report = aekit.evaluate(attribute_run, k=10, nll_examples=20)
    assert np.isfinite(report["vae"]["nll"]["nats"])
    assert report["compression"]["condition"].startswith("2 attribute value(s)")
    # 5 features x 32 bits over (2 code + 2 attribute) x 32 bits
    assert report["compression"]["float32"]["ratio"] == pytest.approx(5 / 4)


def _model(prior: str = "conditional"):
    torch.manual_seed(0)
    return build_model("cvae", (6,), latent_dim=3, hidden=(8,), classes=4, prior=prior)


def test_the_conditional_prior_starts_as_the_standard_normal():
    model = _model()
    mu, logvar, c = torch.randn(5, 3), torch.randn(5, 3), torch.arange(5) % 4
    z = torch.randn(5, 3)
    torch.testing.assert_close(
        model.kl_divergence(z, mu, logvar, c), model.kl(mu, logvar)
    )
    torch.testing.assert_close(model.log_prior(z, c), standard_log_prob(z))


def test_the_conditional_prior_is_a_gaussian_per_class():
    model = _model()
    with torch.no_grad():
        model.prior_net.weight.normal_()
        model.prior_net.bias.normal_(0, 0.3)
    mu, logvar, c = (
        torch.randn(6, 3),
        torch.randn(6, 3),
        torch.tensor([0, 1, 2, 3, 1, 0]),
    )
    mean, v = model.prior_of(c, 6)
    prior = D.Independent(D.Normal(mean, torch.exp(0.5 * v)), 1)
    posterior = D.Independent(D.Normal(mu, torch.exp(0.5 * logvar)), 1)
    z = torch.randn(6, 3)
    with torch.no_grad():
        expected = D.kl_divergence(posterior, prior)
        torch.testing.assert_close(model.kl_divergence(z, mu, logvar, c), expected)
        torch.testing.assert_close(model.log_prior(z, c), prior.log_prob(z))
        # samples of class 2 follow N(m_2, e^v_2)
        codes = model.prior_codes(torch.randn(20000, 3), torch.full((20000,), 2))
    m2, s2 = mean[c == 2][0], torch.exp(0.5 * v[c == 2][0])
    torch.testing.assert_close(codes.mean(0), m2, atol=0.05, rtol=0.05)
    torch.testing.assert_close(codes.std(0), s2, atol=0.05, rtol=0.05)


def test_a_trained_conditional_prior_fits_the_posteriors_better(label_run):
    _, val = run_splits(label_run)
    model = label_run.model
    assert model.prior_net is not None  # the default for cvae
    with torch.no_grad():
        mu, logvar = model.encode_distribution(val.x, val.y)
        learned = model.kl_divergence(mu, mu, logvar, val.y).mean()
        standard = model.kl(mu, logvar).mean()
    assert learned < standard


def test_other_priors_keep_one_prior_for_every_class():
    model = _model("standard")
    assert model.prior_net is None
    eps = torch.randn(4, 3)
    torch.testing.assert_close(model.prior_codes(eps, torch.arange(4)), eps)


def test_the_conditional_prior_is_for_conditional_models(capsys):
    argv = ["train", "--data", "digits", "--model", "vae", "--prior", "conditional"]
    assert main(argv) == 2
    assert "for conditional models" in capsys.readouterr().err


def test_the_explorer_decodes_under_condition_values(attribute_run):
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from aekit.interfaces.explore import load_explorer
    from aekit.interfaces.explore.server import create_app

    explorer = load_explorer(attribute_run.path)
    client = TestClient(create_app(explorer), base_url="http://127.0.0.1:8000")
    info = client.get("/api/info").json()
    assert info["condition_columns"] == ["size", "tint"]
    assert 0 < info["condition_means"][0] < 1  # the share of size 1 in the data

    def decode(**extra):
        response = client.post("/api/decode", json={"point": [0.0, 0.0], **extra})
        return response.status_code, response.json()

    status, default = decode()
    assert status == 200
    big = np.asarray(decode(condition=[1.0, 0.0])[1]["values"])
    small = np.asarray(decode(condition=[0.0, 0.0])[1]["values"])
    assert big.mean() > small.mean()  # the features grow with size
    assert decode(condition=[1.0])[0] == 422
    assert decode(label=1)[0] == 422


def test_pictures_walk_the_prior_of_the_condition():
    from aekit.analysis import latent

    mean, std = torch.tensor([1.0, -2.0, 0.5]), torch.tensor([0.5, 2.0, 1.0])
    codes = torch.randn(50, 3)
    plane = latent.code_plane(
        codes, 4, variational=True, dims=(0, 1), prior=(mean, std)
    )
    q = torch.distributions.Normal(0, 1).icdf(torch.linspace(0.05, 0.95, 4))
    grid = plane.codes.reshape(4, 4, 3)  # rows top to bottom: v descending
    torch.testing.assert_close(grid[0, :, 0], 1.0 + 0.5 * q)
    torch.testing.assert_close(grid[:, 0, 1], (-2.0 + 2.0 * q).flip(0))
    assert torch.all(grid[..., 2] == 0.5)  # the other dimension at the prior's mean
    values = latent.traversal_values(codes, [1], 3, variational=True, prior=(mean, std))
    torch.testing.assert_close(values[0], torch.tensor([-8.0, -2.0, 4.0]))  # +-3 sd


def test_the_api_paths_of_a_conditional_run(label_run):
    from aekit.analysis import latent

    model = label_run.model
    mean, std = latent.prior_moments(label_run, torch.tensor([3]))
    with torch.no_grad():
        expected_mean, logvar = model.prior_of(torch.tensor([3]), 1)
    torch.testing.assert_close(mean, expected_mean[0])
    torch.testing.assert_close(std, torch.exp(0.5 * logvar[0]))
    paths = aekit.interpolate(label_run, "digits", "digits", steps=4)
    assert paths.shape == (1797, 4, 8, 8) and np.isfinite(paths).all()
    sweep = aekit.traverse(label_run, "digits", dims=[0, 1], steps=5)
    assert sweep.shape == (2, 5, 8, 8) and np.isfinite(sweep).all()


def test_a_run_conditioned_on_columns_draws_its_pictures(attribute_run, tmp_path):
    from aekit.analysis.plots.samples import _first_distinct

    rows = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 2.0], [1.0, 0.0], [3.0, 1.0]])
    torch.testing.assert_close(_first_distinct(rows, 2), rows[[0, 2]])
    run = str(attribute_run.path)
    for kind in ("samples", "latent", "interpolate", "traverse", "reconstructions"):
        out = tmp_path / f"{kind}.png"
        assert main(["plot", run, kind, "--out", str(out)]) == 0, kind
        assert out.stat().st_size > 0
    assert main(["report", run, "--out", str(tmp_path / "report.html")]) == 0


def test_decode_takes_the_condition(attribute_run, attribute_csv, tmp_path, capsys):
    run, codes = str(attribute_run.path), tmp_path / "codes.npy"
    assert main(["encode", run, str(attribute_csv), "--out", str(codes)]) == 0
    out = {v: tmp_path / f"size{v}.npy" for v in (0, 1)}
    for v, path in out.items():
        argv = ["decode", run, str(codes), "--condition", f"size={v},tint=0"]
        assert main([*argv, "--out", str(path)]) == 0
    assert np.load(out[1]).mean() - np.load(out[0]).mean() > 1.0
    bare = tmp_path / "bare.npy"
    assert main(["decode", run, str(codes), "--out", str(bare)]) == 2
    assert "say what to decode as, --condition" in capsys.readouterr().err
    assert not bare.exists()


@pytest.mark.parametrize(
    ("name", "body", "layers"),
    [("cvae", {"hidden": (32, 16)}, 1), ("conv-cvae", {"channels": (4, 8)}, 2)],
)
def test_every_decoder_layer_sees_the_condition(name, body, layers):
    def decoded(decoder_condition: str) -> tuple[torch.Tensor, torch.Tensor]:
        torch.manual_seed(0)
        model = build_model(
            name,
            (1, 8, 8),
            latent_dim=2,
            classes=3,
            decoder_condition=decoder_condition,
            **body,
        )
        model.eval()
        with torch.no_grad():
            model.from_code.weight[:, 2:] = 0  # no condition beside the code
            z = torch.randn(1, 2)
            return model.decode(z, torch.tensor([0])), model.decode(
                z, torch.tensor([2])
            )

    assert not torch.allclose(*decoded("every"))  # the later layers still see c
    torch.testing.assert_close(*decoded("input"))
    model = build_model(name, (1, 8, 8), latent_dim=2, classes=3, **body)
    assert len(model.condition_out) == layers  # the default: every hidden layer


def test_runs_from_before_the_decoder_condition_load_as_they_trained(cvae_run):
    from aekit.models import model_from_record

    record = json.loads((cvae_run / "config.json").read_text())["model"]
    del record["config"]["decoder_condition"]
    model = model_from_record(record)
    assert model.condition_out is None and model.config.decoder_condition == "input"


def test_detect_scores_each_input_under_its_own_label(label_run):
    result = aekit.detect(label_run, "digits")
    data = aekit.interfaces.api.load_inputs(label_run, "digits")
    with torch.no_grad():
        own = (label_run.model(data.x, data.y) - data.x).pow(2).flatten(1).mean(1)
    np.testing.assert_allclose(result["scores"], own.double().numpy(), rtol=1e-5)
    assert result["anomaly"].shape == (1797,)
