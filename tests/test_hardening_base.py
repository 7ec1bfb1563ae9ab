"""Audit 13, base layer: JSON, file modes, devices, threads, memory, options."""

from __future__ import annotations

import logging
import os
import stat

import numpy as np
import pytest
import torch

from aekit.data.io import read_json, write_json
from aekit.data.memory import allocation_guard
from aekit.errors import AekitError
from aekit.training import hardware
from aekit.training.checkpoint import save_training_state, save_weights
from aekit.training.config import TrainConfig
from aekit.training.hardware import resolve_device, set_threads
from aekit.training.noise import Noise


# -- io.read_json ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"a": ' * 50_000 + "1" + "}" * 50_000, "nested too deeply"),
        ("1" * 5000, "not usable JSON"),
        ('{"a": 1', "not valid JSON"),
    ],
)
def test_any_json_parse_failure_names_the_file(tmp_path, text, message):
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(AekitError, match=message) as e:
        read_json(path)
    assert str(path) in str(e.value)


# -- file modes ----------------------------------------------------------------------
def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_weights_and_checkpoints_get_the_mode_of_every_other_file(tmp_path):
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    json_mode = _mode(write_json(tmp_path / "a.json", {}))
    weights = save_weights(tmp_path / "model.safetensors", model)
    state = save_training_state(tmp_path / "ckpt.safetensors", model, optimizer, {})
    expected = 0o666 & ~hardware_umask()
    assert json_mode == expected
    assert _mode(weights) == expected
    assert _mode(state) == expected


def hardware_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- devices ---------------------------------------------------------------------
def test_meta_is_never_a_training_device():
    with pytest.raises(AekitError, match="'meta'.*cannot train"):
        resolve_device("meta")


@pytest.mark.skipif(
    hardware._mps_available(), reason="this machine has Apple's MPS backend"
)
def test_mps_on_a_machine_without_it_is_refused():
    with pytest.raises(AekitError, match="device 'mps' is not available here"):
        resolve_device("mps")


@pytest.mark.parametrize("name", ["cuda:99", "xla", "ipu", "hpu"])
def test_devices_this_machine_lacks_are_refused(name):
    with pytest.raises(AekitError, match=f"device '{name}' is not available here"):
        resolve_device(name)


@pytest.mark.parametrize("name", ["bogus", "cuda:x", "", 3])
def test_unknown_devices_are_refused(name):
    with pytest.raises(AekitError, match="device"):
        resolve_device(name)


def test_the_cpu_is_always_there():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")


# -- threads ---------------------------------------------------------------------
def test_more_threads_than_cores_are_capped_with_a_warning(caplog):
    cores = hardware.usable_cores()
    with caplog.at_level(logging.WARNING, logger="aekit.training.hardware"):
        n = set_threads(100_000)
    assert n == cores
    assert torch.get_num_threads() == cores
    assert "100000 threads asked for" in caplog.text


@pytest.mark.parametrize("threads", [0, -3, 2.5, True])
def test_thread_counts_that_are_not_positive_integers_are_refused(threads):
    with pytest.raises(AekitError, match="--threads"):
        set_threads(threads)


# -- allocation failures ---------------------------------------------------------
def test_a_failed_torch_allocation_becomes_one_clear_line():
    with pytest.raises(AekitError) as e, allocation_guard("build the model"):
        torch.empty(2**45, dtype=torch.float32)  # 128 TiB
    assert str(e.value) == "not enough memory to build the model (needs ~128.0 TiB)"


def test_a_failed_numpy_allocation_becomes_one_clear_line():
    with pytest.raises(AekitError, match="not enough memory to sample"):
        with allocation_guard("sample 10000000000000 codes"):
            np.empty(10**15)


def test_the_callers_estimate_is_shown():
    with pytest.raises(AekitError, match=r"plot the grid \(needs ~3\.0 GiB\)"):
        with allocation_guard("plot the grid", nbytes=3 * 2**30):
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory")


def test_a_cuda_out_of_memory_message_gives_its_size():
    error = RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0)")
    with pytest.raises(
        AekitError, match=r"^not enough memory to decode \(needs ~20\.00 GiB\)$"
    ):
        with allocation_guard("decode"):
            raise error


def test_other_errors_pass_through_the_guard():
    with pytest.raises(RuntimeError, match="shape mismatch"):
        with allocation_guard("build the model"):
            raise RuntimeError("shape mismatch")
    with pytest.raises(KeyError), allocation_guard("build the model"):
        raise KeyError("x")


# -- training options --------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"seed": 2**64}, "seed must be at most"),
        ({"seed": 2**63}, "seed must be at most"),
        ({"seed": -1}, "seed must be at least 0"),
        ({"seed": 1.5}, "seed must be a whole number"),
        ({"epochs": 2.5}, "epochs must be a whole number"),
        ({"epochs": float("inf")}, "epochs must be a whole number"),
        ({"batch_size": 0}, "batch size must be at least 1"),
        ({"batch_size": "64"}, "batch size must be a whole number"),
        ({"patience": -1}, "patience must be at least 0"),
        ({"patience": True}, "patience must be a whole number"),
        ({"lr": float("nan")}, "lr must be a finite number"),
        ({"lr": float("inf")}, "lr must be a finite number"),
        ({"lr": 0}, "lr must be positive"),
        ({"weight_decay": float("nan")}, "weight_decay must be a finite number"),
        ({"weight_decay": float("inf")}, "weight_decay must be a finite number"),
        ({"weight_decay": -1e-4}, "weight decay must be >= 0"),
        ({"grad_clip": float("nan")}, "grad_clip must be a finite number"),
        ({"grad_clip": float("inf")}, "grad_clip must be a finite number"),
        ({"grad_clip": -1.0}, "grad clip must be >= 0"),
        ({"val_fraction": float("nan")}, "validation fraction must be a finite"),
        ({"val_fraction": 0.0}, "validation fraction must be in"),
        ({"noise": "gaussian:nan"}, "finite"),
        ({"noise": 0.3}, "noise must be text"),
        ({"device": None}, "device must be text"),
    ],
)
def test_bad_training_options_are_refused(options, message):
    with pytest.raises(AekitError, match=message):
        TrainConfig(**options)


def test_edge_values_that_mean_something_are_kept():
    config = TrainConfig(
        seed=2**63 - 1, patience=0, grad_clip=0.0, weight_decay=0.0, epochs=1
    )
    assert config.seed == 2**63 - 1
    assert TrainConfig(seed=np.int64(5), lr=np.float32(1e-3)).seed == 5


# -- noise -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "spec",
    ["gaussian:nan", "gaussian:inf", "gaussian:1e400", "mask:nan", "mask:inf"],
)
def test_non_finite_noise_amounts_are_refused(spec):
    with pytest.raises(AekitError, match="finite|probability"):
        Noise.parse(spec)


def test_noise_amounts_must_be_numbers():
    with pytest.raises(AekitError, match="must be a number"):
        Noise("gaussian", "0.3")  # type: ignore[arg-type]
