"""SAEs on a network's activations (`--activations-of MODEL --layer NAME`): an aekit
run's layer by module name, TorchScript and ONNX files, computed batch by batch,
recorded so evaluate and resume read them again, bad names refused in one line."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch
from torch import nn

from aekit.data.activations import activation_dataset
from aekit.data.dataset import Dataset
from aekit.interfaces.cli import main
from aekit.run import load_run

torch.set_num_threads(1)
QUIET = ["--no-pictures", "--no-report", "--quiet"]


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    """An aekit MLP on a small table (64 columns) whose hidden layers an SAE reads."""
    root = tmp_path_factory.mktemp("acts")
    rng = np.random.default_rng(0)
    table = root / "t.csv"
    rows = rng.standard_normal((300, 12)) @ rng.standard_normal((12, 24))
    table.write_text("\n".join(",".join(f"{v:.4f}" for v in r) for r in rows))
    out = root / "mlp"
    args = ["train", "--data", str(table), "--model", "mlp", "--hidden", "32"]
    args += ["--start", "random"]  # a PCA start leaves the body no part to play
    assert main([*args, "--epochs", "2", "--out", str(out), *QUIET]) == 0
    return table, out


def sae_args(data, of, layer, out, *extra):
    args = ["train", "--data", str(data), "--model", "sae", "--sae", "topk"]
    args += ["--k", "4", "--latent-dim", "64", "--epochs", "2", "--out", str(out)]
    return [*args, "--activations-of", str(of), "--layer", layer, *extra, *QUIET]


def test_an_sae_trains_on_a_runs_layer_and_evaluate_and_resume_read_it_again(
    mlp_run, tmp_path, capsys
):
    table, mlp = mlp_run
    out = tmp_path / "sae"
    assert main(sae_args(table, mlp, "body.encoder.0", out)) == 0
    record = json.loads((out / "config.json").read_text())["data"]
    assert record["activations"] == {
        "of": str(mlp.resolve()),
        "kind": "run",
        "layer": "body.encoder.0",
    }
    assert record["sample_shape"] == [32]  # the hidden layer's width
    trained = json.loads((out / "metrics.json").read_text())["sae"]
    assert main(["evaluate", str(out)]) == 0
    report = json.loads((out / "evaluation.json").read_text())
    # the same validation activations, recomputed from the table through the MLP
    assert report["sparsity"]["fvu"] == pytest.approx(trained["fvu"], rel=1e-4)
    assert main(["train", "--resume", str(out), "--epochs", "3", "--quiet"]) == 0
    assert len((out / "history.csv").read_text().splitlines()) == 1 + 3
    # activations come scaled to E||a|| = sqrt(D) already: the SAE's own input
    # scale, fitted on the training part, is ~1, and resume kept it
    scale = float(load_run(out).model.input_scale)
    assert scale == pytest.approx(1.0, abs=0.1) and scale != 1.0


def test_torchscript_and_onnx_layers_give_the_same_activations(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)).eval()
    torch.jit.script(net).save(str(tmp_path / "net.pt"))
    torch.onnx.export(
        net,
        (torch.randn(2, 64),),
        str(tmp_path / "net.onnx"),
        input_names=["x"],
        dynamic_axes={"x": {0: "batch"}},
        dynamo=False,
    )
    fvus, downstream = [], []
    for of, layer in (("net.pt", "1"), ("net.onnx", "/1/Relu_output_0")):
        out = tmp_path / of.replace(".", "_")
        # digits are (1, 8, 8) images; the network takes them flattened
        assert main(sae_args("digits", tmp_path / of, layer, out)) == 0
        fvus.append(json.loads((out / "metrics.json").read_text())["sae"]["fvu"])
        assert main(["evaluate", str(out)]) == 0
        report = json.loads((out / "evaluation.json").read_text())
        downstream.append(report["sparsity"]["downstream"])
    assert fvus[0] == pytest.approx(fvus[1], rel=1e-4)
    # TorchScript is spliced (through its Sequential); ONNX says it is not
    assert 0 < downstream[0]["loss_recovered"] <= 1 and downstream[0]["l_clean"] == 0
    assert "not computed for an ONNX network" in downstream[1]["note"]


def test_bad_layers_and_networks_are_refused_in_one_line(mlp_run, tmp_path, capsys):
    table, mlp = mlp_run
    torch.jit.script(nn.Sequential(nn.Linear(24, 4))).save(str(tmp_path / "n.pt"))
    out = tmp_path / "bad"
    cases = [
        (
            sae_args(table, mlp, "body.nope", out),
            "include body, body.encoder, body.encoder.0",
        ),
        (sae_args(table, tmp_path / "n.pt", "3", out), "its layers include 0"),
        (sae_args(table, tmp_path / "none", "0", out), "no such run directory"),
        (sae_args(table, mlp, "body", out)[:-5] + QUIET, "go together"),
    ]
    for args, needle in cases:
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and needle in err, err
        assert not out.exists()


def test_onnx_without_onnxruntime_is_refused_in_one_line(
    mlp_run, tmp_path, capsys, monkeypatch
):
    table, _ = mlp_run
    (tmp_path / "m.onnx").write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    out = tmp_path / "run"
    assert main(sae_args(table, tmp_path / "m.onnx", "h", out)) == 2
    assert "pip install 'aekit[export]'" in capsys.readouterr().err
    assert not out.exists()


def test_activations_are_computed_batch_by_batch():
    seen = []

    def read(x):
        seen.append(len(x))
        return x * 2.0

    inputs = Dataset(torch.randn(1000, 5))
    data = activation_dataset(inputs, read, "double")
    seen.clear()
    batches = list(data.batches(64, seed=0))
    assert max(seen) == 64 and sum(seen) == 1000  # never the whole set at once
    rows = torch.cat(batches)
    scale = data.scaling.scale
    # one scale for all features: E||a|| = sqrt(D), the geometry kept
    assert isinstance(scale, float) and data.scaling.offset == 0.0
    ordered = data.x[: len(data)]
    assert torch.allclose(ordered * scale, inputs.x * 2.0, atol=1e-5)
    assert rows.norm(dim=1).mean() == pytest.approx(5**0.5, rel=0.05)


def test_loss_recovered_is_one_for_an_exact_sae_and_lower_for_a_poor_one(
    mlp_run, tmp_path
):
    from aekit.run import load_run
    from aekit.training.checkpoint import save_weights

    table, mlp = mlp_run
    exact, poor = tmp_path / "exact", tmp_path / "poor"
    args = sae_args(table, mlp, "body.encoder.0", exact)
    args[args.index("topk")] = "relu-l1"
    del args[args.index("--k") : args.index("--k") + 2]
    assert main(args) == 0
    run = load_run(exact)
    eye = torch.eye(32)
    with torch.no_grad():  # f = (relu(a), relu(-a)), a_hat = relu(a) - relu(-a) = a
        for p in (run.model.W_enc, run.model.W_dec):
            p.copy_(torch.cat([eye, -eye]))
        run.model.b_enc.zero_()
        run.model.b_dec.zero_()
    save_weights(exact / "model.safetensors", run.model)
    args = sae_args(table, mlp, "body.encoder.0", poor)
    args[args.index("--k") + 1] = "1"
    assert main(args) == 0
    shares = []
    for out in (exact, poor):
        assert main(["evaluate", str(out)]) == 0
        d = json.loads((out / "evaluation.json").read_text())["sparsity"]["downstream"]
        assert d["ablation"] == "zero" and "reconstruction" in d["loss"]
        assert d["l_zero"] > d["l_clean"]
        shares.append(d["loss_recovered"])
    assert shares[0] == pytest.approx(1.0, abs=1e-4)
    assert shares[1] < 0.95
