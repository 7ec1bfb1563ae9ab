"""Training survives SIGKILL at any moment, and resume ends with the same weights.

The kill test runs the real command line in fresh processes and kills them with
SIGKILL: at chosen writes (a hook cuts the temporary file short and waits there, so
the kill lands mid-write), and once at a random moment. Between kills every file in
the run directory must be whole, and the last good checkpoint must load.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from aekit.data.io import is_temp_name
from aekit.errors import AekitError
from aekit.interfaces import api
from aekit.interfaces.cli import main
from aekit.models import build_model
from aekit.training.loop import CHECKPOINT, HISTORY, WEIGHTS, TrainConfig

SRC = str(Path(__file__).parents[1] / "src")
MODEL = ["--model", "mlp", "--hidden", "32", "--latent-dim", "3"]
LOOP = ["--epochs", "8", "--batch-size", "16", "--patience", "0", "--seed", "3"]
QUIET = ["--quiet", "--no-pictures", "--no-report"]

# Runs the real CLI; PAUSE_AT="NAME#N" stops inside the N-th write of file NAME,
# after cutting its temporary file in half, and says so in the file PAUSED.
HOOK = r"""
import contextlib, os, sys, time
from pathlib import Path
import aekit.training.checkpoint, aekit.data.io
from aekit.interfaces.cli import main

target, nth = (os.environ.get("PAUSE_AT") or "-#0").rsplit("#", 1)
seen = {}
real = aekit.data.io.atomic_path

