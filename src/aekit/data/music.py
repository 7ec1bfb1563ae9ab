"""Music as data: MIDI and MusicXML -> binary piano rolls (pitches, steps), and back.

MIDI is read and written with mido (small, pure Python, maintained; its ticks per
beat give steps per beat directly, whatever the tempo, where pretty_midi converts
to seconds first); MusicXML (.mxl, .musicxml, .xml) with music21, the one library
that reads it fully. Both come with `pip install 'aekit[music]'`. A piece is cut
into non-overlapping segments of `bars` bars, each one sample of shape
(pitches, bars * beats_per_bar * steps_per_beat); time is counted in quarter-note
beats. Drums (MIDI channel 10) have no pitch and are skipped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import AekitError
from .dataset import Dataset, Scaling
from .io import atomic_path

logger = logging.getLogger(__name__)

MIDI_SUFFIXES = (".mid", ".midi")
MUSICXML_SUFFIXES = (".mxl", ".musicxml", ".xml")
MUSIC_SUFFIXES = MIDI_SUFFIXES + MUSICXML_SUFFIXES
DEFAULT_PITCH_RANGE = (36, 84)  # C2 up to (not including) C6: 48 pitches
_DRUMS = 9  # MIDI channel 10, counted from 0
# finer than the finest common MIDI resolution, or a sample longer than any
# sequence model here reads, only fills memory (--steps-per-beat or --bars 10**6
# allocated gigabytes and was killed)
MAX_STEPS_PER_BEAT = 960
MAX_SEGMENT = 2**16
_INSTALL = "pip install 'aekit[music]'"

Notes = np.ndarray  # (n, 3): pitch, start beat, end beat


def is_music_name(path: Path) -> bool:
    return path.suffix.lower() in MUSIC_SUFFIXES


def find_music(folder: Path) -> list[Path]:
    """MIDI and MusicXML files below `folder`, sorted; hidden ones skipped."""
    return sorted(
        p
        for p in folder.rglob("*")
        if is_music_name(p)
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def load_music(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    steps_per_beat: int = 4,
    bars: int = 2,
    pitch_range: tuple[int, int] = DEFAULT_PITCH_RANGE,
    beats_per_bar: float | None = None,
    scaling: Scaling | None = None,
    name: str | None = None,
) -> Dataset:
    """A music file, a folder of them or a list -> piano-roll segments (P, S).

    `pitch_range` is (lowest, highest + 1) as MIDI numbers; notes outside are
    dropped. `beats_per_bar` None takes the first piece's time signature (4 when
    it has none) for every piece, so all samples share one length. A sample's label
    is its piece (classes are the file names).
    """
    steps_per_beat, bars, (lo, hi) = _check_options(steps_per_beat, bars, pitch_range)
    paths = _music_paths(source)
    pieces = [(p, *read_notes(p)) for p in paths]
    if not any(len(notes) for _, notes, _ in pieces):
        raise AekitError(f"{_describe(source)}: no notes in any MIDI or MusicXML file")
    bar = beats_per_bar or pieces[0][2] or 4.0
    segment = round(bars * bar * steps_per_beat)
    if segment < 1:
        raise AekitError(f"a segment of {bars} bar(s) of {bar} beats has no steps")
    if segment > MAX_SEGMENT:
        raise AekitError(
            f"a segment of {bars} bar(s) of {bar:g} beats at {steps_per_beat} steps "
            f"a beat is {segment:,} steps, over {MAX_SEGMENT:,}: fewer --bars or "
            "--steps-per-beat"
        )
    rolls, labels = [], []
    for i, (path, notes, _) in enumerate(pieces):
        roll = notes_to_roll(notes, steps_per_beat, lo, hi, where=str(path))
        cut = _segments(roll, segment)
        rolls += cut
        labels += [i] * len(cut)
    if not any(r.any() for r in rolls):  # every note outside: only silence left
        pitches = np.concatenate([n[:, 0] for _, n, _ in pieces if len(n)])
        raise AekitError(
            f"{_describe(source)}: no notes in pitch range {lo}..{hi - 1} (the notes "
            f"span {int(pitches.min())}..{int(pitches.max())}); widen --pitch-range"
        )
    if scaling is not None and (scaling.layout, scaling.domain) != ("cw", "unit"):
        raise AekitError(
            f"{_describe(source)}: piano rolls do not fit a model trained on other data"
        )
    return Dataset(
        x=torch.from_numpy(np.stack(rolls)),
        y=np.array(labels),
        scaling=scaling or Scaling(domain="unit", layout="cw"),
        name=name or _describe(source),
        classes=tuple(p.name for p, _, _ in pieces),
        kind="sequence",
    )


def check_enough_segments(data: Dataset, steps_per_beat: int | None) -> None:
    """Training needs 2 segments (one validates): a piece shorter than that is
    refused with its length beside the segment's, not as a bare count."""
    if len(data) >= 2 or data.kind != "sequence" or data.series is not None:
        return
    spb = steps_per_beat or 4
    played = data.x.reshape(len(data), data.x.shape[1], -1).any(dim=1).any(dim=0)
    steps = int(played.nonzero().max()) + 1 if played.any() else 0
    raise AekitError(
        f"{data.name}: the music is {steps / spb:g} beat(s) long, which makes "
        f"{len(data)} segment(s) of {data.x.shape[-1] / spb:g} beats; training "
        "needs 2 or more (one validates): give longer or more pieces, or fewer "
        "--bars"
    )


