"""Random transposition of piano rolls, MusicVAE's remedy for a small corpus.

A piece moved up or down by whole semitones is the same music in another key, so
each training batch is drawn in a random key (on the fly: no copies are stored).
A roll's shift is drawn uniformly from the shifts within `semitones` that keep all
its notes inside the pitch range, so no note is ever dropped or wrapped round.
"""

from __future__ import annotations

import torch


def shift_bounds(x: torch.Tensor, semitones: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, P, T) rolls -> (B,) lowest and highest allowed shifts (semitones), both
    within [-semitones, semitones]; a silent roll may move anywhere in that span."""
    pitches = x.shape[1]
    sounding = (x >= 0.5).any(dim=2)  # (B, P)
    rows = torch.arange(pitches, device=x.device)
    lowest = torch.where(sounding, rows, pitches).amin(dim=1)  # P when silent
    highest = torch.where(sounding, rows, -1).amax(dim=1)  # -1 when silent
    down = torch.clamp(-lowest, min=-semitones)  # down to pitch row 0
    up = torch.clamp(pitches - 1 - highest, max=semitones)  # up to the top row
    silent = ~sounding.any(dim=1)
    down = torch.where(silent, torch.full_like(down, -semitones), down)
    up = torch.where(silent, torch.full_like(up, semitones), up)
    return down, up


def draw_shifts(
    x: torch.Tensor, semitones: int, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """(B,) whole-semitone shifts, each uniform over what its roll allows."""
    down, up = shift_bounds(x, semitones)
    u = torch.rand(len(x), generator=generator).to(x.device)
    span = (up - down + 1).to(u.dtype)
    return down + torch.floor(u * span).long().clamp(max=(up - down))


def transpose(x: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """(B, P, T) rolls moved by `shifts` (B,) semitones each (positive: up);
    cells shifted past either end of the range are dropped."""
    pitches = x.shape[1]
    rows = torch.arange(pitches, device=x.device)[None, :] - shifts[:, None]  # (B, P)
    inside = (rows >= 0) & (rows < pitches)
    index = rows.clamp(0, pitches - 1)[:, :, None].expand_as(x)
    return x.gather(1, index) * inside[:, :, None].to(x.dtype)


def random_transpose(
    x: torch.Tensor, semitones: int, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Each roll of (B, P, T) `x` in a random key within `semitones`, notes kept."""
    if semitones == 0:
        return x
    return transpose(x, draw_shifts(x, semitones, generator=generator))
