"""What the machine accelerates: the device, bf16 support, and what precision "auto" is.

bf16 (bfloat16) keeps float32's exponent range with 8 bits of mantissa, so autocast
needs no loss scaling. It pays only where the hardware has bf16 arithmetic: CPUs with
AVX-512-BF16 or AMX (Intel Cooper Lake, Sapphire Rapids and later; AMD Zen 4 and
later) and CUDA GPUs of compute capability 8.0 or more (Ampere and later). Elsewhere
it is emulated and slower than float32.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import os
import sys
import time
from pathlib import Path

import torch

from ..errors import AekitError
from .config import PRECISIONS

LAYER = "base"  # below every layer: any layer may import it

log = logging.getLogger(__name__)

CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo names

# "auto" picks bf16 for these model kinds, (class, body) -> the smallest batch size
# at which bf16 autocast trained faster than float32 on a CPU with AMX, 2 threads
# (conv: 1.8-3.0x at every batch size; MLP bodies: 0.85-1.0x at 64, 1.05-1.2x at
# 128, 1.3-2.0x from 256). Every kind listed kept its validation loss within 2% of
# float32 at equal epochs on mnist-5k, on average over seeds (BENCHMARKS.md).
BF16_FROM_BATCH = {
    ("Autoencoder", "conv"): 1,
    ("VAE", "conv"): 1,
    ("Autoencoder", "mlp"): 128,
    ("VAE", "mlp"): 128,
}


def resolve_device(name: str) -> torch.device:
    """ "auto": a CUDA GPU, else Apple's MPS, else the CPU; or the device named,
    which must exist on this machine (a missing one fails here, not mid-training)."""
    if not isinstance(name, str):
        raise AekitError(f"device must be a name such as 'cpu' or 'cuda', not {name!r}")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as e:
        raise AekitError(
            f"unknown device {name!r} (choose auto, cpu, cuda, cuda:N or mps)"
        ) from e
    if device.type == "meta":  # tensors without data: nothing could be trained
        raise AekitError("device 'meta' holds no data and cannot train; use cpu")
    if not _device_available(device):
        raise AekitError(f"device {name!r} is not available here{_present()}")
    return device


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def _device_available(device: torch.device) -> bool:
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        index = device.index or 0
        return torch.cuda.is_available() and index < torch.cuda.device_count()
    if device.type == "mps":
        return _mps_available() and (device.index or 0) == 0
    backend = getattr(torch, device.type, None)  # xpu, mtia, ...: their own check
    if backend is not None and hasattr(backend, "is_available"):
        try:
            if not backend.is_available():
                return False
        except Exception:  # a backend that cannot even answer is not there
            return False
    try:  # a device type torch knows by name: present only if it holds a tensor
        torch.empty(1, device=device)
    except Exception:
        return False
    return True


def _present() -> str:
    """The devices this machine has, for messages: " (this machine has: cpu)"."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        found.append("mps")
    return f" (this machine has: {', '.join(found)})"


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux reports them; empty elsewhere."""
    try:
        return parse_cpu_flags(Path("/proc/cpuinfo").read_text(errors="replace"))
    except OSError:
        return frozenset()


def parse_cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The "flags" line of /proc/cpuinfo as a set."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def bf16_accelerated(device: torch.device) -> bool:
    """True where bf16 matrix arithmetic runs in hardware on `device`."""
    if device.type == "cuda":
        index = device.index if device.index is not None else 0
        return torch.cuda.get_device_capability(index) >= (8, 0)
    if device.type == "cpu":
        return torch.backends.mkldnn.is_available() and any(
            flag in cpu_flags() for flag in CPU_BF16_FLAGS
        )
    return False


def model_kind(model: torch.nn.Module) -> tuple[str, str]:
    """(class name, body) of a model, the key of BF16_FROM_BATCH."""
    config = getattr(model, "config", None)
    return type(model).__name__, str(getattr(config, "body", ""))


def resolve_precision(
    precision: str, device: torch.device, model: torch.nn.Module, batch_size: int = 64
) -> str:
    """fp32 or bf16: "auto" is bf16 only where it was measured both faster and as
    good (BF16_FROM_BATCH), on hardware with bf16 arithmetic."""
    if precision not in PRECISIONS:
        raise AekitError(f"precision must be one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    from_batch = BF16_FROM_BATCH.get(model_kind(model))
    # GPUs with bf16 tensor cores: assumed faster at any batch size (untested here)
    pays = from_batch is not None and (
        device.type == "cuda" or batch_size >= from_batch
    )
    chosen = "bf16" if pays and bf16_accelerated(device) else "fp32"
    log.info(
        "precision auto -> %s (bf16 in hardware on %s: %s; measured faster and "
        "within 2%% of float32 for this model at batch %d: %s)",
        chosen,
        device,
        bf16_accelerated(device),
        batch_size,
        pays,
    )
    return chosen


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def prefers_channels_last(
    model: torch.nn.Module, device: torch.device, precision: str
) -> bool:
    """Convolutions in NHWC: oneDNN's bf16 kernels (AMX) and cuDNN's tensor cores
    want it; float32 on the CPU gains nothing measurable (BENCHMARKS.md)."""
    has_conv = any(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    return has_conv and (device.type == "cuda" or precision == "bf16")


@functools.cache
def keep_freed_memory() -> bool:
    """Let glibc's malloc keep freed memory for reuse instead of handing it back.

    By default every allocation over 32 MiB (a conv layer's activations at batch 512)
    is a fresh mmap, and the heap is trimmed when its top frees up, so each training
    step faults its pages in again: measured as 1.3-2.6 million page faults per epoch
    pair and ~20% of a conv AE's time (BENCHMARKS.md). Once per process, on Linux,
    unless the user set MALLOC_* variables. Memory then stays at the step's peak,
    as with PyTorch's own caching allocator on GPUs.
    """
    if not sys.platform.startswith("linux") or any(
        k.startswith("MALLOC_") for k in os.environ
    ):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_max = -1, -4  # glibc's mallopt parameter numbers
        done = (
            libc.mallopt(m_mmap_max, 0) == 1
            and libc.mallopt(m_trim_threshold, 1 << 30) == 1
        )
    except (OSError, AttributeError):
        return False
    log.info("malloc keeps freed memory for reuse: %s", done)
    return done


def threads_for(cores: int, load: float) -> int:
    """CPU threads worth using: the cores not busy with other work, at least one.

    torch's threads wait for each other at every operation; one that shares its core
    with another busy process stalls the rest. Measured on 2 cores: a second thread
    gives ~1.7x on an idle machine, ~0.5x when the other core is busy, and a VAE
    under three competing jobs ran 20x slower with 2 threads than alone.
    """
    return max(1, min(cores, round(cores - load)))


def busy_cores(seconds: float = 0.1) -> float | None:
    """How many cores other work keeps busy now: /proc/stat's non-idle time over
    `seconds` (this process sleeps meanwhile); None where there is no /proc/stat.
    The load average would be simpler, but it lags: a job that ended a minute ago
    still counts in it."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
        return sum(ticks), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    if total1 <= total0:
        return None
    cores = os.cpu_count() or 1
    return cores * (1 - (idle1 - idle0) / (total1 - total0))


THREADS_CHOSEN = False  # set_threads was given a count (or "auto") by the user


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def auto_threads() -> int:
    """threads_for() this process's cores and the cores busy now; torch's own
    choice where OMP_NUM_THREADS is set (torchrun, or the user)."""
    if "OMP_NUM_THREADS" in os.environ:
        return torch.get_num_threads()
    cores = usable_cores()
    busy = busy_cores()
    if busy is None:
        return torch.get_num_threads()
    return threads_for(cores, busy)


def default_threads() -> int:
    """The default thread count: half the cores this process may use (at least
    one), whatever else the machine is doing, so the same command gives the same
    weights (float sums differ between thread counts). Half, because threads that
    share a core with other work stall each other: beside busy processes on two
    cores, two threads trained 1.5-5x slower than one (BENCHMARKS.md). OMP_NUM_THREADS
    (torchrun, or the user) is respected."""
    if "OMP_NUM_THREADS" in os.environ:
        return torch.get_num_threads()
    return max(1, usable_cores() // 2)


def set_threads(threads: int | str | None) -> int:
    """Set torch's CPU threads: None is default_threads(), "auto" follows the cores
    other work leaves idle now (faster on a busy machine, not reproducible);
    returns the number set.

    More threads than cores only wait for each other, and asking OpenBLAS or OpenMP
    for thousands can crash the process (it fails to create them): the number is
    capped at the cores this process may use, with a warning.
    """
    global THREADS_CHOSEN
    THREADS_CHOSEN = threads is not None
    if threads == "auto":
        threads = auto_threads()
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, int)
    ):
        raise AekitError(f"--threads must be a whole number, got {threads!r}")
    if threads is not None and threads < 1:
        raise AekitError(f"--threads must be at least 1, got {threads}")
    n = default_threads() if threads is None else threads
    cores = usable_cores()
    if n > cores:
        log.warning(
            "%d threads asked for, but this process has %d core(s); using %d",
            n,
            cores,
            cores,
        )
        n = cores
    torch.set_num_threads(n)
    log.info("torch CPU threads: %d", n)
    return n
