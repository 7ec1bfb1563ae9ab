"""Conditional variational autoencoder, MLP or convolutional body.

Sohn, Lee & Yan 2015, "Learning Structured Output Representation using Deep
Conditional Generative Models" (NeurIPS), https://papers.nips.cc/paper/5775: the
encoder q(z|x, c) and the decoder p(x|z, c) both see the condition c, so the code
is free to hold what the condition does not say (the style of a digit, not which
digit it is), and decoding one code under another condition redraws the input as
another class. The condition is a class label, one-hot encoded (concatenated into
a linear layer, that is a learned embedding), or a vector of attributes; it joins
the encoder's features before the posterior head and the code before the decoder.
The prior over z stays N(0, I) (or the chosen mixture / VampPrior) for every c.
"""

from __future__ import annotations

import torch

from ..errors import AekitError
from .base import Condition
from .configs import CVAEConfig
from .vae import VAE


class CVAE(VAE):
    """x, c -> body -> [h, c] -> (mu, logvar); [z, c] -> body^T -> p(x|z, c)."""

    config: CVAEConfig

    def condition_width(self) -> int:
        return self.config.attributes or self.config.classes

    def join_condition(self, h: torch.Tensor, c: Condition) -> torch.Tensor:
        return torch.cat([h, self.condition_features(c, len(h)).to(h.dtype)], dim=1)

    def condition_features(self, c: Condition, n: int) -> torch.Tensor:
        """(n,) class indices -> one-hot (n, classes); (n, K) attributes as given."""
        if c is None:
            raise AekitError(
                "a conditional VAE needs a condition: a label or attributes per input"
            )
        c = torch.as_tensor(c, device=self.from_code.weight.device)
        if self.config.attributes:
            c = c.float().reshape(len(c), -1)
            if c.shape[1] != self.config.attributes:
                raise AekitError(
                    f"conditions have {c.shape[1]} attributes; the model takes "
                    f"{self.config.attributes}"
                )
        else:
            if c.is_floating_point() and not torch.equal(c, c.round()):
                raise AekitError("class conditions must be whole label numbers")
            c = c.reshape(-1).long()
            if len(c) and not (torch.jit.is_tracing() or torch.compiler.is_compiling()):
                lo, hi = int(c.min()), int(c.max())
                if lo < 0 or hi >= self.config.classes:
                    raise AekitError(
                        f"label {hi if hi >= self.config.classes else lo} is "
                        f"outside the model's classes 0..{self.config.classes - 1}"
                    )
            # a comparison rather than F.one_hot: it exports to ONNX as it is
            classes = torch.arange(self.config.classes, device=c.device)
            c = (c[:, None] == classes[None]).float()
        if len(c) != n:
            raise AekitError(f"{len(c)} conditions for {n} inputs")
        return c
