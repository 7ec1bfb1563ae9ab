"""MusicVAE (`--model music-vae`): training on tiny MIDI files, its scores in
`aekit evaluate`, `aekit interpolate` writing MIDI, and the inputs it refuses."""

from __future__ import annotations

import json

import pytest
import torch

from aekit.analysis.music_metrics import (
    interpolation_smoothness,
    note_accuracy,
    pitch_class_distance,
    shuffled_notes,
)
from aekit.errors import AekitError
from aekit.interfaces.cli import main
from aekit.models import build_model
from aekit.models.choice import choose_model
from aekit.models.music.tokens import melody_tokens, tokens_to_roll
from midi_files import write_piece

mido = pytest.importorskip("mido")
SMALL = ("--latent-dim", 6, "--hidden-size", 12, "--conductor-size", 12)
SMALL += ("--decoder-size", 16)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def cli(*args):
    return main([*map(str, args), "--threads", "1"])


@pytest.fixture(scope="module")
def pieces(tmp_path_factory):
    root = tmp_path_factory.mktemp("pieces")
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    for k in range(6):
        write_piece(root / f"p{k}.mid", [scale[(i * (k + 1)) % 8] for i in range(16)])
    return root


@pytest.fixture(scope="module")
def melody_run(pieces, tmp_path_factory):
    torch.set_num_threads(1)
    run = tmp_path_factory.mktemp("runs") / "melody"
    code = cli(
        "train", "--data", pieces, "--model", "music-vae", "--encoding", "melody",
        *SMALL, "--bars", 2, "--steps-per-beat", 2, "--pitch-range", "48:84",
        "--epochs", 12, "--batch-size", 4, "--lr", 1e-2, "--out", run, "--quiet",
        "--no-report", "--no-pictures", "--transpose", 0,  # 12 epochs: one key
    )  # fmt: skip
    assert code == 0
    return run


def _one_error_line(capsys, *needles):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


def test_the_defaults_pick_music_vae_for_piano_rolls(pieces):
    from aekit.data.music import load_music

    assert choose_model(load_music(pieces))[0] == "music-vae"


def test_training_records_the_bars_and_learns(melody_run):
    record = json.loads((melody_run / "config.json").read_text())
    config = record["model"]["config"]
    assert record["model"]["name"] == "music-vae"
    assert config["conductor_steps"] == 2  # from --bars 2
    assert config["free_bits"] == 32.0  # 16 nats a bar
    rows = (melody_run / "history.csv").read_text().splitlines()
    header, first, last = rows[0].split(","), rows[1].split(","), rows[-1].split(",")
    recon = header.index("train_recon")
    assert float(last[recon]) < 0.7 * float(first[recon])


