"""Precision "auto" picks bf16 only where it is fast and measured safe; the fast paths
(channels-last, the fused optimiser) compute what the plain ones do."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import aekit.training.hardware as hardware
import aekit.training.loop as trainer
from aekit.data import Dataset, Scaling
from aekit.models import build_model
from aekit.training.loop import TrainConfig, fit, make_optimizer

CPUINFO = """processor\t: 0
flags\t\t: fpu sse avx2 avx512f avx512_bf16 amx_tile
bogomips\t: 4000
"""


def test_cpu_flags_are_read_from_the_flags_line():
    flags = hardware.parse_cpu_flags(CPUINFO)
    assert {"avx512_bf16", "amx_tile", "fpu"} <= flags and "bogomips" not in flags
    assert hardware.parse_cpu_flags("processor : 0\n") == frozenset()


@pytest.mark.parametrize("flags", [{"avx2"}, {"avx512_bf16"}, {"amx_bf16", "avx2"}])
def test_cpu_bf16_is_accelerated_only_with_avx512_bf16_or_amx(monkeypatch, flags):
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset(flags))
    expected = torch.backends.mkldnn.is_available() and flags != {"avx2"}
    assert hardware.bf16_accelerated(torch.device("cpu")) == expected
    assert not hardware.bf16_accelerated(torch.device("meta"))


@pytest.mark.parametrize("name", ["mlp", "conv", "vae", "conv-vae"])
@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("batch", [64, 512])
def test_auto_is_bf16_only_on_fast_hardware_where_it_was_measured_to_pay(
    monkeypatch, name, fast, batch
):
    monkeypatch.setattr(hardware, "bf16_accelerated", lambda device: fast)
    model = build_model(name, (1, 8, 8), latent_dim=2)
    cpu = torch.device("cpu")
    from_batch = hardware.BF16_FROM_BATCH[hardware.model_kind(model)]
    chosen = hardware.resolve_precision("auto", cpu, model, batch)
    assert chosen == ("bf16" if fast and batch >= from_batch else "fp32")
    for explicit in ("fp32", "bf16"):  # what the user asks for is what they get
        assert hardware.resolve_precision(explicit, cpu, model, batch) == explicit


def test_keeping_freed_memory_leaves_a_user_malloc_setting_alone(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    assert hardware.keep_freed_memory.__wrapped__() is False


def test_small_mlp_batches_stay_fp32_and_conv_ones_do_not(monkeypatch):
    monkeypatch.setattr(hardware, "bf16_accelerated", lambda device: True)
    cpu = torch.device("cpu")
    mlp = build_model("mlp", (1, 8, 8), latent_dim=2)
    conv = build_model("conv", (1, 8, 8), latent_dim=2)
    assert hardware.resolve_precision("auto", cpu, mlp, 64) == "fp32"
    assert hardware.resolve_precision("auto", cpu, conv, 64) == "bf16"


def test_an_unknown_model_kind_stays_fp32(monkeypatch):
    monkeypatch.setattr(hardware, "bf16_accelerated", lambda device: True)
    other = torch.nn.Linear(3, 3)
    assert hardware.resolve_precision("auto", torch.device("cpu"), other) == "fp32"


def digits_like(n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, 8, 8, generator=g)
    return Dataset(x, scaling=Scaling(layout="hw")).split(0.25, seed=0)


def test_fit_records_what_auto_resolved_to():
    train, val = digits_like()
    torch.manual_seed(0)
    model = build_model("mlp", (1, 8, 8), latent_dim=2, hidden=(8,))
    expected = hardware.resolve_precision("auto", torch.device("cpu"), model, 16)
    history = fit(model, train, val, TrainConfig(epochs=1, batch_size=16))
    assert history.precision == expected


def test_channels_last_trains_the_same_weights_and_hands_back_a_plain_model(
    monkeypatch,
):
    train, val = digits_like()
    config = TrainConfig(epochs=2, batch_size=16, precision="fp32", noise="mask:0.2")
    weights = []
    for channels_last in (False, True):
        monkeypatch.setattr(
            trainer, "prefers_channels_last", lambda *a, c=channels_last: c
        )
        torch.manual_seed(0)
        # norm "none": BatchNorm's batch statistics sum in a layout-dependent
        # order, and Adam turns that rounding on near-zero gradients into
        # lr-sized steps (1.5e-3 apart after 2 epochs); this test is about layout
        model = build_model(
            "conv", (1, 8, 8), latent_dim=2, channels=(4, 8), norm="none"
        )
        fit(model, train, val, config)
        assert all(p.is_contiguous() for p in model.parameters())
        weights.append([p.detach().clone() for p in model.parameters()])
    for a, b in zip(*weights, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_the_fused_optimiser_steps_as_the_plain_one():
    torch.manual_seed(0)
    model = build_model("mlp", (6,), latent_dim=2, hidden=(8,))
    plain = build_model("mlp", (6,), latent_dim=2, hidden=(8,))
    plain.load_state_dict(model.state_dict())
    fused = make_optimizer(model, TrainConfig())
    reference = torch.optim.AdamW(
        [
            {
                "params": [p for p in plain.parameters() if p.ndim >= 2],
                "weight_decay": 1e-4,
            },
            {
                "params": [p for p in plain.parameters() if p.ndim < 2],
                "weight_decay": 0.0,
            },
        ],
        lr=TrainConfig().lr,
    )
    x = torch.rand(16, 6)
    for net, opt in ((model, fused), (plain, reference)):
        for _ in range(3):
            opt.zero_grad()
            net.loss(x, x)["loss"].backward()
            opt.step()
    for a, b in zip(model.parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize(
    ("cores", "load", "threads"),
    [(2, 0.0, 2), (2, 0.9, 1), (2, 5.0, 1), (8, 2.2, 6), (8, 0.4, 8), (1, 0.0, 1)],
)
def test_threads_are_the_cores_other_work_leaves_free(cores, load, threads):
    assert hardware.threads_for(cores, load) == threads


def test_auto_threads_leave_an_omp_setting_alone(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setattr(hardware, "busy_cores", lambda: 99.0)
    assert hardware.auto_threads() == torch.get_num_threads()


def test_auto_threads_follow_the_busy_cores(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cores = len(hardware.os.sched_getaffinity(0))
    monkeypatch.setattr(hardware, "busy_cores", lambda: float(cores))
    assert hardware.auto_threads() == 1
    monkeypatch.setattr(hardware, "busy_cores", lambda: 0.0)
    assert hardware.auto_threads() == cores


def test_busy_cores_sees_a_spinning_process():
    if not Path("/proc/stat").exists():
        pytest.skip("no /proc/stat")
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        busy = hardware.busy_cores(0.5)
    finally:
        spinner.kill()
        spinner.wait()
    assert busy is not None and 0.7 <= busy <= (hardware.os.cpu_count() or 1)


def test_cli_threads_option_sets_torch_threads_and_refuses_zero(capsys):
    from aekit.interfaces.cli import main

    assert main(["datasets", "--threads", "1"]) == 0
    assert torch.get_num_threads() == 1
    assert main(["datasets", "--threads", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["aekit: error: --threads must be at least 1, got 0"]
