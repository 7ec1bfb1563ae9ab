"""Several processes, one training run: torchrun's environment, the process group, and
`aekit train --nproc N`, which starts processes the way torchrun does.

torchrun (torch.distributed.run) starts one process per rank and sets RANK,
WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; `setup` joins the group (gloo
on the CPU, NCCL on CUDA GPUs). The trainer wraps the model in
DistributedDataParallel, gives each rank its share of every batch, and lets rank 0
alone write files.
"""

from __future__ import annotations

import atexit
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from ..errors import AekitError
from .hardware import resolve_device

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Ranks:
    """Where this process stands: its rank among `size` processes."""

    rank: int = 0
    size: int = 1  # world size; 1 is an ordinary single-process run

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def share(self, n: int) -> slice:
        """This rank's contiguous part of n items (parts differ in size by <= 1)."""
        return slice(self.rank * n // self.size, (self.rank + 1) * n // self.size)


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def ranks() -> Ranks:
    """This process's rank and world size; Ranks() when no group is running."""
    if dist.is_available() and dist.is_initialized():
        return Ranks(dist.get_rank(), dist.get_world_size())
    return Ranks()


def main_process() -> bool:
    """Rank 0, or not distributed at all: the process that writes files."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return int(os.environ.get("RANK", "0")) == 0


def setup(device: torch.device) -> Ranks:
    """Join torchrun's process group if it started us and nobody joined yet."""
    if launched_by_torchrun() and not dist.is_initialized():
        if not dist.is_available():
            raise AekitError("this PyTorch build has no torch.distributed")
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(local_device(device))
        dist.init_process_group(backend=backend)
        atexit.register(teardown)
        log.info(
            "rank %d of %d joined (%s)", dist.get_rank(), dist.get_world_size(), backend
        )
    return ranks()


def local_device(device: torch.device) -> torch.device:
    """Under torchrun, "cuda" means this process's own GPU: cuda:LOCAL_RANK."""
    if device.type == "cuda" and device.index is None and launched_by_torchrun():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def teardown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum of `t` over all ranks (in place); `t` itself when not distributed."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


class _Objective(torch.nn.Module):
    """model.loss as forward(): DistributedDataParallel synchronises through forward."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(
        self, x: torch.Tensor, target: torch.Tensor, c: torch.Tensor | None = None
    ) -> dict:
        return self.model.loss(x, target, c)


def objective(model: Any, device: torch.device, ranks: Ranks) -> Callable[..., dict]:
    """What the trainer calls for a batch's loss terms: model.loss, wrapped in
    DistributedDataParallel when several processes train (gradients are averaged)."""
    if not ranks.distributed:
        return model.loss
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    # static_graph: the same parameters take part every step (some maybe none)
    return DistributedDataParallel(_Objective(model), device_ids=ids, static_graph=True)


def on_main(make: Callable[[], T], device: str = "auto") -> T:
    """`make()` on rank 0 alone (a run directory, say); the other ranks get its result.

    An AekitError on rank 0 is raised on every rank, so none waits forever.
    """
    if not launched_by_torchrun():
        return make()
    ranks = setup(local_device(resolve_device(device)))
    box: list[Any] = [None]
    if ranks.is_main:
        try:
            box[0] = ("ok", make())
        except AekitError as e:
            box[0] = ("error", str(e))
    dist.broadcast_object_list(box, src=0)
    kind, value = box[0]
    if kind == "error":
        if ranks.is_main:
            raise AekitError(value)
        raise SystemExit(2)  # rank 0 reports it; the others leave quietly
    return value


def launch(nproc: int, entrypoint: Callable[..., Any], *args: Any) -> int:
    """Run `entrypoint(*args)` in `nproc` processes on this machine, as torchrun does.

    Each process gets torchrun's environment (RANK, WORLD_SIZE, ...). Returns the
    first failing process's exit status, 0 when all succeed. Multi-node runs call
    torchrun itself (README: "Speed, distributed training ...").
    """
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    if nproc < 1:
        raise AekitError(f"--nproc must be at least 1, got {nproc}")
    config = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=nproc,
        run_id=str(uuid.uuid4()),
        rdzv_backend="c10d",
        rdzv_endpoint="localhost:0",  # a free port, as torchrun --standalone
        max_restarts=0,
        monitor_interval=0.2,
    )
    threads = os.environ.get("OMP_NUM_THREADS")
    # the cores shared out, not oversubscribed (torchrun itself sets 1)
    os.environ["OMP_NUM_THREADS"] = threads or str(
        max(1, (os.cpu_count() or 1) // nproc)
    )
    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)
    try:
        elastic_launch(config, entrypoint)(*args)
    except ChildFailedError as e:
        codes = [f.exitcode for f in e.failures.values()]
        return next((c for c in codes if c not in (0, None)), 1)
    finally:
        if threads is None:
            del os.environ["OMP_NUM_THREADS"]
    return 0
