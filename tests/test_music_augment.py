"""MusicVAE's random transposition: same notes in another key, never past the range's
edges, on by default and in training only."""

from __future__ import annotations

import pytest
import torch

from aekit.errors import AekitError
from aekit.models import build_model
from aekit.models.music.augment import draw_shifts, random_transpose, transpose
from aekit.models.music.config import MusicVAEConfig


def notes(x: torch.Tensor) -> set[tuple[int, int, int]]:
    """(piece, pitch row, step) of every sounding cell."""
    return {tuple(i) for i in (x >= 0.5).nonzero().tolist()}


def test_a_transposed_roll_holds_the_same_notes_moved_by_its_shift():
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(5, 24, 16)
    x[:, 8:16] = (torch.rand(5, 8, 16, generator=g) > 0.7).float()  # inner rows
    shifts = torch.tensor([-8, -3, 0, 2, 8])
    moved = transpose(x, shifts)
    expected = {(b, p + int(shifts[b]), t) for b, p, t in notes(x)}
    assert notes(moved) == expected
    assert moved.sum() == x.sum()  # no note lost, none added


def test_shifts_stay_inside_the_pitch_range_and_reach_its_edges():
    x = torch.zeros(3, 12, 4)
    x[0, 0, 0] = 1  # on the lowest row: can only move up
    x[1, 11, 1] = 1  # on the highest: only down
    x[2, [2, 9], 2] = 1  # two rows up from the bottom, two down from the top
    g = torch.Generator().manual_seed(1)
    drawn = torch.stack([draw_shifts(x, 6, generator=g) for _ in range(400)])
    assert set(drawn[:, 0].tolist()) == set(range(0, 7))
    assert set(drawn[:, 1].tolist()) == set(range(-6, 1))
    assert set(drawn[:, 2].tolist()) == set(range(-2, 3))
    for _ in range(50):
        moved = random_transpose(x, 6, generator=g)
        assert moved.sum() == x.sum()  # nothing pushed past an edge
        assert torch.equal((moved >= 0.5).sum(1), (x >= 0.5).sum(1))  # same rhythm


def test_transposition_is_the_default_and_only_in_training():
    assert MusicVAEConfig(input_shape=(48, 32)).transpose == 6
    model = build_model(
        "music-vae", (24, 16), encoding="melody", latent_dim=4, hidden_size=8,
        conductor_size=8, decoder_size=8, step_dropout=0.0, key_condition="none",
    )  # fmt: skip  # told no key: the same weights fit a model in one key
    plain = build_model(
        "music-vae", (24, 16), encoding="melody", latent_dim=4, hidden_size=8,
        conductor_size=8, decoder_size=8, step_dropout=0.0, transpose=0,
    )  # fmt: skip
    plain.load_state_dict(model.state_dict())
    x = torch.zeros(4, 24, 16)
    x[:, 10, :8] = 1
    x[:, 13, 8:] = 1

    def recon(m: torch.nn.Module) -> float:
        torch.manual_seed(3)
        return float(m.loss(x, x)["recon"])

    assert recon(model) != recon(plain)  # training draws another key
    model.eval(), plain.eval()
    assert recon(model) == recon(plain)  # validation scores the pieces as written


def test_a_bad_transposition_is_refused():
    for bad in (-1, 2.5, True, 128):
        with pytest.raises(AekitError, match="transpose"):
            MusicVAEConfig(input_shape=(48, 32), transpose=bad)


def test_the_budget_counts_every_key_a_piece_is_drawn_in():
    from aekit.training.budget import budget
    from aekit.training.config import TrainConfig

    model = build_model("music-vae", (24, 16), encoding="melody", transpose=6)
    assert model.data_views == 13
    plain = budget(TrainConfig(batch_size=64), 640)  # 10 steps an epoch
    drawn = budget(TrainConfig(batch_size=64), 640, views=model.data_views)
    assert plain.epochs == 200  # the 2,000-step floor: 30 passes are 300 steps
    assert drawn.epochs == 30 * 13  # thirty passes over the pieces in every key
    assert drawn.patience == plain.patience  # patience stays in real epochs
    kept = budget(TrainConfig(batch_size=64, epochs=5), 640, views=13)
    assert kept.epochs == 5  # the user's epochs win
