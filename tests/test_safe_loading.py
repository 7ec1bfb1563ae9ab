"""No file aekit reads runs code, and damaged or foreign files are named in one line.

A live pickle payload (it creates a file when unpickled) is planted wherever aekit
reads weights, checkpoints or arrays; an audit hook also records any attempt to
resolve a class from a pickle, so a pickle that merely failed would still be seen.
"""

from __future__ import annotations

import io
import json
import pickle
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file

from aekit.errors import AekitError
from aekit.interfaces import api
from aekit.interfaces.cli import main
from aekit.models import build_model
from aekit.training.checkpoint import (
    load_training_state,
    load_weights,
    save_training_state,
)
from aekit.training.loop import CHECKPOINT, WEIGHTS, TrainConfig, make_optimizer

_UNPICKLED: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if event == "pickle.find_class":  # raised before any global is looked up
        _UNPICKLED.append(f"{args[0]}.{args[1]}")


sys.addaudithook(_audit)


class Payload:
    """Unpickling this creates `canary`: the test sees whether anything ran."""

    def __init__(self, canary: Path):
        self.canary = canary

    def __reduce__(self):
        return (exec, (f"open({str(self.canary)!r}, 'w').close()",))


@pytest.fixture
def canary(tmp_path) -> Path:
    path = tmp_path / "PWNED"
    pickle.loads(pickle.dumps(Payload(path)))  # the payload is live ...
    assert path.exists()
    path.unlink()  # ... and then disarmed
    _UNPICKLED.clear()
    yield path
    assert not path.exists(), "a planted pickle ran"
    assert not _UNPICKLED, f"something was unpickled: {_UNPICKLED}"


def _malicious_files(canary: Path) -> dict[str, bytes]:
    torch_zip = io.BytesIO()
    torch.save({"state_dict": Payload(canary)}, torch_zip)  # a torch.load trap
    return {
        "pickle": pickle.dumps(Payload(canary)),
        "torch.save": torch_zip.getvalue(),
    }


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "images.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x=rng.integers(0, 256, (48, 8, 8), dtype=np.uint8))
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory, images) -> Path:
    out = tmp_path_factory.mktemp("runs") / "run"
    api.train(
        str(images),
        "mlp",
        hidden=(8,),
        latent_dim=2,
        epochs=2,
        out=out,
        pictures=False,
        report=False,
    )
    return out


@pytest.fixture
def run(trained, tmp_path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    return copy


def cli_error(args: list[str], capsys) -> str:
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# -- planted pickles -----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["pickle", "torch.save"])
def test_pickle_planted_as_the_weights_runs_nothing(run, images, canary, kind, capsys):
    (run / WEIGHTS).write_bytes(_malicious_files(canary)[kind])
    out = run.parent / "codes.npy"
    err = cli_error(["encode", run, images, "--out", out], capsys)
    assert f"{run / WEIGHTS}" in err and "never unpickles" in err
    assert not out.exists()


@pytest.mark.parametrize("kind", ["pickle", "torch.save"])
def test_pickle_planted_as_the_checkpoint_runs_nothing_and_loses_nothing(
    run, canary, kind, capsys
):
    (run / CHECKPOINT).write_bytes(_malicious_files(canary)[kind])
    before = _snapshot(run)
    err = cli_error(["train", "--resume", run, "--quiet"], capsys)
    assert f"{run / CHECKPOINT}" in err
    assert _snapshot(run) == before  # refused, not restarted from scratch


def test_pickled_arrays_are_never_loaded(run, tmp_path, canary, capsys):
    payload = np.array([Payload(canary)], dtype=object)
    np.save(tmp_path / "objects.npy", payload, allow_pickle=True)
    np.savez(tmp_path / "objects.npz", x=payload)
    (tmp_path / "pickle.npz").write_bytes(pickle.dumps(Payload(canary)))
    (tmp_path / "pickle.npy").write_bytes(pickle.dumps(Payload(canary)))
    for name in ["objects.npy", "objects.npz", "pickle.npz", "pickle.npy"]:
        path = tmp_path / name
        err = cli_error(["encode", run, path, "--out", tmp_path / "z.npy"], capsys)
        assert str(path) in err
        err = cli_error(["decode", run, path, "--out", tmp_path / "x.npy"], capsys)
        assert str(path) in err
    assert not (tmp_path / "z.npy").exists() and not (tmp_path / "x.npy").exists()


# -- damaged and foreign checkpoints ---------------------------------------------------
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=3),
)
def test_damaged_weights_load_or_fail_naming_the_file(trained, tmp_path, cut, flips):
    data = bytearray((trained / WEIGHTS).read_bytes())
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    path = tmp_path / "damaged.safetensors"
    path.write_bytes(bytes(data[: max(1, round(cut * len(data)))]))
    model = build_model("mlp", (1, 8, 8), latent_dim=2, hidden=(8,), output="sigmoid")
    try:
        load_weights(path, model)
    except AekitError as e:
        assert str(e).startswith(str(path)) and "\n" not in str(e)


