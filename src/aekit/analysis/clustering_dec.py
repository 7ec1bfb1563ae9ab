"""DEC / IDEC: fine-tuning an encoder with a clustering loss (Xie et al. 2016,
https://arxiv.org/abs/1511.06335; Guo et al. 2017, IJCAI, "Improved Deep Embedded
Clustering with Local Structure Preservation").

`dec_fine_tune` trains the encoder (and, for IDEC, the decoder) it is given in place.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..errors import AekitError
from .clustering import Progress, _check_k, cluster_codes


def soft_assignment(z: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """DEC's Student-t kernel, one degree of freedom: q_ij ∝ 1/(1 + |z_i - mu_j|²)."""
    q = 1.0 / (1.0 + torch.cdist(z, centers).pow(2))  # (N, k)
    return q / q.sum(1, keepdim=True)


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """DEC's sharpened target: p_ij ∝ q_ij² / f_j, f_j = sum_i q_ij."""
    p = q.pow(2) / q.sum(0)
    return p / p.sum(1, keepdim=True)


def dec_fine_tune(
    encoder: Callable[[torch.Tensor], torch.Tensor],
    decoder: Callable[[torch.Tensor], torch.Tensor] | None,
    x: torch.Tensor,
    *,
    k: int,
    centers_init: np.ndarray | None = None,
    epochs: int = 20,
    batch_size: int = 256,
    lr: float = 1e-3,
    gamma: float = 0.0,
    update_interval: int | None = None,
    tol: float = 0.001,
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fine-tune `encoder` (e.g. model.encode) in place by DEC; returns the labels (N,)
    and soft assignments q (N, k).

    The centres start at `centers_init` or k-means of the codes and are learned with
    the encoder by minimising KL(P || Q); the target P is recomputed from all of x
    every `update_interval` steps (default: once an epoch), and training stops early
    when fewer than `tol` of the labels change between updates. gamma > 0 is IDEC:
    gamma * MSE(decoder(z), x) is added, so the decoder (e.g. model.decode) keeps
    the codes able to reconstruct. Adam without weight decay, seeded batch order.
    """
    _check_dec(x, k, epochs, batch_size, lr, gamma, decoder)
    modules = _modules(encoder, decoder if gamma > 0 else None)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        z = _encode_all(encoder, x, batch_size)
    if centers_init is None:
        centers_init = cluster_codes(z.numpy(), k=k, method="kmeans", seed=seed).centers
    centers = torch.nn.Parameter(_centers(centers_init, k, z.shape[1]))
    params = {id(p): p for m in modules for p in m.parameters()}
    optimizer = torch.optim.Adam([*params.values(), centers], lr=lr)
    n, steps = len(x), math.ceil(len(x) / batch_size)
    interval = update_interval or steps
    p, labels, step = None, None, 0
    for epoch in range(epochs):
        order = torch.randperm(n, generator=generator)
        for b in range(steps):
            if step % interval == 0:
                p, changed, labels = _update_target(
                    encoder, x, centers, batch_size, labels
                )
                if progress:
                    progress(
                        "update", {"epoch": epoch, "step": step, "changed": changed}
                    )
                if changed is not None and changed < tol:
                    return _finish(encoder, x, centers, batch_size)
            i = order[b * batch_size : (b + 1) * batch_size]
            loss = _dec_loss(encoder, decoder, x[i], p[i], centers, gamma)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
        if progress:
            progress("epoch_end", {"epoch": epoch, "loss": float(loss)})
    return _finish(encoder, x, centers, batch_size)


def _dec_loss(encoder, decoder, xb, pb, centers, gamma) -> torch.Tensor:
    z = encoder(xb)
    q = soft_assignment(z.float(), centers)
    loss = torch.nn.functional.kl_div(q.log(), pb, reduction="batchmean")
    if gamma > 0:
        loss = loss + gamma * torch.nn.functional.mse_loss(decoder(z), xb)
    return loss


def _update_target(encoder, x, centers, batch_size, previous):
    with torch.no_grad():
        q = soft_assignment(_encode_all(encoder, x, batch_size), centers)
    labels = q.argmax(1)
    changed = None if previous is None else float((labels != previous).float().mean())
    return target_distribution(q), changed, labels


def _finish(encoder, x, centers, batch_size) -> tuple[np.ndarray, np.ndarray]:
    with torch.no_grad():
        q = soft_assignment(_encode_all(encoder, x, batch_size), centers)
    return q.argmax(1).numpy().astype(np.int64), q.numpy()


def _encode_all(encoder, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    parts = [encoder(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    return torch.cat(parts).float()


def _modules(*fns) -> list[torch.nn.Module]:
    """The modules whose parameters DEC trains: each callable, or a bound method's
    owner (model.encode -> model)."""
    found = []
    for f in fns:
        owner = f if isinstance(f, torch.nn.Module) else getattr(f, "__self__", None)
        if isinstance(owner, torch.nn.Module) and owner not in found:
            found.append(owner)
    if fns[0] is not None and not found:
        raise AekitError("DEC needs an encoder that is a torch module or its method")
    return found


def _centers(init: Any, k: int, d: int) -> torch.Tensor:
    c = torch.as_tensor(np.asarray(init, dtype=np.float32))
    if tuple(c.shape) != (k, d):
        raise AekitError(
            f"centers_init must have shape ({k}, {d}), got {tuple(c.shape)}"
        )
    if not torch.isfinite(c).all():
        raise AekitError("centers_init holds NaN or infinite values")
    return c.clone()


def _check_dec(x, k, epochs, batch_size, lr, gamma, decoder) -> None:
    if not isinstance(x, torch.Tensor) or len(x) == 0:
        raise AekitError("DEC needs the inputs as a non-empty tensor")
    if not torch.isfinite(x).all():
        raise AekitError("DEC inputs hold NaN or infinite values")
    _check_k(k, len(x))
    if epochs < 1 or batch_size < 1:
        raise AekitError(
            f"epochs and batch_size must be >= 1, got {epochs}, {batch_size}"
        )
    if not (lr > 0 and math.isfinite(lr)):
        raise AekitError(f"lr must be positive, got {lr}")
    if gamma < 0:
        raise AekitError(f"gamma must be >= 0, got {gamma}")
    if gamma > 0 and decoder is None:
        raise AekitError("IDEC (gamma > 0) needs a decoder")