@contextlib.contextmanager
def pausing(path, **kw):
    with real(path, **kw) as tmp:
        yield tmp
        name = Path(path).name
        seen[name] = seen.get(name, 0) + 1
        if name == target and seen[name] == int(nth):
            data = tmp.read_bytes()
            tmp.write_bytes(data[: len(data) // 2])
            Path(os.environ["PAUSED"]).write_text(str(tmp))
            time.sleep(600)

aekit.data.io.atomic_path = aekit.training.checkpoint.atomic_path = pausing
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def vectors(tmp_path_factory) -> Path:
    """240 vectors in [0, 1] that lie near a 3-D subspace."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(240, 3))
    x = 1 / (1 + np.exp(-(z @ rng.normal(size=(3, 24)))))
    path = tmp_path_factory.mktemp("data") / "vectors.npz"
    np.savez(path, x=x.astype(np.float32))
    return path


def _env(**extra: str) -> dict[str, str]:
    # one thread: the same arithmetic in every process, and no fight for 2 cores
    return {
        **os.environ,
        "PYTHONPATH": SRC,
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        **extra,
    }


@pytest.fixture
def children():
    """Processes the test starts; none outlives it, even when it fails."""
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def _start(
    children: list, args: list[str], tmp: Path, pause_at: str = ""
) -> subprocess.Popen:
    paused = tmp / "paused"
    paused.unlink(missing_ok=True)
    env = _env(PAUSE_AT=pause_at, PAUSED=str(paused))
    proc = subprocess.Popen(
        [sys.executable, "-c", HOOK, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    children.append(proc)
    return proc


def _wait_for(condition, proc: subprocess.Popen, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(
                f"exited ({proc.returncode}) before {what}: {proc.stderr.read()}"
            )
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "it finished before the kill"


def _assert_whole(run: Path) -> None:
    """Every file a killed run left under its real name is complete and readable."""
    for path in run.iterdir():
        if is_temp_name(path.name):
            continue
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".csv":
            rows = list(csv.reader(path.open()))
            assert len({len(r) for r in rows}) == 1, path
        elif path.suffix == ".safetensors":
            load_file(str(path))


def _rows_in_checkpoint(run: Path) -> int:
    with safe_open(str(run / CHECKPOINT), framework="pt") as f:
        return len(json.loads(f.metadata()["state"])["rows"])


def _assert_same_run(a: Path, b: Path) -> None:
    for name in (WEIGHTS, CHECKPOINT):
        ta, tb = load_file(str(a / name)), load_file(str(b / name))
        assert ta.keys() == tb.keys(), name
        for key in ta:
            torch.testing.assert_close(ta[key], tb[key], atol=1e-6, rtol=0, msg=key)
    ha = list(csv.DictReader((a / HISTORY).open()))
    hb = list(csv.DictReader((b / HISTORY).open()))
    assert [r["epoch"] for r in hb] == [str(e) for e in range(1, 9)]
    for ra, rb in zip(ha, hb, strict=True):
        for key in ra.keys() - {"seconds"}:
            assert float(ra[key]) == pytest.approx(float(rb[key]), abs=1e-6), key


@pytest.fixture
def one_thread():
    """The arithmetic of the killed processes, which run with OMP_NUM_THREADS=1."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.slow
def test_sigkill_at_any_moment_then_resume_ends_like_an_uninterrupted_run(
    vectors, tmp_path, one_thread, children
):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    train = ["train", "--data", str(vectors), *MODEL, *LOOP, *QUIET]
    resume = ["train", "--resume", str(killed), *QUIET]
    paused = tmp_path / "paused"

    # 1. inside the first checkpoint write: no epoch is on disk yet
    proc = _start(children, [*train, "--out", str(killed)], tmp_path, f"{CHECKPOINT}#1")
    assert main([*train, "--out", str(straight)]) == 0  # meanwhile, never stopped
    _wait_for(paused.exists, proc, "the first checkpoint write")
    _kill(proc)
    assert not (killed / CHECKPOINT).exists()
    assert any(is_temp_name(p.name) for p in killed.iterdir())  # the cut-off write
    _assert_whole(killed)

    # 2. resumed (from scratch), killed inside the third checkpoint write
    proc = _start(children, resume, tmp_path, f"{CHECKPOINT}#3")
    _wait_for(paused.exists, proc, "the third checkpoint write")
    _kill(proc)
    _assert_whole(killed)
    assert _rows_in_checkpoint(killed) == 2  # the previous good checkpoint survived

    # 3. resumed, killed at a random moment after one more epoch completed
    proc = _start(children, resume, tmp_path)
    before = (killed / CHECKPOINT).stat().st_mtime_ns
    _wait_for(
        lambda: (killed / CHECKPOINT).stat().st_mtime_ns != before,
        proc,
        "an epoch to complete",
    )
    time.sleep(random.Random(0).uniform(0.0, 0.02))
    _kill(proc)
    _assert_whole(killed)
    assert _rows_in_checkpoint(killed) >= 3

    # 4. resumed, killed while the finished run writes metrics.json
    proc = _start(children, resume, tmp_path, "metrics.json#1")
    _wait_for(paused.exists, proc, "the metrics write")
    _kill(proc)
    _assert_whole(killed)
    assert not (killed / "metrics.json").exists()

    # 5. resumed to the end (in this process: the same code as the command)
    assert main(resume) == 0
    _assert_same_run(straight, killed)
    assert not [p.name for p in killed.iterdir() if is_temp_name(p.name)]
    metrics = json.loads((killed / "metrics.json").read_text())
    expected = json.loads((straight / "metrics.json").read_text())
    expected["train_seconds"] = metrics["train_seconds"]
    # the start rule's record (a PCA start) is nested: compared on its own, its t
    # too (the decision is checkpointed before model.safetensors changes)
    selection = metrics.pop("selection", {})
    assert selection == pytest.approx(expected.pop("selection", {}), abs=1e-6)
    assert metrics == pytest.approx(expected, abs=1e-6)


def _train(data: Path, out: Path, **options) -> api.Run:
    settings = {"hidden": (32,), "latent_dim": 3, "epochs": 2, "batch_size": 16}
    settings["start"] = "random"  # gradients of a network, not of a PCA start
    return api.train(
        str(data),
        "mlp",
        out=out,
        pictures=False,
        report=False,
        **{**settings, **options},
    )


def test_the_seed_decides_the_initial_weights(vectors, tmp_path):
    runs = [
        _train(vectors, tmp_path / name, seed=seed, epochs=1)
        for name, seed in [("a", 5), ("b", 5), ("c", 6)]
    ]
    a, b, c = (load_file(str(r.path / WEIGHTS)) for r in runs)
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert any(not torch.equal(a[key], c[key]) for key in a)


def test_resume_never_restarts_a_finished_run_that_lost_its_checkpoint(
    vectors, tmp_path
):
    run = _train(vectors, tmp_path / "run")
    (run.path / CHECKPOINT).unlink()
    weights = (run.path / WEIGHTS).read_bytes()
    with pytest.raises(AekitError, match=f"nothing to resume: no {CHECKPOINT}"):
        api.train(resume=run.path)
    assert (run.path / WEIGHTS).read_bytes() == weights


# -- every write goes through a temporary name -------------------------------------
_WRITES: list[tuple[str, str]] | None = None  # (event, path) while recording


def _audit(event: str, args: tuple) -> None:
    if _WRITES is None:
        return
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        mode, flags = args[1], args[2]
        writing = (mode is not None and any(c in mode for c in "wax+")) or (
            mode is None and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        )
        if writing:
            _WRITES.append(("open", os.fsdecode(args[0])))
    elif event == "os.rename":
        _WRITES.append(("rename", os.fsdecode(args[1])))


sys.addaudithook(_audit)  # hooks cannot be removed; it records only when asked


def test_every_file_is_written_to_a_temporary_name_and_renamed(vectors, tmp_path):
    global _WRITES
    images = tmp_path / "images.npz"
    np.savez(images, x=np.random.default_rng(0).integers(0, 256, (40, 8, 8)))
    run, out = tmp_path / "run", tmp_path / "out"
    commands = [
        [
            "train",
            "--data",
            str(images),
            "--model",
            "conv",
            "--channels",
            "4",
            "--latent-dim",
            "2",
            "--epochs",
            "2",
            "--out",
            str(run),
            "--quiet",
        ],
        ["reconstruct", str(run), str(images), "--out", str(out / "recon")],
        ["encode", str(run), str(images), "--out", str(out / "codes.npy")],
        ["encode", str(run), str(images), "--out", str(out / "codes.csv")],
        ["decode", str(run), str(out / "codes.npy"), "--out", str(out / "x.npy")],
        ["sample", str(run), "-n", "4", "--out", str(out / "samples.png")],
    ]
    _WRITES = []
    try:
        for command in commands:
            assert main(command) == 0, command
        writes = list(_WRITES)
    finally:
        _WRITES = None
    ours = [(e, Path(p)) for e, p in writes if str(tmp_path) in p]
    direct = [p for e, p in ours if e == "open" and not is_temp_name(p.name)]
    assert not direct, f"written in place, not through a temporary file: {direct}"
    renamed = {p for e, p in ours if e == "rename"}
    made = {p for p in [*run.rglob("*"), *out.rglob("*")] if p.is_file()}
    assert made and made <= renamed, sorted(made - renamed)


# -- numerical faults ---------------------------------------------------------------
def test_nan_loss_stops_naming_epoch_and_step_and_keeps_the_last_checkpoint(
    vectors, tmp_path, monkeypatch, capsys
):
    from aekit.models.autoencoder.model import Autoencoder

    steps = {"n": 0}
    real_loss = Autoencoder.loss

    def turns_nan(self, x, target):
        terms = real_loss(self, x, target)
        steps["n"] += self.training
        if self.training and steps["n"] > 14 * 2 + 3:  # 14 steps per epoch
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    monkeypatch.setattr(Autoencoder, "loss", turns_nan)
    run = tmp_path / "run"
    code = main(
        ["train", "--data", str(vectors), *MODEL, *LOOP, *QUIET, "--out", str(run)]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "epoch 3, step 4" in err and "checkpoint of epoch 2 is kept" in err
    assert _rows_in_checkpoint(run) == 2
    assert all(
        torch.isfinite(t).all() for t in load_file(str(run / CHECKPOINT)).values()
    )
    monkeypatch.setattr(Autoencoder, "loss", real_loss)  # the cause fixed
    assert main(["train", "--resume", str(run), *QUIET]) == 0
    assert len((run / HISTORY).read_text().splitlines()) == 1 + 8


def _grad_norms(monkeypatch) -> list[float]:
    """Spy on the gradient norm each optimiser step applies."""
    import aekit.training.loop

    norms: list[float] = []
    real = aekit.training.loop.make_optimizer

    def spied(model, config):
        optimizer = real(model, config)

        def record(opt, args, kwargs):
            grads = [
                p.grad
                for g in opt.param_groups
                for p in g["params"]
                if p.grad is not None
            ]
            norms.append(
                float(
                    torch.linalg.vector_norm(
                        torch.stack([torch.linalg.vector_norm(g) for g in grads])
                    )
                )
            )

        optimizer.register_step_pre_hook(record)
        return optimizer

    monkeypatch.setattr(aekit.training.loop, "make_optimizer", spied)
    return norms


@pytest.mark.parametrize("clip", [0.0, 0.01])
def test_gradient_clipping_bounds_every_step(vectors, tmp_path, monkeypatch, clip):
    norms = _grad_norms(monkeypatch)
    run = _train(vectors, tmp_path / "run", grad_clip=clip)
    assert (
        json.loads((run.path / "config.json").read_text())["training"]["grad_clip"]
        == clip
    )
    assert len(norms) == 2 * 14
    if clip:
        assert max(norms) <= clip * (1 + 1e-4)
    else:  # the data's own gradients are larger: the bound above is not vacuous
        assert max(norms) > 0.01


def test_resuming_an_early_stopped_run_trains_no_further(tmp_path):
    """A run killed while writing its outputs after stopping early must not train on."""
    from aekit.data import Dataset, Scaling
    from aekit.training.loop import fit

    g = torch.Generator().manual_seed(0)
    data = Dataset(torch.rand(64, 6, generator=g), scaling=Scaling(layout="d"))
    train, val = data.split(0.25)
    config = TrainConfig(epochs=40, lr=1e-12, patience=2)  # never improves
    torch.manual_seed(0)
    model = build_model("mlp", (6,), latent_dim=2, hidden=(8,))
    first = fit(model, train, val, config, out=tmp_path)
    assert first.stop_reason == "early-stopped"
    again = fit(model, train, val, config, out=tmp_path, resume=True)
    assert len(again.rows) == len(first.rows)
    assert again.stop_reason == "early-stopped"
