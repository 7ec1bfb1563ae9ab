"""A full, read-only or impossible output location: one clear error, nothing lost.

The tests run as root, so file modes stop nothing. A full disk is made real with
RLIMIT_FSIZE (the kernel then fails every write past the limit, root included) and
also simulated as ENOSPC reported late by fsync; a read-only file system is
simulated at the one call that creates files; a path through a regular file is
real and no one can write there.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import shutil
import signal
import tempfile
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from aekit.data import io as aekit_io  # noqa: E402
from aekit.data.io import is_temp_name  # noqa: E402
from aekit.data.pixels import save_png  # noqa: E402
from aekit.errors import AekitError  # noqa: E402
from aekit.interfaces import api  # noqa: E402
from aekit.interfaces.cli import main  # noqa: E402
from aekit.models import build_model  # noqa: E402
from aekit.training.checkpoint import save_training_state, save_weights  # noqa: E402
from aekit.training.loop import CHECKPOINT, TrainConfig, make_optimizer  # noqa: E402


@contextlib.contextmanager
def file_size_limit(n_bytes: int):
    """Writes past n_bytes fail with EFBIG, as they would on a full disk."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error, not a kill
    resource.setrlimit(resource.RLIMIT_FSIZE, (n_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "images.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x=rng.integers(0, 256, (48, 8, 8), dtype=np.uint8))
    return path


def _train(images: Path, out: Path, **options) -> api.Run:
    settings = {"hidden": (8,), "latent_dim": 2, "epochs": 4, "patience": 0}
    settings["start"] = "random"  # the model the checks below build by hand
    return api.train(
        str(images),
        "mlp",
        out=out,
        pictures=False,
        report=False,
        **{**settings, **options},
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory, images) -> Path:
    return _train(images, tmp_path_factory.mktemp("runs") / "run").path


@pytest.fixture
def run(trained, tmp_path) -> Path:
    shutil.copytree(trained, tmp_path / "run")
    return tmp_path / "run"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _no_temps(folder: Path) -> None:
    left = [p.name for p in folder.rglob("*") if is_temp_name(p.name)]
    assert not left, left


def cli_error(args: list, capsys) -> str:
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


# -- a disk that fills up during training ----------------------------------------
def test_disk_full_during_training_keeps_the_last_epoch_and_resume_finishes(
    images, tmp_path
):
    straight = _train(images, tmp_path / "straight")
    out = tmp_path / "full"
    limit = contextlib.ExitStack()

    def fill_the_disk_after_epoch_2(event, info):
        if event == "epoch_end" and info["epoch"] == 2:
            limit.enter_context(file_size_limit(64))

    with limit, pytest.raises(AekitError) as failure:
        _train(images, out, progress=fill_the_disk_after_epoch_2)
    message = str(failure.value)
    assert str(out) in message and "file too large" in message
    assert "\n" not in message
    _no_temps(out)
    tensors = load_file(str(out / CHECKPOINT))  # the epoch-2 checkpoint is whole
    model = build_model("mlp", (1, 8, 8), latent_dim=2, hidden=(8,), output="sigmoid")
    from aekit.training.checkpoint import load_training_state

    state = load_training_state(
        out / CHECKPOINT, model, make_optimizer(model, TrainConfig())
    )
    assert len(state["rows"]) == 2 and tensors

    resumed = api.train(resume=out, pictures=False, report=False)  # space again
    for key, value in straight.model.state_dict().items():
        torch.testing.assert_close(
            resumed.model.state_dict()[key], value, atol=1e-6, rtol=0
        )


# -- every writer, on a full disk ---------------------------------------------------
def _model():
    return build_model("mlp", (6,), latent_dim=2, hidden=(4,))


def _write(kind: str, path: Path, version: int) -> None:
    rng = np.random.default_rng(version)
    if kind == "json":
        aekit_io.write_json(path, {"version": version, "pad": "x" * 100})
    elif kind == "csv":
        aekit_io.write_csv(path, [{"a": version, "b": "y" * 100}], ["a", "b"])
    elif kind == "npy":
        aekit_io.write_npy(path, rng.random((10, 10)))
    elif kind == "png":
        save_png(path, rng.random((8, 8)))
    elif kind == "figure":
        fig = plt.figure()
        plt.plot(rng.random(10))
        aekit_io.save_figure(fig, path)
    elif kind == "weights":
        torch.manual_seed(version)
        save_weights(path, _model())
    else:
        torch.manual_seed(version)
        model = _model()
        save_training_state(path, model, make_optimizer(model, TrainConfig()), {})


KINDS = {
    "json": "a.json",
    "csv": "a.csv",
    "npy": "a.npy",
    "png": "a.png",
    "figure": "fig.png",
    "weights": "model.safetensors",
    "training": "checkpoint.safetensors",
}


@pytest.mark.parametrize("fault", ["file size limit", "ENOSPC from fsync"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_full_disk_keeps_the_previous_file(tmp_path, monkeypatch, kind, fault):
    path = tmp_path / KINDS[kind]
    _write(kind, path, 1)
    before = path.read_bytes()
    if fault == "file size limit":
        stop, reason = file_size_limit(16), "file too large"
    else:

        def no_space(fd):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(os, "fsync", no_space)
        stop, reason = contextlib.nullcontext(), "no space left"
    with stop, pytest.raises(AekitError) as failure:
        _write(kind, path, 2)
    assert str(failure.value).startswith(f"cannot write {path}: {reason}")
    assert path.read_bytes() == before
    _no_temps(tmp_path)


# -- read-only output ---------------------------------------------------------------
@pytest.fixture
def read_only(monkeypatch):
    """What a read-only mount answers to creating a file."""

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)


def test_read_only_output_is_reported_and_earlier_outputs_stay(
    run, images, tmp_path, read_only, capsys
):
    done = tmp_path / "done"
    done.mkdir()
    (done / "codes.npy").write_bytes(b"earlier result")
    before, run_before = _snapshot(done), _snapshot(run)
    for args in [
        ["encode", run, images, "--out", done / "codes.npy"],
        ["reconstruct", run, images, "--out", done / "pictures"],
        ["sample", run, "-n", "4", "--out", done / "samples.png"],
        ["train", "--resume", run, "--epochs", "6", "--quiet"],
        ["train", "--data", images, "--out", done / "new", "--epochs", "1"],
    ]:
        assert "read-only" in cli_error(args, capsys)
    assert _snapshot(done) == before and _snapshot(run) == run_before


def test_force_cannot_replace_a_run_on_a_read_only_disk(
    run, images, monkeypatch, capsys
):
    def refuse(path, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(shutil, "rmtree", refuse)
    monkeypatch.setattr(os, "rename", refuse)  # --force first moves the old run aside
    before = _snapshot(run)
    err = cli_error(["train", "--data", images, "--out", run, "--force"], capsys)
    assert f"cannot replace {run}" in err
    assert _snapshot(run) == before


# -- output paths through a regular file (no one, root included, can write there) --
def test_output_below_a_regular_file(run, images, tmp_path, capsys):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("the user's file")
    for args in [
        ["train", "--data", images, "--out", blocker / "run", "--epochs", "1"],
        ["train", "--data", images, "--out", blocker, "--epochs", "1"],
        ["encode", run, images, "--out", blocker / "codes.npy"],
        ["encode", run, images, "--out", blocker / "codes.csv"],
        ["reconstruct", run, images, "--out", blocker / "pictures"],
        ["decode", run, tmp_path / "codes.npy", "--out", blocker / "x.npy"],
        ["sample", run, "-n", "4", "--out", blocker / "samples.png"],
    ]:
        if args[0] == "decode":
            np.save(tmp_path / "codes.npy", np.zeros((2, 2), np.float32))
        err = cli_error(args, capsys)
        assert str(blocker) in err
        assert "not a directory" in err.lower() or "is a file" in err, err
    assert blocker.read_text() == "the user's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "codes.npy",
        "notes.txt",
        "run",
    ]