def test_evaluate_json_carries_note_accuracy(melody_run, pieces, capsys):
    out = melody_run.parent / "evaluation.json"
    code = cli(
        "evaluate", melody_run, "--data", pieces, "--json", "-k", 3,
        "--nll-examples", 4, "--no-probes", "--no-compression", "--out", out,
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert '"note_accuracy"' in printed
    report = json.loads(out.read_text())
    music = report["music"]
    assert 0.0 <= report["note_accuracy"] <= 1.0
    assert report["note_accuracy"] == music["note_accuracy"]
    assert 0.0 <= music["note_accuracy_teacher_forced"] <= 1.0
    # trained on these pieces: far above chance (1 in 37 tokens)
    assert music["note_accuracy_teacher_forced"] > 0.2
    for key in ("pitch_class_distance", "pitch_class_distance_shuffled"):
        assert 0.0 <= music[key] <= 2.0
    assert 0.0 <= music["interpolation"]["smoothness"] <= 1.0
    assert report["vae"]["nll"]["nats"] > 0  # scored teacher-forced, finite


def test_evaluate_prints_the_music_scores(melody_run, pieces, capsys):
    out = melody_run.parent / "evaluation2.json"
    code = cli(
        "evaluate", melody_run, "--data", pieces, "-k", 2, "--nll-examples", 2,
        "--no-probes", "--no-compression", "--no-samples", "--out", out,
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "music (melody): note accuracy" in text and "interpolation" in text


def test_interpolate_writes_each_step_as_midi(melody_run, pieces, capsys):
    folder = melody_run.parent / "interp"
    code = cli(
        "interpolate", melody_run, pieces / "p0.mid", pieces / "p3.mid",
        "--out", folder, "--steps", 4,
    )  # fmt: skip
    assert code == 0
    files = sorted(folder.glob("*.mid"))
    assert [f.name for f in files] == [f"step{k:02d}.mid" for k in range(4)]
    for f in files:
        midi = mido.MidiFile(f)  # raises on a file that is not MIDI
        assert any(m.type == "note_on" for t in midi.tracks for m in t)
    assert "4 interpolation step(s)" in capsys.readouterr().out


def test_interpolate_refuses_one_step_and_writes_nothing(melody_run, pieces, capsys):
    folder = melody_run.parent / "refused"
    code = cli(
        "interpolate", melody_run, pieces / "p0.mid", pieces / "p1.mid",
        "--out", folder, "--steps", 1,
    )  # fmt: skip
    assert code == 2
    _one_error_line(capsys, "at least 2 steps")
    assert not folder.exists()


def test_interpolate_refuses_a_missing_piece(melody_run, pieces, capsys):
    folder = melody_run.parent / "missing"
    code = cli(
        "interpolate", melody_run, pieces / "p0.mid", pieces / "nope.mid",
        "--out", folder,
    )  # fmt: skip
    assert code == 2
    _one_error_line(capsys, "nope.mid")
    assert not folder.exists()


def test_sampling_follows_the_seed_and_draws_notes(melody_run, tmp_path):
    from aekit import inference
    from aekit.run import as_run

    run = as_run(melody_run)
    a, b = inference.sample(run, 4, seed=3), inference.sample(run, 4, seed=3)
    assert torch.equal(a, b) and set(a.unique().tolist()) <= {0.0, 1.0}
    # a melody sounds at most one pitch a step
    assert a.sum(1).max() <= 1
    assert not torch.equal(a, inference.sample(run, 4, seed=4))


def test_a_series_is_refused_in_one_line(tmp_path, capsys):
    data = tmp_path / "s.csv"
    data.write_text("value\n" + "\n".join(str(v * 0.37) for v in range(80)) + "\n")
    out = tmp_path / "run"
    code = cli("train", "--data", data, "--window", 16, "--model", "music-vae",
               "--out", out)  # fmt: skip
    assert code == 2
    _one_error_line(capsys, "music-vae models piano rolls")
    assert not out.exists()


def test_bad_options_are_refused_in_one_line(pieces, tmp_path, capsys):
    out = tmp_path / "run"
    code = cli(
        "train", "--data", pieces, "--model", "music-vae", "--bars", 2,
        "--conductor-steps", 3, "--out", out,
    )  # fmt: skip
    assert code == 2
    _one_error_line(capsys, "--conductor-steps 3 does not divide")
    assert cli("train", "--data", pieces, "--model", "music-vae",
               "--temperature", -1, "--out", out) == 2  # fmt: skip
    _one_error_line(capsys, "temperature must be >= 0")
    assert not out.exists()


# -- the model and the metrics directly ------------------------------------------------
@pytest.mark.parametrize("encoding", ["roll", "melody"])
def test_the_likelihood_is_the_teacher_forced_loss(encoding):
    torch.manual_seed(0)
    model = build_model(
        "music-vae", (12, 16), encoding=encoding, latent_dim=4, hidden_size=8,
        conductor_size=8, decoder_size=8,
    )  # fmt: skip
    x = (torch.rand(3, 12, 16) > 0.8).float()
    z = torch.randn(3, 4)
    # step dropout blanks fed-back steps in training only: scoring is deterministic
    assert not torch.equal(
        model.teacher_forced_logits(x, z), model.teacher_forced_logits(x, z)
    )
    model.eval()
    ll = model.log_likelihood_of(x, z)
    assert torch.equal(ll, model.log_likelihood_of(x, z))
    assert ll.shape == (3,) and (ll < 0).all()
    # a step's likelihood does not look ahead: changing the last step changes
    # only the last step's term, so the total moves by what that step scores
    y = x.clone()
    y[:, :, -1] = 1 - y[:, :, -1]
    logits_x = model.teacher_forced_logits(x, z)
    logits_y = model.teacher_forced_logits(y, z)
    assert torch.allclose(logits_x[:, :-1], logits_y[:, :-1])
    assert model.config.conductor_steps == 1  # 16 steps: one 4/4 bar


def test_note_accuracy_counts_whole_steps():
    x = torch.zeros(1, 4, 5)
    x[0, 0, :] = 1
    x[0, 2, 1:3] = 1  # a chord at steps 1 and 2
    assert note_accuracy(x, x) == 1.0
    y = x.clone()
    y[0, 0, 1] = 0  # one pitch missing from step 1's chord: the step is wrong
    assert note_accuracy(x, y) == pytest.approx(4 / 5)
    assert note_accuracy(x, 1 - x) == 0.0
    # a melody is its highest pitch: step 1's missing low note does not count
    assert note_accuracy(x, y, encoding="melody") == 1.0
    with pytest.raises(ValueError, match="shapes differ"):
        note_accuracy(x, x[:, :, :4])
    with pytest.raises(ValueError, match="NaN"):
        note_accuracy(x, torch.full_like(x, float("nan")))


def test_melody_tokens_round_trip():
    tokens = torch.tensor([[0, 3, 3, 1, 12]])
    assert torch.equal(melody_tokens(tokens_to_roll(tokens, 12)), tokens)


def test_pitch_classes_and_the_shuffled_baseline():
    g = torch.Generator().manual_seed(0)
    rolls = torch.zeros(20, 24, 16)
    for i in range(20):  # C major triads only
        for p in (0, 4, 7, 12, 16, 19):
            rolls[i, p, torch.randint(0, 16, (6,), generator=g)] = 1
    assert pitch_class_distance(rolls, rolls, 60) == 0.0
    shuffled = shuffled_notes(rolls, seed=0)
    assert shuffled.sum() == rolls.sum()  # the same notes, other pitches
    assert pitch_class_distance(shuffled, rolls, 60) > 0.5


def test_smoothness_rewards_paths_that_share_notes_with_both_ends():
    a = torch.zeros(1, 4, 8)
    b = torch.zeros(1, 4, 8)
    a[0, 0] = 1
    b[0, 3] = 1
    other = torch.zeros(1, 4, 8)
    other[0, 1] = 1
    blend = torch.maximum(a, b)  # half of each
    path = torch.stack([a, blend, blend, b], dim=1)
    assert interpolation_smoothness((a, b), path, other)["smoothness"] == 1.0
    jump = torch.stack([a, a, b, b], dim=1)  # no step near both
    assert interpolation_smoothness((a, b), jump, other)["smoothness"] == 0.0


def test_non_binary_rolls_are_refused_before_training():
    model = build_model("music-vae", (12, 16), latent_dim=4, hidden_size=8)
    with pytest.raises(AekitError, match="piano rolls"):
        model.init_from_data(torch.rand(4, 12, 16))
