"""MusicVAE on held-out Bach chorales: note accuracy for 2- and 16-bar spans (issue 24).

    python benchmarks/music_chorales.py --bars 2             # about 2 min
    python benchmarks/music_chorales.py --bars 16            # the 15-minute budget
    python benchmarks/music_chorales.py --bars 2 --encoding roll --quick

All of music21's Bach chorales (bach/bwv*.mxl, sorted by name) are written once as
MIDI (benchmarks/music.py's write_chorales) and split by piece: every tenth
chorale is held out, so no bar of a test piece was trained on. aekit reads them as
piano rolls, 4 steps per beat, pitches 36..83, cut into `--bars` bars of 4 beats.
`music-vae` trains at its defaults (code 128, beta 0.2, 16 free nats per bar) and
aekit's default budget, with --time-limit seconds at most (default 840: the issue's
15 minutes with room for the scoring). `--encoding melody` models the top voice
(the soprano) as one token per step, as MusicVAE's melody models do; `roll` the
four voices as Bernoulli cells, where a step is right only with all its pitches.

Printed, on the held-out chorales (aekit.analysis.music_metrics): note accuracy
(free-running greedy decoding from the posterior mean, and teacher-forced), the
pitch-class L1 distance of 128 prior samples to the training set beside a
shuffled-note baseline and the held-out pieces, notes per step, and the share of
interpolation steps that overlap both ends more than a random piece.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

import aekit
from aekit.analysis.music_metrics import music_report
from aekit.data.music import notes_to_roll, piano_roll_to_midi, read_midi_notes
from aekit.run import load_inputs, run_splits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from music import write_chorales  # noqa: E402  (the sibling benchmark's writer)

ALL_CHORALES = 408  # bach/bwv*.mxl in music21 10.x (every one)
DATA = {"steps_per_beat": 4, "pitch_range": (36, 84), "beats_per_bar": 4.0}
BEATS = 4  # a bar


def shifted_copies(train: Path, bars: int, copies: int) -> Path:
    """The training pieces again, each also starting `bars * 4 * k / copies` beats
    later (k = 1..copies - 1, whole beats): segments cut at other places, so a
    model sees each bar at several places of a segment. Training pieces only."""
    if copies <= 1:
        return train
    folder = train.parent / f"train-{bars}bars-x{copies}"
    if folder.is_dir() and any(folder.iterdir()):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    lo, hi = DATA["pitch_range"]
    for path in sorted(train.glob("*.mid")):
        notes, _ = read_midi_notes(path)
        for k in range(copies):
            skip = round(BEATS * bars * k / copies)  # whole beats
            kept = notes[notes[:, 1] >= skip] - np.array([0, skip, skip])
            if len(kept):
                roll = notes_to_roll(kept, DATA["steps_per_beat"], lo, hi)
                piano_roll_to_midi(roll, folder / f"{path.stem}-{k}.mid", 4, lo)
    return folder


def _value(text: str) -> int | float | str:
    """A --set value: a number where it reads as one (key_condition=none: a word)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bars", type=int, default=2)
    parser.add_argument("--encoding", choices=["melody", "roll"], default="melody")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-chorales"))
    parser.add_argument("--cache", type=Path, default=Path("runs/chorales-midi"))
    parser.add_argument("--time-limit", type=float, default=840.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--copies",
        type=int,
        default=1,
        help="train on each piece cut at this many offsets (1: as it is)",
    )
    parser.add_argument("--epochs", type=int, help="default: aekit's budget")
    parser.add_argument("--step-dropout", type=float, help="default: the model's")
    parser.add_argument("--transpose", type=int, help="default: the model's")
    parser.add_argument("--batch-size", type=int, help="default: aekit's")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="another music-vae option, e.g. decoder_size=128 (repeatable)",
    )
    parser.add_argument("--quick", action="store_true", help="20 pieces, 2 epochs")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    pieces = 20 if args.quick else ALL_CHORALES
    started = time.perf_counter()
    cache = args.cache / f"chorales-{pieces}"
    train_dir, test_dir = write_chorales(cache, pieces)
    print(f"chorales as MIDI in {cache}: {time.perf_counter() - started:.0f} s")
    train_dir = shifted_copies(train_dir, args.bars, args.copies)
    t0 = time.perf_counter()
    extra = {"epochs": 2} if args.quick else {}
    if args.epochs:
        extra["epochs"] = args.epochs
    if args.step_dropout is not None:
        extra["step_dropout"] = args.step_dropout
    if args.transpose is not None:
        extra["transpose"] = args.transpose
    if args.batch_size is not None:
        extra["batch_size"] = args.batch_size
    for item in args.set:
        key, _, value = item.partition("=")
        extra[key] = _value(value)
    name = f"{args.encoding}-{args.bars}bar-x{args.copies}"
    name += "" if args.step_dropout is None else f"-drop{args.step_dropout:g}"
    name += "" if args.transpose is None else f"-tr{args.transpose}"
    name += "" if args.batch_size is None else f"-b{args.batch_size}"
    name += "" if args.epochs is None else f"-e{args.epochs}"
    name += "".join(f"-{item}" for item in args.set)
    run = aekit.train(
        str(train_dir), "music-vae", out=args.out / name,
        overwrite=True, pictures=False, report=False, bars=args.bars,
        encoding=args.encoding, time_limit=args.time_limit, seed=0,
        **DATA, **extra,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    train, _ = run_splits(run)
    test = load_inputs(run, str(test_dir))
    t1 = time.perf_counter()
    m = music_report(run, train, test, seed=0)
    scored = time.perf_counter() - t1
    i = m["interpolation"]
    n_params = sum(p.numel() for p in run.model.parameters())
    epochs = len(run.history.rows)
    print(
        "| span | encoding | train / held-out segments | parameters | epochs | "
        "train s | note accuracy | teacher-forced | pitch-class L1: samples | "
        "shuffled | held-out | notes/step samples / data | interpolation |"
    )
    print("| --- | --- |" + " ---: |" * 11)
    print(
        f"| {args.bars} bars | {args.encoding} | {len(train)} / {len(test)} | "
        f"{n_params:,} | {epochs} | {seconds:.0f} | {m['note_accuracy']:.3f} | "
        f"{m['note_accuracy_teacher_forced']:.3f} | "
        f"{m['pitch_class_distance']:.3f} | "
        f"{m['pitch_class_distance_shuffled']:.3f} | "
        f"{m['pitch_class_distance_held_out']:.3f} | {m['note_density']:.2f} / "
        f"{m['note_density_data']:.2f} | {i['smoothness']:.2f} |"
    )
    print(
        f"scoring {scored:.0f} s; {time.perf_counter() - started:.0f} s in all; "
        f"{platform.machine()}, {os.cpu_count()} cores (shared), torch "
        f"{torch.__version__}, {torch.get_num_threads()} thread(s)"
    )


if __name__ == "__main__":
    main()
