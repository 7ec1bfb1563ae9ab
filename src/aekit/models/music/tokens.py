"""A piano roll as MusicVAE's inputs: roll cells, or one melody token per step.

MusicVAE's melodies are monophonic event tokens (note-on, hold, rest). aekit's
piano rolls (aekit.data.music) keep no onsets, so a held note and a repeated one
look the same: the melody here is one categorical token per step, 0 for a rest
and 1 + k for pitch k, the highest sounding pitch (a chorale's soprano), with no
hold token.
"""

from __future__ import annotations

import torch


def roll_steps(x: torch.Tensor) -> torch.Tensor:
    """(B, P, T) roll -> (B, T, P) cells, one step a row."""
    return x.transpose(1, 2)


def melody_tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, P, T) roll -> (B, T) tokens: 0 rest, 1 + k the highest sounding pitch k."""
    on = x >= 0.5  # (B, P, T)
    pitches = torch.arange(1, x.shape[1] + 1, device=x.device)[None, :, None]
    return (on * pitches).amax(dim=1)  # the highest sounding, 0 when none


def one_hot(tokens: torch.Tensor, pitches: int) -> torch.Tensor:
    """(B, T) tokens -> (B, T, P + 1) one-hot rows (rest first)."""
    return torch.nn.functional.one_hot(tokens, pitches + 1).float()


def tokens_to_roll(tokens: torch.Tensor, pitches: int) -> torch.Tensor:
    """(B, T) tokens -> (B, P, T) 0/1 roll; a rest sounds nothing."""
    return one_hot(tokens, pitches)[..., 1:].transpose(1, 2)
