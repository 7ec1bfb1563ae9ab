"""Music end to end through the CLI: a VAE on tiny MIDI files writes MIDI samples,
decoded codes and interpolation paths; and the bad music inputs of issue 15."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from aekit.interfaces.cli import main
from midi_files import write_piece, write_scales

mido = pytest.importorskip("mido")


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def cli(*args):
    return main([*map(str, args), "--threads", "1"])


@pytest.fixture(scope="module")
def music_run(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("music")
    pieces = write_scales(root / "pieces")
    run = root / "run"
    code = cli(
        "train", "--data", pieces, "--model", "lstm-vae", "--hidden-size", 16,
        "--latent-dim", 4, "--bars", 1, "--steps-per-beat", 2,
        "--pitch-range", "48:84", "--epochs", 2, "--batch-size", 4,
        "--out", run, "--quiet", "--no-report",
    )  # fmt: skip
    assert code == 0
    return root, run, pieces


def notes_in(path):
    midi = mido.MidiFile(path)  # raises on a file that is not valid MIDI
    return [m for t in midi.tracks for m in t if m.type == "note_on"]


def test_music_run_records_its_options_and_draws_rolls(music_run):
    _, run, _ = music_run
    record = json.loads((run / "config.json").read_text())
    assert record["data"]["kind"] == "sequence"
    options = record["data"]["options"]
    assert options == {"steps_per_beat": 2, "bars": 1, "pitch_range": [48, 84]}
    assert record["data"]["sample_shape"] == [36, 8]  # 36 pitches, 4 beats x 2
    assert record["model"]["config"]["likelihood"] == "bernoulli"
    for picture in ("history", "reconstructions", "samples", "latent"):
        assert (run / f"{picture}.png").stat().st_size > 0


def test_sample_writes_midi_files_mido_reads(music_run, capsys):
    root, run, _ = music_run
    folder = root / "samples"
    assert cli("sample", run, "-n", 3, "--out", folder) == 0
    files = sorted(folder.glob("*.mid"))
    assert [f.name for f in files] == ["0000.mid", "0001.mid", "0002.mid"]
    for f in files:
        notes_in(f)
    one = root / "all.mid"
    assert cli("sample", run, "-n", 2, "--out", one) == 0
    assert mido.MidiFile(one).ticks_per_beat == 240  # 120 ticks per step, 2 steps
    assert "MIDI" in capsys.readouterr().out


def test_decode_writes_midi_and_sample_still_writes_arrays(music_run):
    root, run, _ = music_run
    codes = root / "codes.npy"
    np.save(codes, np.zeros((2, 4), dtype=np.float32))
    assert cli("decode", run, codes, "--out", root / "decoded.mid") == 0
    notes_in(root / "decoded.mid")
    assert cli("decode", run, codes, "--out", root / "decoded") == 0
    assert len(list((root / "decoded").glob("*.mid"))) == 2
    assert cli("sample", run, "-n", 2, "--out", root / "s.npy") == 0
    assert np.load(root / "s.npy").shape == (2, 36, 8)


def test_roundtrip_through_the_run_keeps_pitches(music_run):
    """Pieces reloaded for reconstruct are cut like the training pieces."""
    root, run, pieces = music_run
    assert cli("reconstruct", run, pieces / "p0.mid", "--out", root / "r.npy") == 0
    assert np.load(root / "r.npy").shape == (4, 36, 8)


def test_plot_interpolate_writes_the_paths_as_midi(music_run, capsys):
    root, run, pieces = music_run
    out = root / "interp.png"
    args = ("--data", pieces, "--pairs", 2, "--steps", 3)
    assert cli("plot", run, "interpolate", "--out", out, *args) == 0
    assert out.stat().st_size > 0
    paths = sorted((root / "interp-midi").glob("*.mid"))
    assert len(paths) == 4  # two pairs, linear and spherical
    first = mido.MidiFile(paths[0])
    # the two pieces and 3 steps between, 8 steps each, at 120 ticks per step
    ticks = sum(m.time for m in first.tracks[0])
    assert ticks <= 5 * 8 * 120
    assert len(notes_in(paths[0])) >= 16  # at least the two pieces' notes
    assert "interpolation path(s) as MIDI" in capsys.readouterr().out


def _one_error_line(capsys, *needles):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


def test_a_midi_file_that_is_not_midi(tmp_path, capsys):
    fake = tmp_path / "song.mid"
    fake.write_bytes(b"this is not a MIDI file at all")
    assert cli("train", "--data", fake, "--model", "lstm-vae") == 2
    _one_error_line(capsys, "song.mid", "not a valid MIDI file")


def test_a_music_folder_with_no_notes(tmp_path, capsys):
    folder = tmp_path / "silent"
    folder.mkdir()
    write_piece(folder / "empty.mid", [])
    assert cli("train", "--data", folder, "--model", "lstm-vae") == 2
    _one_error_line(capsys, "no notes")


def test_music_options_need_music(tmp_path, capsys):
    data = tmp_path / "s.csv"
    data.write_text("value\n" + "\n".join(str(v) for v in range(40)) + "\n")
    code = cli("train", "--data", data, "--window", 8, "--bars", 2, "--model", "lstm")
    assert code == 2
    _one_error_line(capsys, "bars", "no MIDI or MusicXML")
    with pytest.raises(SystemExit) as exit_:  # argparse refuses it
        cli("train", "--data", data, "--pitch-range", "80:20")
    assert exit_.value.code == 2 and "LO < HI" in capsys.readouterr().err


def test_evaluate_a_music_vae(music_run):
    root, run, _ = music_run
    out = root / "evaluation.json"
    code = cli("evaluate", run, "-k", 5, "--nll-examples", 4, "--out", out)
    assert code == 0
    report = json.loads(out.read_text())
    assert report["vae"]["nll_convention"] == "bernoulli-binary"
    assert report["reconstruction"]["overall"]["n"] >= 1
