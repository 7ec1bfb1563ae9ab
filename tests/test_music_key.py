"""MusicVAE told the key shift it trains at (`key_condition shift`, an option): the
shift reaches the conductor and the decoder, sampling and decoding write at shift 0
(the corpus' own keys), and a run recorded before the option loads as it trained."""

from __future__ import annotations

import pytest
import torch

from aekit.errors import AekitError
from aekit.models import build_model, model_from_record, model_record
from aekit.models.music.config import MusicVAEConfig
from midi_files import write_scales

SMALL = {"latent_dim": 4, "hidden_size": 8, "conductor_size": 8, "decoder_size": 8}


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def model(**options):
    torch.manual_seed(0)
    options = {"key_condition": "shift", **options}
    return build_model("music-vae", (24, 32), encoding="melody", **SMALL, **options)


def pieces() -> torch.Tensor:
    x = torch.zeros(4, 24, 32)
    x[:, 10, :8] = 1
    x[:, 13, 8:20] = 1
    x[:, 11, 20:] = 1
    return x


def test_the_key_condition_is_an_option_with_one_input_per_shift():
    assert MusicVAEConfig(input_shape=(48, 32)).key_condition == "none"
    assert MusicVAEConfig(input_shape=(48, 32)).key_shifts == 0
    shift = MusicVAEConfig(input_shape=(48, 32), key_condition="shift")
    assert shift.key_shifts == 13  # -6..6
    untransposed = MusicVAEConfig(
        input_shape=(48, 32), key_condition="shift", transpose=0
    )
    assert untransposed.key_shifts == 0
    none = MusicVAEConfig(input_shape=(48, 32), key_condition="none")
    assert none.key_shifts == 0
    with pytest.raises(AekitError, match="key_condition"):
        MusicVAEConfig(input_shape=(48, 32), key_condition="major")


def test_the_shift_reaches_the_conductor_and_the_decoder():
    m = model().eval()
    x, z = pieces(), torch.randn(4, 4)
    with torch.no_grad():
        at = {k: m.teacher_forced_logits(x, z, key=k) for k in (-3, 0, 2)}
        assert not torch.allclose(at[0], at[2])
        assert not torch.allclose(at[0], at[-3])
        # free running too: the same codes written at another shift
        zero = m.generate(z, temperature=0.0)
        assert torch.equal(zero, m.generate(z, temperature=0.0, key_shift=0))
        assert not torch.equal(zero, m.generate(z, temperature=0.0, key_shift=2))
        # the bar decoder itself is told it, not only through the conductor
        m.to_conductor.weight[:, 4:] = 0
        m.conductor.weight_ih_l0[:, 4:] = 0
        assert not torch.allclose(
            m.teacher_forced_logits(x, z, key=0), m.teacher_forced_logits(x, z, key=2)
        )
        # the encoder is told the shift of what it reads
        assert not torch.allclose(m.encode_distribution(x, key=0)[0],
                                  m.encode_distribution(x, key=2)[0])  # fmt: skip


def _spy(m) -> list:
    shifts: list = []
    key = m.key

    def spy(shift, n, device):
        shifts.append(shift.clone() if isinstance(shift, torch.Tensor) else shift)
        return key(shift, n, device)

    m.key = spy
    return shifts


def test_sampling_decoding_and_scoring_use_shift_0():
    m = model().eval()
    shifts = _spy(m)
    with torch.no_grad():
        m.sample(3, generator=torch.Generator().manual_seed(0))
        m.draw(torch.randn(2, 4), generator=torch.Generator().manual_seed(1))
        m.decode(m.encode(pieces()))
        m.log_likelihood_of(pieces(), torch.randn(4, 4))
        m.loss(pieces(), pieces())  # validation: the pieces as written
    assert len(shifts) >= 6 and all(s == 0 for s in shifts)


def test_training_tells_encoder_and_decoder_keys_drawn_apart():
    m = model(step_dropout=0.0).train()
    shifts = _spy(m)
    torch.manual_seed(1)
    x = pieces().repeat(8, 1, 1)  # 32 pieces
    m.loss(x, x)
    seen, written = shifts[0], shifts[1]  # the encoder's, then the decoder's
    assert seen.shape == written.shape == (32,)
    assert not torch.equal(seen, written)  # drawn apart: the code keeps the key
    assert seen.abs().max() <= 6 and written.abs().max() <= 6


def test_a_shift_past_the_transposition_is_refused():
    m = model(transpose=3).eval()
    with pytest.raises(AekitError, match="within -3..3"):
        m.sample(1, key_shift=4)
    plain = model(key_condition="none").eval()
    with pytest.raises(AekitError, match="only key shift 0"):
        plain.sample(1, key_shift=1)


def test_a_run_recorded_before_the_key_condition_loads_as_it_trained():
    old = model(key_condition="none")  # what an older aekit built at the defaults
    record = model_record("music-vae", old)
    del record["config"]["key_condition"]  # absent from an older config.json
    loaded = model_from_record(record)
    assert loaded.config.key_condition == "none" and loaded.keys == 0
    loaded.load_state_dict(old.state_dict())  # strict: the same weights fit
    old.eval(), loaded.eval()
    z = torch.randn(3, 4)
    with torch.no_grad():
        assert torch.equal(old.generate(z), loaded.generate(z))
    # and one old model shares no input width with today's default
    assert model().decoder.input_size == old.decoder.input_size + 13


# -- `aekit sample --key-shift` on a tiny trained run ------------------------------
def _pitches(folder):
    mido = pytest.importorskip("mido")
    return [
        [m.note for t in mido.MidiFile(p).tracks for m in t if m.type == "note_on"]
        for p in sorted(folder.glob("*.mid"))
    ]


def test_sampling_takes_a_key_shift_within_the_transposition(tmp_path):
    import json

    from aekit.interfaces.cli import main

    def cli(*args):
        return main([*map(str, args), "--threads", "1"])

    pieces = write_scales(tmp_path / "pieces")
    run = tmp_path / "run"
    assert cli(
        "train", "--data", pieces, "--model", "music-vae", "--encoding", "melody",
        "--latent-dim", 4, "--hidden-size", 8, "--conductor-size", 8,
        "--decoder-size", 8, "--bars", 1, "--steps-per-beat", 2,
        "--pitch-range", "48:84", "--epochs", 1, "--batch-size", 4,
        "--key-condition", "shift", "--out", run,
        "--quiet", "--no-report", "--no-pictures",
    ) == 0  # fmt: skip
    config = json.loads((run / "config.json").read_text())["model"]["config"]
    assert config["key_condition"] == "shift" and config["transpose"] == 6
    from aekit import inference
    from aekit.run import as_run

    r = as_run(run)
    for shift in (0, 3):
        x = inference.sample(r, 2, seed=1, key_shift=shift)
        assert x.shape == (2, 36, 8) and set(x.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(
        inference.sample(r, 2, seed=1), inference.sample(r, 2, seed=1, key_shift=0)
    )
    with pytest.raises(AekitError, match="within -6..6"):
        inference.sample(r, 2, key_shift=7)
