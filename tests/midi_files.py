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
