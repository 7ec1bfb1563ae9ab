"""Sparse autoencoders: the four families' codes, unit-norm dictionaries, JumpReLU's
straight-through threshold, AuxK and resampling of dead latents, the geometric
median start, feature recovery on toy data, and runs through `aekit train`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from aekit.analysis.sae_metrics import feature_recovery, sparsity_metrics
from aekit.data.superposition import superposition
from aekit.interfaces.cli import main
from aekit.models import build_model, model_from_record, model_record
from aekit.models.sae.activations import geometric_median
from aekit.training.checkpoint import load_weights, save_weights

torch.set_num_threads(1)


def sae(family="topk", width=8, **kw):
    torch.manual_seed(0)
    return build_model("sae", (width,), sae=family, **kw)


@pytest.mark.parametrize("family", ["relu-l1", "topk", "batch-topk", "jumprelu"])
def test_each_family_codes_are_sparse_and_the_dictionary_unit_norm(family):
    model = sae(family, latent_dim=32, **({"k": 3} if "topk" in family else {}))
    x = torch.randn(16, 8)
    model.train()
    terms = model.loss(x, x)
    assert {"loss", "mse", "fvu", "l0"} <= set(terms)
    terms["loss"].backward()
    assert model.W_enc.grad.abs().sum() > 0 and model.W_dec.grad.abs().sum() > 0
    norms = model.dictionary().norm(dim=0)
    assert torch.allclose(norms, torch.ones(32), atol=1e-5)
    model.eval()
    with torch.no_grad():
        f = model.encode(x)
    assert f.shape == (16, 32) and (f >= 0).all()
    if family == "topk":
        assert ((f > 0).sum(1) <= 3).all() and (f > 0).sum() > 16
    if family == "batch-topk":  # k * B active over the batch while training
        with torch.no_grad():
            model.train()
            assert int((model.encode(x) > 0).sum()) <= 3 * 16


def test_batch_topk_infers_with_the_learnt_floor():
    model = sae("batch-topk", latent_dim=32, k=2)
    x = torch.randn(64, 8)
    model.train()
    for _ in range(300):  # the EMA of the smallest kept activation settles
        with torch.no_grad():
            model.encode(x)
    model.eval()
    with torch.no_grad():
        l0 = float((model.encode(x) > 0).float().sum(1).mean())
    assert 1.0 <= l0 <= 4.0  # about k per row, now per input not per batch


def test_jumprelu_threshold_learns_through_the_straight_through_kernel():
    model = sae("jumprelu", latent_dim=16, threshold=0.5, bandwidth=2.0)
    x = torch.randn(32, 8)
    model.train()
    terms = model.loss(x, x)
    (g,) = torch.autograd.grad(terms["l0_penalty"], [model.threshold_param])
    assert (g <= 0).all() and (g < 0).any()  # raising theta lowers L0
    (g,) = torch.autograd.grad(model.loss(x, x)["mse"], [model.threshold_param])
    assert g.abs().sum() > 0  # the reconstruction reaches theta too


def test_auxk_trains_dead_latents_and_resampling_revives_them():
    model = sae("topk", latent_dim=32, k=1, dead_steps=1, aux_k=4)
    x = torch.randn(8, 8)
    model.train()
    model.loss(x, x)  # one step: most latents silent, so dead now
    terms = model.loss(x, x)
    assert terms["dead"] > 0.5 and terms["aux"] > 0
    dead = (model.silent >= 1).nonzero().flatten()
    (g,) = torch.autograd.grad(terms["aux"], [model.W_enc])
    assert g[dead].abs().sum() > 0  # AuxK reaches the dead latents' encoders
    before = model.W_dec.detach().clone()
    resampler = sae("topk", latent_dim=32, k=1, dead_steps=1, resample_every=2)
    resampler.train()
    resampler.load_state_dict(model.state_dict())
    resampler.loss(x, x)  # step 2: resampled before the forward pass
    moved = (resampler.W_dec.detach() - before).abs().sum(1) > 0
    assert torch.equal(moved.nonzero().flatten(), dead)  # the dead, and only they
    inputs = x - resampler.b_dec.detach()
    inputs = inputs / inputs.norm(dim=1, keepdim=True)
    cosines = inputs @ resampler.dictionary().detach()[:, dead]
    assert torch.allclose(cosines.max(0).values, torch.ones(len(dead)), atol=1e-5)


def test_geometric_median_resists_outliers_and_starts_the_decoder_bias():
    x = torch.zeros(101, 3)
    x[:90] = torch.randn(90, 3) * 0.01 + 1.0
    x[90:] = 1000.0
    m = geometric_median(x)
    assert torch.allclose(m, torch.ones(3), atol=0.05)  # the mean is ~100
    model = sae(width=3, latent_dim=6, k=1)
    model.init_from_data(x)
    s = float(model.input_scale)  # the bias lives in the SAE's units, s x
    assert s != 1.0 and torch.allclose(model.b_dec.detach(), m * s, rtol=1e-4)


def test_record_and_weights_round_trip(tmp_path):
    model = sae("jumprelu", latent_dim=24).eval()
    save_weights(tmp_path / "w.safetensors", model)
    clone = model_from_record(model_record("sae", model)).eval()
    load_weights(tmp_path / "w.safetensors", clone)
    x = torch.randn(4, 8)
    with torch.no_grad():
        assert torch.equal(clone(x), model(x))
    assert sae(latent_dim=0).latent_dim == 64  # 8x the input width


def test_metrics_and_recovery_on_known_codes():
    codes = torch.tensor([[1.0, 0, 0, 0], [0, 2.0, 0, 0], [1.0, 3.0, 0, 0]])
    x = torch.randn(3, 5)
    m = sparsity_metrics(codes, x, x)
    assert m["l0"] == pytest.approx(4 / 3) and m["fvu"] == 0.0
    assert m["dead_fraction"] == 0.5 and m["dense_fraction"] == 0.5
    assert sum(m["density_histogram"]["counts"]) == 2
    assert sparsity_metrics(codes, x, 0 * x + x.mean(0))["fvu"] == pytest.approx(1)
    features = torch.eye(4)
    r = feature_recovery(torch.eye(4)[:, [0, 1, 2]], features)
    assert r["recovered"] == 0.75 and r["mean_max_cosine"] == pytest.approx(0.75)


def test_topk_recovers_toy_features_in_superposition():
    x, features = superposition(6000, n_features=48, dim=16, density=0.03, seed=1)
    torch.manual_seed(0)
    model = build_model("sae", (16,), sae="topk", k=2, latent_dim=96)
    model.init_from_data(torch.from_numpy(x))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    data = torch.from_numpy(x)
    model.train()
    for _ in range(12):
        for batch in data[torch.randperm(len(data))].split(128):
            opt.zero_grad()
            model.loss(batch, batch)["loss"].backward()
            opt.step()
    r = feature_recovery(model.dictionary().detach(), torch.from_numpy(features))
    assert r["mean_max_cosine"] > 0.9 and r["recovered"] > 0.7


@pytest.mark.parametrize("family", ["relu-l1", "topk", "batch-topk", "jumprelu"])
def test_aekit_train_runs_each_family_and_writes_sparsity_metrics(
    tmp_path, capsys, family
):
    x, _ = superposition(600, n_features=32, dim=8, density=0.05)
    np.save(tmp_path / "acts.npy", x)
    out = tmp_path / "run"
    args = ["train", "--data", str(tmp_path / "acts.npy"), "--model", "sae"]
    args += ["--sae", family, "--latent-dim", "32", "--epochs", "2", "--out", str(out)]
    args += ["--no-pictures", "--no-report", "--quiet"]
    args += ["--k", "4"] if "topk" in family else []
    assert main(args) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert 0 <= m["sae"]["fvu"] and m["sae"]["latents"] == 32
    assert not any(k.startswith("pca") for k in m)  # no PCA ratio: overcomplete
    if family == "topk":
        assert m["sae"]["l0"] <= 4.0
        capsys.readouterr()
        assert main(["evaluate", str(out)]) == 0
        printed = capsys.readouterr().out
        assert "sparse code: L0" in printed and "dead (never active)" in printed
        report = json.loads((out / "evaluation.json").read_text())
        assert report["sparsity"]["l0"] <= 4.0 and "baseline" not in report


def test_bad_sae_options_are_refused_in_one_line(tmp_path, capsys):
    x, _ = superposition(100, n_features=16, dim=8)
    np.save(tmp_path / "a.npy", x)
    out = tmp_path / "run"
    base = ["train", "--data", str(tmp_path / "a.npy"), "--model", "sae"]
    assert main([*base, "--latent-dim", "8", "--k", "9", "--out", str(out)]) == 2
    assert "k must be in 1..8" in capsys.readouterr().err
    assert not out.exists()
    for family, option in [("relu-l1", "--k"), ("jumprelu", "--k"), ("topk", "--l1")]:
        args = [*base, "--sae", family, option, "3", "--out", str(out)]
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and f"{option} is an option of sae" in err
        assert not out.exists()
    assert main([*base, "--sae", "topk", "--threshold", "0.2", "--out", str(out)]) == 2
    assert "--threshold is an option of sae jumprelu" in capsys.readouterr().err


def test_activations_from_safetensors_in_memory_and_streamed(tmp_path, capsys):
    from safetensors.numpy import save_file

    x, _ = superposition(500, n_features=24, dim=6, density=0.1)
    save_file({"activations": x, "labels": np.zeros(3, np.float32)}, tmp_path / "a.st")
    (tmp_path / "a.st").rename(tmp_path / "acts.safetensors")
    save_file({"a": x, "b": x}, tmp_path / "two.safetensors")
    base = ["--model", "sae", "--latent-dim", "24", "--k", "2", "--epochs", "1"]
    base += ["--no-pictures", "--no-report", "--quiet"]
    for i, extra in enumerate(([], ["--stream"])):
        out = tmp_path / f"run{i}"
        src = str(tmp_path / "acts.safetensors")
        assert main(["train", "--data", src, *base, *extra, "--out", str(out)]) == 0
        m = json.loads((out / "metrics.json").read_text())
        assert m["sae"]["l0"] <= 2.0
    from aekit.data.arrayfile import array_file

    f = array_file(tmp_path / "acts.safetensors")
    assert np.array_equal(f.read(10, 20), x[10:20])  # the tensor named activations
    out = tmp_path / "bad"
    src = str(tmp_path / "two.safetensors")
    assert main(["train", "--data", src, *base, "--out", str(out)]) == 2
    assert "none named 'activations'" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("family", ["relu-l1", "topk", "batch-topk", "jumprelu"])
def test_an_sae_sets_its_own_linear_output_on_images_and_tables(tmp_path, family):
    # digits are images in [0, 1], whose default output is a sigmoid; the SAE
    # reconstructs linearly on any data, and a conflicting output is still refused
    rng = np.random.default_rng(0)
    table = tmp_path / "t.csv"
    rows = rng.random((120, 6))
    table.write_text("\n".join(",".join(f"{v:.4f}" for v in r) for r in rows))
    k = ["--k", "2"] if "topk" in family else []
    for i, data in enumerate(("digits", str(table))):
        out = tmp_path / f"run{i}"
        args = ["train", "--data", data, "--model", "sae", "--sae", family, *k]
        args += ["--latent-dim", "32", "--epochs", "1", "--out", str(out)]
        assert main([*args, "--no-pictures", "--no-report", "--quiet"]) == 0
        record = json.loads((out / "config.json").read_text())
        assert record["model"]["config"]["output"] == "identity"
    from aekit.errors import AekitError

    with pytest.raises(AekitError, match="output"):
        build_model("sae", (8,), sae=family, output="sigmoid")


def test_jumprelu_thresholds_rise_to_the_features_and_recover_them():
    # with a plain log-threshold Adam moved theta too slowly: L0 stayed ~9.5 (of
    # 48 latents on, 1.4 true), no feature recovered; the threshold now learns
    x, features = superposition(6000, n_features=48, dim=16, density=0.03, seed=1)
    data = torch.from_numpy(x)
    data *= 4 / data.norm(dim=1).mean()  # E||x|| = sqrt(16): unit RMS per entry
    torch.manual_seed(0)
    model = build_model("sae", (16,), sae="jumprelu", l0_weight=3.0, latent_dim=96)
    model.init_from_data(data)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(12):
        for batch in data[torch.randperm(len(data))].split(128):
            opt.zero_grad()
            model.loss(batch, batch)["loss"].backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        l0 = float((model.encode(data) > 0).float().sum(1).mean())
    r = feature_recovery(model.dictionary().detach(), torch.from_numpy(features))
    assert 1.0 < l0 < 3.0 and float(model.threshold().median()) > 0.5
    assert r["mean_max_cosine"] > 0.9 and r["recovered"] > 0.6


def test_resampling_restarts_a_dead_jumprelu_latents_threshold():
    model = sae("jumprelu", latent_dim=16, dead_steps=1, resample_every=2)
    x = torch.randn(32, 8)
    model.train()
    with torch.no_grad():
        model.threshold_param[:4] = 1.0  # theta = e^10: these never fire
    model.loss(x, x)
    model.loss(x, x)
    model.loss(x, x)  # step 2: the dead are resampled before the forward pass
    assert torch.allclose(model.threshold()[:4], torch.full((4,), 0.1), rtol=1e-4)
