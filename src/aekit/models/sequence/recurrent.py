"""Recurrent bodies of the sequence autoencoders: an encoder RNN whose final state is
the summary, and a decoder RNN that rebuilds the window from the code.

EncDec-AD (Malhotra et al. 2016, https://arxiv.org/abs/1607.00148) and Srivastava
et al. 2015 (https://arxiv.org/abs/1502.04681): the decoder's state starts from the
code and it rebuilds the window step by step, feeding each step the value of the
step before (with teacher forcing, the true value; free running, its own output),
in reverse time order by default, so the first steps it writes are the last ones
the encoder read. Teacher forcing moves to free running on a schedule (scheduled
sampling, Bengio et al. 2015, https://arxiv.org/abs/1506.03099): in epoch e each
step is fed the true value with probability max(0, 1 - e / teacher_forcing), and
evaluation always runs free. teacher_forcing = 0 feeds no values back: each step
sees only the code and its position (the decoder of aekit 0.x).

Cells: LSTM (Hochreiter & Schmidhuber 1997) or GRU (Cho et al. 2014,
https://arxiv.org/abs/1406.1078); the encoder may read both ways (bidirectional,
Schuster & Paliwal 1997), its two final states then make the summary.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def _rnn(cell: str, inputs: int, hidden: int, layers: int, **kw: Any) -> nn.RNNBase:
    kind = nn.GRU if cell == "gru" else nn.LSTM
    return kind(inputs, hidden, layers, batch_first=True, **kw)


class RecurrentEncoder(nn.Module):
    """An RNN over the time steps; its last layer's final state(s) are the summary."""

    def __init__(self, config: Any):
        super().__init__()
        self.bidirectional = bool(getattr(config, "bidirectional", False))
        self.rnn = _rnn(
            getattr(config, "cell", "lstm"),
            config.input_shape[0],
            config.hidden_size,
            config.num_layers,
            bidirectional=self.bidirectional,
        )
        self.features = config.hidden_size * (2 if self.bidirectional else 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, state = self.rnn(x.transpose(1, 2))  # (B, T, C) in
        h = state[0] if isinstance(state, tuple) else state  # (layers * dirs, B, H)
        if self.bidirectional:
            return torch.cat([h[-2], h[-1]], dim=1)  # (B, 2H)
        return h[-1]  # (B, H)


class RecurrentDecoder(nn.Module):
    """The code sets the initial state and is each step's input, with the position
    and, when teacher_forcing > 0, the value of the step before."""

    def __init__(self, config: Any):
        super().__init__()
        self.channels, self.length = config.input_shape
        self.layers, self.hidden = config.num_layers, config.hidden_size
        self.cell = getattr(config, "cell", "lstm")
        self.reverse = getattr(config, "order", "forward") == "reverse"
        self.feedback = int(getattr(config, "teacher_forcing", 0)) > 0
        n_states = 2 if self.cell == "lstm" else 1
        self.to_state = nn.Linear(
            config.latent_dim, n_states * self.layers * self.hidden
        )
        inputs = config.latent_dim + 1 + (self.channels if self.feedback else 0)
        self.rnn = _rnn(self.cell, inputs, self.hidden, self.layers)
        self.out = nn.Linear(self.hidden, self.channels)

    def _state(self, z: torch.Tensor) -> Any:
        n = 2 if self.cell == "lstm" else 1
        state = self.to_state(z).view(len(z), n, self.layers, self.hidden)
        state = state.permute(1, 2, 0, 3).contiguous()  # (n, layers, B, hidden)
        if self.cell == "gru":
            return torch.tanh(state[0])
        return torch.tanh(state[0]), state[1]

    def _steps(self, z: torch.Tensor) -> torch.Tensor:
        """(B, T, latent + 1): the code and the position of every step written."""
        b = len(z)
        position = torch.linspace(0, 1, self.length, device=z.device, dtype=z.dtype)
        return torch.cat(
            [
                z[:, None, :].expand(b, self.length, -1),
                position[None, :, None].expand(b, -1, 1),
            ],
            dim=2,
        )

    def forward(
        self,
        z: torch.Tensor,
        *,
        target: torch.Tensor | None = None,
        teacher: float = 0.0,
        base: torch.Tensor | None = None,
        gate: torch.Tensor | float = 1.0,
    ) -> torch.Tensor:
        """(B, C, T) output `base + gate * network` in time order. `target` (B, C, T)
        feeds the true values with probability `teacher`; `base` is a fixed path
        the network corrects (aekit.models.pca_start), zero when None."""
        steps, state = self._steps(z), self._state(z)
        if base is None:
            base = torch.zeros(len(z), self.channels, self.length, device=z.device)
        base = base.transpose(1, 2)  # (B, T, C)
        if target is not None:
            target = target.transpose(1, 2)
        if self.reverse:  # written last step first
            base = base.flip(1)
            target = None if target is None else target.flip(1)
        if not self.feedback:
            h, _ = self.rnn(steps, state)
            out = base + gate * self.out(h)
        elif target is not None and teacher >= 1.0:  # all true values: in one call
            before = torch.cat([torch.zeros_like(target[:, :1]), target[:, :-1]], 1)
            h, _ = self.rnn(torch.cat([steps, before], dim=2), state)
            out = base + gate * self.out(h)
        else:
            out = self._free_run(steps, state, base, gate, target, teacher)
        if self.reverse:
            out = out.flip(1)
        return out.transpose(1, 2)  # (B, C, T)

    def _free_run(
        self,
        steps: torch.Tensor,
        state: Any,
        base: torch.Tensor,
        gate: torch.Tensor | float,
        target: torch.Tensor | None,
        teacher: float,
    ) -> torch.Tensor:
        """Step by step, each step fed the value before: the true one with
        probability `teacher` (per sample and step), else its own output."""
        b = len(steps)
        before = torch.zeros(b, 1, self.channels, device=steps.device)
        outs = []
        for t in range(self.length):
            h, state = self.rnn(torch.cat([steps[:, t : t + 1], before], 2), state)
            value = base[:, t : t + 1] + gate * self.out(h)  # (B, 1, C)
            outs.append(value)
            before = value
            if target is not None and teacher > 0:
                use = torch.rand(b, 1, 1, device=steps.device) < teacher
                before = torch.where(use, target[:, t : t + 1], value)
        return torch.cat(outs, dim=1)  # (B, T, C)
