"""Small MIDI files for the music tests, written with mido (not a test module)."""

from __future__ import annotations

import pytest


def write_piece(path, pitches, *, tpb=96):
    """One quarter note per pitch (0: a rest), one after another, in 4/4."""
    mido = pytest.importorskip("mido")
    track = mido.MidiTrack()
    wait = 0
    for pitch in pitches:
        if pitch == 0:
            wait += tpb
            continue
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=wait))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=tpb))
        wait = 0
    midi = mido.MidiFile(type=1, ticks_per_beat=tpb)
    midi.tracks.append(track)
    midi.save(path)
    return path


SCALE = [60, 62, 64, 65, 67, 69, 71, 72]  # C major, one octave


def write_scales(folder, n=4):
    """`folder` (made here) with n 16-note pieces: the C major scale, piece k
    starting on its k-th note."""
    folder.mkdir()
    for k in range(n):
        write_piece(folder / f"p{k}.mid", [SCALE[(i + k) % 8] for i in range(16)])
    return folder
