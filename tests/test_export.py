"""ONNX export matches PyTorch in ONNX Runtime at any batch size; TensorBoard events."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import aekit
from aekit.interfaces.cli import main

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxscript")

pytestmark = pytest.mark.slow  # each graph takes seconds to export


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A convolutional VAE with a max-unpool decoder on random 12x12 images: the
    hardest graphs to export (posterior means, pooling switches, odd sizes)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 12, 12), dtype=np.uint8)
    out = tmp_path_factory.mktemp("runs") / "conv-vae"
    aekit.train(
        images,
        "conv-vae",
        out=out,
        latent_dim=3,
        channels=(4, 8),
        upsample="max-unpool",
        epochs=1,
        batch_size=16,
        pictures=False,
    )
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory, run_dir) -> Path:
    out = tmp_path_factory.mktemp("onnx")
    assert main(["export", str(run_dir), "--format", "onnx", "--out", str(out)]) == 0
    return out


def _session(path: Path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("batch", [1, 7])
def test_onnx_matches_pytorch_at_any_batch_size(batch, exported, run_dir):
    run = aekit.load_run(run_dir)
    g = torch.Generator().manual_seed(batch)
    x = torch.rand(batch, *run.sample_shape, generator=g)
    z = torch.randn(batch, run.model.latent_dim, generator=g)
    with torch.no_grad():
        want = {
            "encoder": run.model.encode(x),
            "decoder": run.model.decode(z),
            "autoencoder": run.model(x),
        }
    for graph, expected in want.items():
        feed = z if graph == "decoder" else x
        session = _session(exported / f"{graph}.onnx")
        got = session.run(None, {session.get_inputs()[0].name: feed.numpy()})[0]
        assert got.shape == tuple(expected.shape)
        np.testing.assert_allclose(got, expected.numpy(), atol=1e-5, rtol=0)


def test_graphs_have_a_named_dynamic_batch_axis(exported):
    for path in exported.glob("*.onnx"):
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
        for value in [*model.graph.input, *model.graph.output]:
            first = value.type.tensor_type.shape.dim[0]
            assert first.dim_param == "batch" and not first.dim_value, path.name


def test_metadata_says_how_to_use_the_graphs(exported, run_dir):
    meta = json.loads((exported / "aekit-onnx.json").read_text())
    assert meta["sample_shape"] == [1, 12, 12] and meta["latent_dim"] == 3
    assert meta["scaling"] == aekit.load_run(run_dir).scaling.to_dict()
    assert set(meta["graphs"]) == {"encoder", "decoder", "autoencoder"}
    assert all(g["max_abs_diff"] <= 1e-4 for g in meta["graphs"].values())
    assert any("bed-of-nails" in note for note in meta["notes"])
    assert any("posterior mean" in note for note in meta["notes"])


def test_export_of_a_missing_run_is_a_one_line_error(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "no such run directory" in capsys.readouterr().err


# -- TensorBoard event files (aekit train --tensorboard) ------------------------------
def test_train_with_tensorboard_writes_scalars(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )

    x = np.random.default_rng(2).integers(0, 256, (30, 6, 6), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    args = ["train", "--data", str(tmp_path / "x.npy"), "--hidden", "8", "--quiet"]
    out = tmp_path / "run"
    assert main([*args, "--epochs", "2", "--out", str(out), "--tensorboard"]) == 0
    events = EventAccumulator(str(out / "tensorboard")).Reload()
    tags = set(events.Tags()["scalars"])
    assert {"loss/train", "loss/val", "epoch/lr", "step/loss"} <= tags
    assert [e.step for e in events.Scalars("loss/val")] == [1, 2]
    history = (out / "history.csv").read_text().splitlines()
    val_loss = float(history[2].split(",")[history[0].split(",").index("val_loss")])
    assert events.Scalars("loss/val")[-1].value == pytest.approx(val_loss, rel=1e-5)
    # a resumed run continues the same curves from where it stopped
    assert (
        main(
            ["train", "--resume", str(out), "--epochs", "3", "--quiet", "--tensorboard"]
        )
        == 0
    )
    events = EventAccumulator(str(out / "tensorboard")).Reload()
    assert [e.step for e in events.Scalars("loss/val")] == [1, 2, 3]
