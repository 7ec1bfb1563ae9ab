"""A music run's outputs as MIDI: samples, decoded codes and interpolation paths.

A music run is a sequence run on piano rolls (data.music: values in [0, 1], cut
into bars, no window). Decoded rolls are note probabilities; a cell at 0.5 or more
sounds (data.music.piano_roll_to_midi). `interpolation_midi` writes MusicVAE's
demo (Roberts et al. 2018, https://arxiv.org/abs/1803.05428): the pieces at both
ends and the decoded codes between them, played one after another.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from ..data.music import DEFAULT_PITCH_RANGE, piano_roll_to_midi
from ..errors import AekitError
from ..run import Run

MIDI_SUFFIXES = (".mid", ".midi")


MAX_STEPS = 1000  # interpolation steps: one .mid file each


def check_steps(steps: Any) -> None:
    """An interpolation's steps: 2 to MAX_STEPS (one MIDI file each)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise AekitError(f"an interpolation needs at least 2 steps, got {steps!r}")
    if steps > MAX_STEPS:
        raise AekitError(
            f"an interpolation has at most {MAX_STEPS} steps (one MIDI file each), "
            f"got {steps}"
        )


def is_music_run(run: Run) -> bool:
    """Trained on piano rolls: sequences in [0, 1] that were not cut by a window."""
    options = run.data_spec.get("options") or {}
    return (
        run.input_kind == "sequence"
        and run.scaling.domain == "unit"
        and options.get("window") is None
    )


def music_settings(run: Run) -> tuple[int, int]:
    """(steps per beat, lowest MIDI pitch) the run's piano rolls were cut with."""
    options = run.data_spec.get("options") or {}
    pitches = options.get("pitch_range") or DEFAULT_PITCH_RANGE
    return int(options.get("steps_per_beat") or 4), int(pitches[0])


def write_midi(run: Run, rolls: Any, out: str | Path) -> list[Path]:
    """(N, pitches, steps) rolls -> one .mid per roll in the folder `out`, or all of
    them one after another in one file when `out` ends in .mid / .midi."""
    if not is_music_run(run):
        raise AekitError(f"{run.path} was not trained on music; MIDI needs piano rolls")
    rolls = torch.as_tensor(rolls).float()
    if rolls.ndim != 3 or len(rolls) == 0:
        raise AekitError(
            f"piano rolls are (N, pitches, steps), got {tuple(rolls.shape)}"
        )
    steps_per_beat, lowest = music_settings(run)
    out = Path(out)
    if out.suffix.lower() in MIDI_SUFFIXES:
        whole = torch.cat(list(rolls), dim=-1)  # (pitches, N * steps)
        return [piano_roll_to_midi(whole, out, steps_per_beat, lowest)]
    out.mkdir(parents=True, exist_ok=True)
    width = max(4, len(str(len(rolls))))
    return [
        piano_roll_to_midi(roll, out / f"{i:0{width}d}.mid", steps_per_beat, lowest)
        for i, roll in enumerate(rolls)
    ]


def interpolation_midi(
    run: Run, folder: str | Path, *, data: Any = None, **options: Any
) -> list[Path]:
    """The paths of `plot RUN interpolate` as MIDI files in `folder`, one per pair
    and path kind: the first piece, the decoded steps, the second piece. Takes the
    picture's data and options, so the files match the picture."""
    from .plots.kinds import interpolation_frames
    from .plots.pictures import picture_data, picture_options

    if not is_music_run(run):
        raise AekitError(f"{run.path} was not trained on music; MIDI needs piano rolls")
    shown, fit = picture_data(run, data)
    o = dataclasses.replace(picture_options(options), fit=fit)
    pairs, frames = interpolation_frames(run, shown, o)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    steps_per_beat, lowest = music_settings(run)
    written = []
    for k, (i, j) in enumerate(pairs):
        for method, x in frames.items():
            path = torch.cat([shown.x[i : i + 1], x[k], shown.x[j : j + 1]])
            roll = torch.cat(list(path), dim=-1)  # (pitches, (steps + 2) * T)
            name = folder / f"pair{k + 1}-{method}.mid"
            written.append(piano_roll_to_midi(roll, name, steps_per_beat, lowest))
    return written


def interpolate_pieces(
    run: Run,
    start: Any,
    end: Any,
    folder: str | Path,
    *,
    steps: int = 5,
    method: str = "spherical",
) -> list[Path]:
    """MusicVAE's interpolation between two pieces, one .mid per step in `folder`:
    each piece is cut into the run's segments, segment i of `start` is paired with
    segment i of `end` (as many as the shorter has), and step k plays every
    pair's k-th code decoded, one after another. Step 0 and the last are the two
    pieces' own decoded codes. Nothing is written when an input is refused."""
    from .. import inference
    from ..run import load_inputs
    from .latent.paths import PATHS

    if not is_music_run(run):
        raise AekitError(f"{run.path} was not trained on music; MIDI needs piano rolls")
    if method not in PATHS:
        raise AekitError(f"unknown interpolation {method!r}: linear or spherical")
    check_steps(steps)
    a, b = load_inputs(run, start).x, load_inputs(run, end).x
    n = min(len(a), len(b))
    with torch.no_grad():
        za, zb = inference.encode(run, a[:n]), inference.encode(run, b[:n])
        path = torch.stack(
            [PATHS[method](p, q, steps) for p, q in zip(za, zb, strict=True)]
        )  # (n, steps, latent)
        rolls = inference.decode(run, path.transpose(0, 1).flatten(0, 1))
    rolls = rolls.reshape(steps, n, *rolls.shape[1:])  # (steps, n, P, T)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    steps_per_beat, lowest = music_settings(run)
    width = max(2, len(str(steps - 1)))
    return [
        piano_roll_to_midi(
            torch.cat(list(rolls[k]), dim=-1),
            folder / f"step{k:0{width}d}.mid",
            steps_per_beat,
            lowest,
        )
        for k in range(steps)
    ]