def _check_options(steps_per_beat: Any, bars: Any, pitch_range: Any) -> tuple:
    for what, v in (("steps_per_beat", steps_per_beat), ("bars", bars)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise AekitError(f"{what} must be a positive whole number, not {v!r}")
    if steps_per_beat > MAX_STEPS_PER_BEAT:
        raise AekitError(
            f"steps_per_beat {steps_per_beat} is over {MAX_STEPS_PER_BEAT} (the finest "
            "common MIDI resolution): give fewer"
        )
    try:
        lo, hi = (int(v) for v in pitch_range)
    except (TypeError, ValueError) as e:
        raise AekitError(f"pitch_range must be (lowest, highest + 1): {e}") from e
    if not 0 <= lo < hi <= 128:
        raise AekitError(
            f"pitch_range must satisfy 0 <= lowest < highest + 1 <= 128, got {lo, hi}"
        )
    return int(steps_per_beat), int(bars), (lo, hi)


def _music_paths(source: Any) -> list[Path]:
    sources = list(source) if isinstance(source, (list, tuple)) else [source]
    if not sources:
        raise AekitError("no data sources given (an empty list)")
    paths: list[Path] = []
    for s in map(Path, sources):
        if not s.exists():
            raise AekitError(f"no such file or directory: {s}")
        found = find_music(s) if s.is_dir() else [s]
        if not found:
            kinds = ", ".join(MUSIC_SUFFIXES)
            raise AekitError(f"{s}: no MIDI or MusicXML files ({kinds})")
        paths += found
    return paths


def _describe(source: Any) -> str:
    if isinstance(source, (list, tuple)):
        return " + ".join(str(s) for s in source)
    return str(source)


def _segments(roll: np.ndarray, segment: int) -> list[np.ndarray]:
    """Non-overlapping segments; a last partial one is padded with silence if it
    holds notes, so a piece shorter than a segment still gives a sample."""
    out = [roll[:, i : i + segment] for i in range(0, roll.shape[1], segment)]
    if out and out[-1].shape[1] < segment:
        tail = out.pop()
        if tail.any():
            out.append(np.pad(tail, ((0, 0), (0, segment - tail.shape[1]))))
    return out


def notes_to_roll(
    notes: Notes, steps_per_beat: int, lo: int, hi: int, *, where: str = "notes"
) -> np.ndarray:
    """(n, 3) notes -> float32 (hi - lo, steps) 0/1 roll; a note lasts >= 1 step."""
    if len(notes) == 0:
        return np.zeros((hi - lo, 0), dtype=np.float32)
    start = np.round(notes[:, 1] * steps_per_beat).astype(np.int64)
    end = np.maximum(start + 1, np.round(notes[:, 2] * steps_per_beat).astype(np.int64))
    roll = np.zeros((hi - lo, int(end.max())), dtype=np.float32)
    pitch = notes[:, 0].astype(np.int64)
    inside = (pitch >= lo) & (pitch < hi)
    if not inside.all():
        dropped = int((~inside).sum())
        logger.info("%s: %d note(s) outside %d..%d dropped", where, dropped, lo, hi - 1)
    for p, s, e in zip(pitch[inside], start[inside], end[inside], strict=True):
        roll[p - lo, s:e] = 1.0
    return roll


# -- reading -------------------------------------------------------------------------
def read_notes(path: Path) -> tuple[Notes, float | None]:
    """A MIDI or MusicXML file -> its notes and beats per bar (None: not stated)."""
    if path.suffix.lower() in MIDI_SUFFIXES:
        return read_midi_notes(path)
    if path.suffix.lower() in MUSICXML_SUFFIXES:
        return read_musicxml_notes(path)
    raise AekitError(
        f"{path}: not a music file ({path.suffix or 'no extension'}); "
        f"supported: {', '.join(MUSIC_SUFFIXES)}"
    )


def read_midi_notes(path: Path) -> tuple[Notes, float | None]:
    mido = _import("mido", "MIDI")
    try:
        midi = mido.MidiFile(path)
    except OSError as e:
        if not path.is_file():
            raise AekitError(f"cannot read {path}: {e.strerror or e}") from e
        raise AekitError(f"{path}: not a valid MIDI file ({e})") from e
    except Exception as e:  # mido raises many types on damaged files
        raise AekitError(f"{path}: not a valid MIDI file ({e})") from e
    tpb = midi.ticks_per_beat or 480
    notes, bar = [], None
    for track in midi.tracks:
        tick, sounding = 0, {}
        for msg in track:
            tick += msg.time
            if msg.type == "time_signature" and bar is None:
                bar = msg.numerator * 4 / msg.denominator
            if msg.type not in ("note_on", "note_off") or msg.channel == _DRUMS:
                continue
            key = (msg.channel, msg.note)
            if key in sounding:  # a note-off, or a repeated note-on, ends it
                notes.append((msg.note, sounding.pop(key) / tpb, tick / tpb))
            if msg.type == "note_on" and msg.velocity > 0:
                sounding[key] = tick
        notes += [(n, s / tpb, tick / tpb) for (_, n), s in sounding.items()]
    return _as_notes(notes), bar


def read_musicxml_notes(path: Path) -> tuple[Notes, float | None]:
    music21 = _import("music21", "MusicXML")
    try:
        score = music21.converter.parse(str(path)).stripTies()
        flat = score.flatten()
        signatures = flat.getElementsByClass("TimeSignature")
        bar = float(signatures[0].barDuration.quarterLength) if signatures else None
        notes = [
            (p.midi, float(n.offset), float(n.offset + n.quarterLength))
            for n in flat.notes
            for p in n.pitches
        ]
    except Exception as e:  # music21 raises its own types for bad files
        message = " ".join(str(e).split())[:200]
        raise AekitError(f"{path}: not a readable MusicXML file ({message})") from e
    return _as_notes(notes), bar


def _as_notes(notes: list[tuple[float, float, float]]) -> Notes:
    return np.array(notes, dtype=np.float64).reshape(-1, 3)


def _import(module: str, what: str) -> Any:
    try:
        return __import__(module)
    except ImportError as e:
        raise AekitError(f"reading {what} needs {module}: {_INSTALL}") from e


# -- writing -------------------------------------------------------------------------
def piano_roll_to_midi(
    roll: np.ndarray | torch.Tensor,
    path: str | os.PathLike,
    steps_per_beat: int = 4,
    lowest_pitch: int = DEFAULT_PITCH_RANGE[0],
    tempo: float = 120.0,
    *,
    threshold: float = 0.5,
) -> Path:
    """(pitches, steps) roll -> a type-0 .mid file, written atomically; returns path.

    A cell at or above `threshold` sounds; consecutive sounding steps are one note.
    `tempo` is in beats (quarter notes) per minute.
    """
    mido = _import("mido", "MIDI")
    if isinstance(roll, torch.Tensor):
        roll = roll.detach().float().cpu().numpy()
    a = np.asarray(roll)
    if a.ndim != 2:
        raise AekitError(f"a piano roll is (pitches, steps), got shape {a.shape}")
    if not (0 <= lowest_pitch and lowest_pitch + a.shape[0] <= 128):
        raise AekitError(
            f"pitches {lowest_pitch}..{lowest_pitch + a.shape[0] - 1} are outside "
            "MIDI's 0..127"
        )
    _check_options(steps_per_beat, 1, (0, 1))
    if not tempo > 0:
        raise AekitError(f"tempo must be positive, got {tempo}")
    on = np.pad(a >= threshold, ((0, 0), (1, 1)))
    edges = np.diff(on.astype(np.int8), axis=1)  # +1 where a note starts, -1 ends
    tpb = 120 * steps_per_beat  # whole ticks per step
    events = []
    for row, step in zip(*np.nonzero(edges), strict=True):
        kind = "note_on" if edges[row, step] > 0 else "note_off"
        order = 1 if kind == "note_on" else 0  # end notes before starting new ones
        events.append((int(step) * 120, order, kind, int(lowest_pitch + row)))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo), time=0))
    last = 0
    for tick, _, kind, note in sorted(events):
        track.append(mido.Message(kind, note=note, velocity=64, time=tick - last))
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    midi = mido.MidiFile(type=0, ticks_per_beat=tpb)
    midi.tracks.append(track)
    with atomic_path(path, suffix=".mid") as tmp:
        midi.save(tmp)
    return Path(path)
