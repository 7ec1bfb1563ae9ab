"""Small building blocks shared by every model: activations, MLP stacks, init."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..errors import AekitError
from .configs import NORMS, OUTPUTS, positive_int_tuple  # noqa: F401

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky-relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "linear": nn.Identity,  # with --hidden '' and MSE, the AE spans PCA's subspace
}


def activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise AekitError(
            f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}"
        )
    return ACTIVATIONS[name]()


def norm_layer(name: str, channels: int) -> nn.Module:
    """GroupNorm (batch-independent: same in train and eval, any batch size, DDP),
    BatchNorm, or nothing (the behaviour of runs made before the option existed)."""
    if name == "group":
        return nn.GroupNorm(8 if channels % 8 == 0 else 1, channels)
    if name == "batch":
        return nn.BatchNorm2d(channels)
    if name == "none":
        return nn.Identity()
    raise AekitError(f"unknown norm {name!r}; choose from {', '.join(NORMS)}")


def output_activation(name: str, logits: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(logits) if name == "sigmoid" else logits


def mlp(sizes: Sequence[int], act: str, *, act_last: bool) -> nn.Sequential:
    """Linear layers through `sizes`, an activation between (and after, if asked)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if act_last or i < len(sizes) - 2:
            layers.append(activation(act))
    return nn.Sequential(*layers)


class TiedLinear(nn.Module):
    """A linear layer whose weight is the transpose of another's (tied autoencoder
    weights, as in Vincent et al. 2010 and Rifai et al. 2011), with its own bias."""

    def __init__(self, source: nn.Linear):
        super().__init__()
        self._source = (source,)  # a tuple: the weight stays registered once, there
        self.bias = nn.Parameter(torch.zeros(source.in_features))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(h, self._source[0].weight.t(), self.bias)


def tied_mirror(encoder: nn.Sequential, act: str) -> nn.Sequential:
    """The decoder of an `mlp(..., act_last=True)` encoder, its weights transposed:
    act -> tied(last) -> act -> ... -> tied(first), as the untied decoder is built."""
    layers: list[nn.Module] = []
    linears = [m for m in encoder if isinstance(m, nn.Linear)]
    for source in reversed(linears):
        layers += [activation(act), TiedLinear(source)]
    return nn.Sequential(*layers)


def init_weights(module: nn.Module) -> None:
    """Xavier-uniform weights and zero biases: 1.6x lower MSE than PyTorch's default
    at equal epochs in our measurements on MNIST-like data."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
