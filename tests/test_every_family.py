"""Every generative family through every command that applies to it, on a tiny run:
train, info, encode (and --stats), decode, reconstruct (and --samples), sample,
plot, report, evaluate, export and the explorer. A command that does not apply
(the family's declared capabilities say so) is refused in one line, exit 2."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

from aekit.interfaces.cli import main
from aekit.run import load_run

pytestmark = pytest.mark.slow

CODE = ["--latent-dim", "2"]
FAMILIES = {
    "cvae": ["--hidden", "32", *CODE],
    "conv-cvae": ["--channels", "4,8", *CODE],
    "vq-vae": ["--channels", "8,16", "--codebook-size", "16", "--code-dim", "4"],
    "vae-gan": ["--hidden", "32", "--disc-hidden", "16,8", *CODE],
    "beta-tc-vae": ["--hidden", "32", *CODE],
    "vae": ["--hidden", "32", "--prior", "vamp:3", "--objective", "iwae:2", *CODE],
    "conv-vae": ["--channels", "4,8", "--prior", "mog:3", *CODE],
    "wae": ["--hidden", "32", *CODE],
    "aae": ["--hidden", "32", "--discriminator-steps", "2", *CODE],
}
PRIOR_FIT = {"wae": "mmd", "aae": "discriminator_accuracy"}  # evaluate's measure


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _train(name: str, out) -> None:
    argv = ["train", "--data", "digits", "--model", name, "--out", str(out)]
    argv += ["--epochs", "1", "--no-pictures", "--no-report", *FAMILIES[name]]
    if name == "vq-vae":  # the PixelCNN prior is fitted below, for one epoch
        argv += ["--no-prior"]
    assert main(argv) == 0


def _runs(capsys, argv: list[str], applies: bool) -> None:
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    if applies:
        assert rc == 0, (argv, err)
    else:
        assert rc == 2 and len(err.splitlines()) == 1, (argv, rc, err)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_command_that_applies(name, tmp_path, capsys):
    run_dir = tmp_path / name
    _train(name, run_dir)
    run = str(run_dir)
    if name == "vq-vae":
        assert main(["fit-prior", run, "--epochs", "1"]) == 0
    caps = load_run(run_dir).capabilities
    posterior, continuous = caps.posterior, caps.codes == "continuous"
    codes = tmp_path / "codes.npy"
    _runs(capsys, ["info", run, "--json"], True)
    _runs(capsys, ["encode", run, "digits", "--out", str(codes)], True)
    stats = tmp_path / "stats.npz"
    _runs(capsys, ["encode", run, "digits", "--stats", "--out", str(stats)], posterior)
    decode = ["decode", run, str(codes), "--out", str(tmp_path / "d.npy")]
    if caps.conditional:  # decoding needs each code's condition
        _runs(capsys, decode, False)
        decode += ["--label", "3"]
    _runs(capsys, decode, True)
    recon = tmp_path / "r.npy"
    _runs(capsys, ["reconstruct", run, "digits", "--out", str(recon)], True)
    draws = tmp_path / "draws.npy"
    _runs(
        capsys,
        ["reconstruct", run, "digits", "--samples", "2", "--out", str(draws)],
        posterior,
    )
    samples = tmp_path / "s.png"
    _runs(capsys, ["sample", run, "-n", "8", "--out", str(samples)], True)
    for kind in ("samples", "reconstructions", "history"):
        _runs(capsys, ["plot", run, kind, "--out", str(tmp_path / f"{kind}.png")], True)
    for kind in ("latent", "manifold", "interpolate", "traverse"):
        out = str(tmp_path / f"{kind}.png")
        _runs(capsys, ["plot", run, kind, "--out", out], continuous)
    _runs(capsys, ["report", run], True)
    evaluation = tmp_path / "evaluation.json"
    argv = ["evaluate", run, "-k", "4", "--nll-examples", "8", "--out", str(evaluation)]
    _runs(capsys, argv, True)
    report = json.loads(evaluation.read_text())
    assert np.isfinite(report["reconstruction"]["overall"]["mse"])
    assert np.isfinite(report["samples"]["frechet"])
    if posterior:
        assert np.isfinite(report["vae"]["nll"]["nats"])
    if name in PRIOR_FIT:  # the family's own measure of its codes against N(0, I)
        assert np.isfinite(report["prior_fit"][PRIOR_FIT[name]])
        capsys.readouterr()
        assert main(["evaluate", run, "--no-probes", "--no-samples"]) == 0
        assert "codes against the prior: " + PRIOR_FIT[name] in capsys.readouterr().out
    if caps.conditional:
        assert 0 <= report["samples"]["label_accuracy"] <= 1
    if caps.exports:
        pytest.importorskip("onnxruntime")
    _runs(capsys, ["export", run, "--out", str(tmp_path / "onnx")], bool(caps.exports))
    _explore(run_dir, continuous)


def _explore(run_dir, continuous: bool) -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from aekit.errors import AekitError
    from aekit.interfaces.explore import load_explorer

    if not continuous:
        with pytest.raises(AekitError):
            load_explorer(run_dir)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from aekit.interfaces.explore.server import create_app

    client = TestClient(
        create_app(load_explorer(run_dir)), base_url="http://127.0.0.1:8000"
    )
    info = client.get("/api/info").json()
    body = {"point": [0.0, 0.0]} | ({"label": 1} if info.get("conditional") else {})
    assert client.post("/api/decode", json=body).status_code == 200
