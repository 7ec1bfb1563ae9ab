"""Music data: MIDI / MusicXML -> piano-roll segments, and rolls back to MIDI."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from aekit.data import load_dataset
from aekit.data.music import load_music, piano_roll_to_midi, read_midi_notes
from aekit.errors import AekitError

mido = pytest.importorskip("mido")


def write_midi(path, notes, *, tpb=96, signature=None, channel=0):
    """notes: (pitch, start_beat, length_beats); written as a type-1 file."""
    events = []
    for pitch, start, length in notes:
        events.append((round(start * tpb), 1, "note_on", pitch))
        events.append((round((start + length) * tpb), 0, "note_off", pitch))
    track = mido.MidiTrack()
    if signature:
        num, den = signature
        track.append(
            mido.MetaMessage("time_signature", numerator=num, denominator=den, time=0)
        )
    last = 0
    for tick, _, kind, pitch in sorted(events):
        track.append(
            mido.Message(
                kind, note=pitch, velocity=80, channel=channel, time=tick - last
            )
        )
        last = tick
    midi = mido.MidiFile(type=1, ticks_per_beat=tpb)
    midi.tracks.append(track)
    midi.save(path)
    return path


SCALE = [(60 + i, i, 1) for i in range(16)]  # 16 quarter notes: 4 bars of 4/4


def test_midi_to_piano_roll_segments(tmp_path):
    path = write_midi(tmp_path / "scale.mid", SCALE)
    ds = load_dataset(path)  # routed by suffix, default options
    assert ds.kind == "sequence" and ds.sample_shape == (48, 32)  # 2 bars x 16 steps
    assert len(ds) == 2 and ds.scaling.domain == "unit"
    roll = ds.x[0].numpy()
    assert roll[60 - 36, 0:4].tolist() == [1, 1, 1, 1] and roll[60 - 36, 4] == 0
    assert roll[61 - 36, 4:8].sum() == 4
    assert roll.sum() == 8 * 4  # eight quarter notes, four steps each
    assert set(np.unique(ds.x.numpy())) <= {0.0, 1.0}


def test_options_steps_bars_pitches_and_time_signature(tmp_path):
    path = write_midi(tmp_path / "waltz.mid", SCALE[:12], signature=(3, 4))
    ds = load_music(path, steps_per_beat=2, bars=1, pitch_range=(60, 72))
    assert ds.sample_shape == (12, 6) and len(ds) == 4  # 12 beats / 3 per bar
    assert ds.x[0, 0, 0:2].tolist() == [1, 1]
    forced = load_music(path, steps_per_beat=2, bars=1, beats_per_bar=4)
    assert forced.sample_shape[1] == 8 and len(forced) == 3


def test_folder_of_pieces_labels_each_piece(tmp_path):
    write_midi(tmp_path / "a.mid", SCALE)
    write_midi(tmp_path / "b.midi", [(64, 0, 2), (67, 2, 2)])  # under one segment
    drums = [(36, i, 0.5) for i in range(8)]
    write_midi(tmp_path / "drums.mid", drums, channel=9)  # no pitched notes
    ds = load_dataset(tmp_path)
    assert ds.classes == ("a.mid", "b.midi", "drums.mid")
    assert ds.y.tolist() == [0, 0, 1]  # the short piece is padded with silence


def test_round_trip_through_midi(tmp_path):
    rng = np.random.default_rng(0)
    roll = (rng.random((24, 32)) < 0.1).astype(np.float32)
    roll[5, 3:9] = 1
    out = piano_roll_to_midi(roll, tmp_path / "out" / "x.mid", 4, 48, tempo=90)
    assert out.exists() and not list(out.parent.glob(".*tmp"))
    notes, _ = read_midi_notes(out)
    assert len(notes)  # a valid file mido reads back
    back = load_music(out, steps_per_beat=4, bars=2, pitch_range=(48, 72))
    np.testing.assert_array_equal(back.x[0].numpy()[:, : roll.shape[1]], roll)
    assert mido.MidiFile(out).tracks[0][0].tempo == mido.bpm2tempo(90)


def test_not_midi_names_the_file(tmp_path):
    bad = tmp_path / "fake.mid"
    bad.write_text("hello, not a midi file\n")
    with pytest.raises(AekitError, match=r"fake\.mid: not a valid MIDI file") as e:
        load_dataset(bad)
    assert "\n" not in str(e.value)


def test_folder_without_notes(tmp_path):
    write_midi(tmp_path / "silent.mid", [])
    with pytest.raises(AekitError, match="no notes in any MIDI or MusicXML file"):
        load_music(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(AekitError, match="no MIDI or MusicXML files"):
        load_music(empty)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"steps_per_beat": 0}, "steps_per_beat"),
        ({"bars": 1.5}, "bars"),
        ({"pitch_range": (80, 40)}, "pitch_range"),
    ],
)
def test_bad_options(tmp_path, options, match):
    path = write_midi(tmp_path / "s.mid", SCALE)
    with pytest.raises(AekitError, match=match):
        load_music(path, **options)


def test_bad_rolls(tmp_path):
    with pytest.raises(AekitError, match=r"\(pitches, steps\)"):
        piano_roll_to_midi(np.zeros((2, 3, 4)), tmp_path / "x.mid")
    with pytest.raises(AekitError, match="outside MIDI"):
        piano_roll_to_midi(np.zeros((48, 4)), tmp_path / "x.mid", lowest_pitch=100)


def test_missing_library_says_how_to_install(tmp_path, monkeypatch):
    path = write_midi(tmp_path / "s.mid", SCALE)
    real = builtins.__import__

    def no_mido(name, *args, **kwargs):
        if name == "mido":
            raise ImportError("no mido")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mido)
    with pytest.raises(AekitError, match=r"pip install 'aekit\[music\]'"):
        load_music(path)


def test_window_with_music_is_refused(tmp_path):
    path = write_midi(tmp_path / "s.mid", SCALE)
    with pytest.raises(AekitError, match="cut into bars"):
        load_dataset(path, window=8)


@pytest.mark.slow
def test_bach_chorales_from_music21_corpus():
    music21 = pytest.importorskip("music21")
    paths = music21.corpus.getComposer("bach")[:3]
    ds = load_dataset(paths)
    assert ds.kind == "sequence" and ds.sample_shape == (48, 32)
    assert len(ds) >= 6 and len(ds.classes) == 3
    assert float(ds.x.mean()) > 0.01  # four voices sound most of the time


def test_bad_musicxml_names_the_file(tmp_path):
    pytest.importorskip("music21")
    bad = tmp_path / "bad.musicxml"
    bad.write_text("<score-partwise><part id='P1'><measure>oops")
    with pytest.raises(AekitError, match=r"bad\.musicxml: not a readable MusicXML"):
        load_music(bad)