def _training_checkpoint(path: Path) -> torch.nn.Module:
    model = build_model("mlp", (6,), latent_dim=2, hidden=(4,))
    optimizer = make_optimizer(model, TrainConfig())
    model(torch.rand(3, 6)).sum().backward()
    optimizer.step()  # the optimizer now holds moments to save
    save_training_state(path, model, optimizer, {"rows": []})
    return model


@pytest.mark.parametrize(
    "damage",
    [
        "param_groups",  # metadata that is not JSON
        "slot name",  # a tensor name the loader cannot parse
        "slot shape",  # optimizer moments of the wrong shape
        "kind",  # a weights file where a training checkpoint belongs
        "foreign",  # someone else's safetensors
    ],
)
def test_foreign_or_malformed_training_checkpoints_are_named(tmp_path, damage):
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = tmp_path / "checkpoint.safetensors"
    model = _training_checkpoint(path)
    tensors = load_file(str(path))
    with safe_open(str(path), framework="pt") as f:
        meta = dict(f.metadata())
    if damage == "param_groups":
        meta["param_groups"] = "{not json"
    elif damage == "slot name":
        tensors["optimizer.zero.exp_avg"] = torch.zeros(1)
    elif damage == "slot shape":
        key = next(k for k in tensors if k.endswith(".exp_avg"))
        tensors[key] = torch.zeros(tensors[key].numel() + 1)
    elif damage == "kind":
        meta["kind"] = "weights"
    else:
        meta = {"framework": "someone-else"}
    save_file(tensors, str(path), metadata=meta)
    with pytest.raises(AekitError) as info:
        load_training_state(path, model, make_optimizer(model, TrainConfig()))
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_weights_of_another_model_are_named(run, images, tmp_path, capsys):
    other = build_model("mlp", (1, 8, 8), latent_dim=5, hidden=(8,))
    from aekit.training.checkpoint import save_weights

    save_weights(run / WEIGHTS, other)
    err = cli_error(["encode", run, images, "--out", tmp_path / "z.npy"], capsys)
    assert f"{run / WEIGHTS}" in err and "the model expects" in err


def test_truncated_checkpoint_is_refused_on_resume(run, capsys):
    data = (run / CHECKPOINT).read_bytes()
    (run / CHECKPOINT).write_bytes(data[: len(data) // 2])
    before = _snapshot(run)
    err = cli_error(["train", "--resume", run, "--quiet"], capsys)
    assert f"{run / CHECKPOINT}" in err and "truncated" in err
    assert _snapshot(run) == before


# -- config.json of other formats and versions -------------------------------------
def _edit(config: dict, change: str) -> object:
    if change == "newer":
        config["format_version"] = 99
    elif change == "older":
        config["format_version"] = 0
    elif change == "no version":
        del config["format_version"]
    elif change == "version as text":
        config["format_version"] = "1"
    elif change == "other tool":
        config["format"] = "keras"
    elif change == "no model":
        del config["model"]
    elif change == "unknown model":
        config["model"]["name"] = "transformer"
    elif change == "unknown field":
        config["model"]["config"]["attention_heads"] = 8
    elif change == "bad value":
        config["model"]["config"]["hidden"] = "ab"
    elif change == "giant model":  # 10^9 codes: 64 GB of weights if it were built
        config["model"]["config"]["latent_dim"] = 10**9
    elif change == "bad training":
        config["training"]["epochs"] = 0
    elif change == "bad scaling":
        config["data"]["scaling"]["scale"] = 0
    elif change == "no sample shape":
        del config["data"]["sample_shape"]
    elif change == "a list":
        return [config]
    return config


CHANGES = [
    ("newer", "newer than this aekit reads"),
    ("older", "older than any this aekit reads"),
    ("no version", "no valid format_version"),
    ("version as text", "no valid format_version"),
    ("other tool", "not an aekit run configuration"),
    ("no model", "lacks its 'model' section"),
    ("unknown model", "unknown model 'transformer'"),
    ("unknown field", "attention_heads"),
    ("bad value", ""),
    ("giant model", "do not belong together"),
    ("bad training", "epochs must be at least 1"),
    ("bad scaling", "scale"),
    ("no sample shape", "sample_shape"),
    ("a list", "not an aekit run configuration"),
]


@pytest.mark.parametrize(("change", "needle"), CHANGES)
def test_config_of_another_format_or_damaged_is_named(run, change, needle, capsys):
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps(_edit(config, change)))
    err = cli_error(["info", run], capsys)
    assert f"{run / 'config.json'}" in err and needle in err


@pytest.mark.parametrize("cut", [0, 1, 10, 100, -2])
def test_truncated_or_binary_config_is_named(run, cut, capsys):
    text = (run / "config.json").read_bytes()
    (run / "config.json").write_bytes(text[:cut] if cut else b"\xff\xfe\x00binary")
    err = cli_error(["info", run], capsys)
    assert f"{run / 'config.json'}" in err
