"""The sparse activations of the four families, and JumpReLU's straight-through
threshold (Rajamanoharan et al. 2024): the step H(z - theta) has no gradient in
theta, so the backward pass uses a rectangle kernel of width `bandwidth` around the
threshold as its pseudo-derivative."""

from __future__ import annotations

from typing import Any

import torch


def topk(pre: torch.Tensor, k: int) -> torch.Tensor:
    """Keep each row's k largest pre-activations, ReLU'd; zero the rest."""
    values, index = pre.topk(k, dim=-1)
    return torch.zeros_like(pre).scatter_(-1, index, values.relu())


def batch_topk(pre: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep the k * B largest ReLU'd pre-activations of the whole batch; also
    returns the smallest kept value (the threshold inference uses)."""
    flat = pre.relu().flatten()
    values, index = flat.topk(min(k * len(pre), flat.numel()))
    kept = torch.zeros_like(flat).scatter_(0, index, values).view_as(pre)
    positive = values[values > 0]
    floor = positive.min() if len(positive) else values.new_zeros(())
    return kept, floor.detach()


def _rectangle(u: torch.Tensor) -> torch.Tensor:
    return ((u > -0.5) & (u < 0.5)).to(u.dtype)


class _JumpReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, theta: torch.Tensor, eps: float):
        ctx.save_for_backward(z, theta)
        ctx.eps = eps
        return z * (z > theta).to(z.dtype)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor):
        z, theta = ctx.saved_tensors
        eps = ctx.eps
        grad_z = grad * (z > theta).to(z.dtype)
        grad_theta = -(theta / eps) * _rectangle((z - theta) / eps) * grad
        return grad_z, grad_theta.sum_to_size(theta.shape), None


class _Step(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, theta: torch.Tensor, eps: float):
        ctx.save_for_backward(z, theta)
        ctx.eps = eps
        return (z > theta).to(z.dtype)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor):
        z, theta = ctx.saved_tensors
        eps = ctx.eps
        grad_theta = -(1.0 / eps) * _rectangle((z - theta) / eps) * grad
        return None, grad_theta.sum_to_size(theta.shape), None


def jumprelu(z: torch.Tensor, theta: torch.Tensor, eps: float) -> torch.Tensor:
    """z * H(z - theta), the gradient reaching theta through the kernel."""
    return _JumpReLU.apply(z, theta, eps)


def step(z: torch.Tensor, theta: torch.Tensor, eps: float) -> torch.Tensor:
    """H(z - theta): the L0 count per latent, differentiable in theta alone."""
    return _Step.apply(z, theta, eps)


def geometric_median(x: torch.Tensor, iters: int = 100) -> torch.Tensor:
    """The point minimising the summed Euclidean distance to the rows of x
    (Weiszfeld's iteration), the decoder bias's start (Bricken et al. 2023)."""
    x = x.double()
    m = x.mean(0)
    for _ in range(iters):
        d = (x - m).norm(dim=1).clamp_min(1e-8)
        w = 1.0 / d
        new = (w[:, None] * x).sum(0) / w.sum()
        if (new - m).norm() < 1e-7 * (1 + m.norm()):
            m = new
            break
        m = new
    return m.float()
