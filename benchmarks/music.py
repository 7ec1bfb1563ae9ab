"""A sequence VAE on Bach chorales (music21's corpus), recorded in BENCHMARKS.md.

    python benchmarks/music.py [--out runs/bench-music] [--pieces 100] [--quick]

The first `--pieces` chorales of music21's corpus (bach/bwv*.mxl, sorted by name) are
written once as MIDI (music21), then read by aekit as piano rolls: 4 steps per beat,
2 bars of 4/4 (32 steps), pitches 36..83. Every tenth chorale is held out.
A VAE (lstm-vae and conv1d-vae, Bernoulli decoder, code size 32) is trained on the
rest with beta 0.2 and a 10-epoch KL warm-up (a KL weight below 1, as MusicVAE uses,
keeps the code from being silenced on sparse rolls): conv1d-vae 60 epochs at lr 2e-3,
lstm-vae 150 at 5e-3 (it learns slower).

Reported, on the held-out chorales' segments, with a cell sounding at p >= 0.5:
- note recall, precision and F1: the sounding (pitch, step) cells that the
  reconstruction gets right (cell accuracy is ~96% for silence alone, so it is
  not reported);
- frame accuracy: steps whose whole set of sounding pitches is reproduced exactly.
And for 256 samples from the prior: the L1 distance between their pitch-class
histogram and the training corpus', beside the held-out chorales' own distance
(the floor) and random notes' (uniform pitches, the corpus' note density).
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

import aekit
from aekit import inference
from aekit.run import load_inputs

MODELS = {  # name -> (options, epochs, learning rate): the LSTM learns slower
    "lstm-vae": ({"hidden_size": 128, "latent_dim": 32}, 150, 5e-3),
    "conv1d-vae": ({"channels": (64, 128), "latent_dim": 32}, 60, 2e-3),
}
# MusicVAE's remedy for codes the KL silences: a KL weight below 1 (beta 0.2)
VAE = {"beta": 0.2, "kl_warmup_epochs": 10}
DATA = {"steps_per_beat": 4, "bars": 2, "pitch_range": (36, 84), "beats_per_bar": 4.0}
TRAINING = {"batch_size": 32, "patience": 0, "seed": 0}
SAMPLES = 256


def write_chorales(folder: Path, n: int) -> tuple[Path, Path]:
    """The first n chorales as MIDI, split into train/ and test/ (every tenth)."""
    import music21

    train, test = folder / "train", folder / "test"
    if (
        train.is_dir()
        and len(list(train.glob("*.mid"))) + len(list(test.glob("*.mid"))) == n
    ):
        return train, test
    train.mkdir(parents=True, exist_ok=True)
    test.mkdir(parents=True, exist_ok=True)
    paths = sorted(p for p in music21.corpus.getComposer("bach") if p.suffix == ".mxl")[
        :n
    ]
    for i, p in enumerate(paths):
        target = (test if i % 10 == 9 else train) / f"{p.stem}.mid"
        if not target.exists():
            music21.converter.parse(p).write("midi", fp=str(target))
    return train, test


def note_scores(x: torch.Tensor, p: torch.Tensor) -> dict[str, float]:
    """Recall, precision and F1 of sounding cells; exact frames."""
    truth, guess = x > 0.5, p >= 0.5
    hits = (truth & guess).sum().item()
    recall = hits / max(truth.sum().item(), 1)
    precision = hits / max(guess.sum().item(), 1)
    f1 = 2 * recall * precision / max(recall + precision, 1e-12)
    frames = (truth == guess).all(dim=1)  # (N, T): every pitch of a step right
    sounding = truth.any(dim=1)
    return {
        "recall": recall,
        "precision": precision,
        "f1": f1,
        "frames": frames.float().mean().item(),
        "sounding_frames": frames[sounding].float().mean().item(),
    }


def pitch_classes(rolls: torch.Tensor, lowest: int) -> np.ndarray:
    """Normalised 12-bin histogram of sounding cells by pitch class."""
    per_pitch = (rolls >= 0.5).float().sum(dim=(0, 2)).numpy()  # (P,)
    hist = np.zeros(12)
    for k, count in enumerate(per_pitch):
        hist[(lowest + k) % 12] += count
    return hist / max(hist.sum(), 1.0)


def tonal_profile(rolls: torch.Tensor, lowest: int) -> np.ndarray:
    """Mean per-segment pitch-class histogram, each rotated so its most frequent
    class comes first: a key-free profile (tonic, dominant, ...) that random notes
    lack, where the corpus-wide histogram of pieces in many keys is nearly flat."""
    profiles = []
    for roll in rolls:
        hist = pitch_classes(roll[None], lowest)
        if hist.sum() > 0:
            profiles.append(np.roll(hist, -int(np.argmax(hist))))
    return np.mean(profiles, axis=0) if profiles else np.zeros(12)


def random_notes(like: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """Rolls of uniformly random pitches at the corpus' note density."""
    g = torch.Generator().manual_seed(seed)
    density = float((like > 0.5).float().mean())
    return (torch.rand(n, *like.shape[1:], generator=g) < density).float()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/bench-music"))
    parser.add_argument("--pieces", type=int, default=100)
    parser.add_argument("--epochs", type=int, help="default: per model (MODELS)")
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--quick", action="store_true", help="10 pieces, 2 epochs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    pieces, epochs = (10, 2) if args.quick else (args.pieces, args.epochs)
    used = []
    started = time.perf_counter()
    train_dir, test_dir = write_chorales(args.out / f"chorales-{pieces}", pieces)
    print(f"chorales as MIDI: {time.perf_counter() - started:.0f} s")
    lowest = DATA["pitch_range"][0]
    rows = [
        "| model | parameters | train s | note recall | precision | F1 | frames "
        "exact | samples: pitch-class L1 | key-free L1 | notes per step |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    corpus = test = None
    for name in args.models:
        t0 = time.perf_counter()
        options, model_epochs, lr = MODELS[name]
        used.append(f"{name} {epochs or model_epochs} epochs at lr {lr:g}")
        run = aekit.train(
            str(train_dir), name, out=args.out / name, overwrite=True,
            epochs=epochs or model_epochs, lr=lr, pictures=False, report=False,
            **options, **VAE, **DATA, **TRAINING,
        )  # fmt: skip
        seconds = time.perf_counter() - t0
        if corpus is None:
            from aekit.run import run_data

            corpus = run_data(run).x
            test = load_inputs(run, str(test_dir)).x
        s = note_scores(test, inference.reconstruct(run, test))
        samples = inference.sample(run, SAMPLES, seed=0)
        l1 = np.abs(pitch_classes(samples, lowest) - pitch_classes(corpus, lowest))
        key_free = np.abs(
            tonal_profile(samples, lowest) - tonal_profile(corpus, lowest)
        )
        density = (samples >= 0.5).float().sum(1).mean().item()
        n_params = sum(p.numel() for p in run.model.parameters())
        rows.append(
            f"| {name} | {n_params:,} | {seconds:.0f} | {s['recall']:.3f} | "
            f"{s['precision']:.3f} | {s['f1']:.3f} | {s['frames']:.3f} | "
            f"{l1.sum():.3f} | {key_free.sum():.3f} | {density:.2f} |"
        )
    reference = pitch_classes(corpus, lowest)
    held_out = np.abs(pitch_classes(test, lowest) - reference).sum()
    noise = random_notes(corpus, SAMPLES, 0)
    rand = np.abs(pitch_classes(noise, lowest) - reference)
    profile = tonal_profile(corpus, lowest)
    key_held = np.abs(tonal_profile(test, lowest) - profile).sum()
    key_rand = np.abs(tonal_profile(noise, lowest) - profile).sum()
    notes = (corpus > 0.5).float().sum(1).mean().item()
    print("\n".join(rows))
    print(
        f"\nL1 to the training corpus, pitch-class / key-free: held-out chorales "
        f"{held_out:.3f} / {key_held:.3f} (the floor), random notes at the corpus' "
        f"density {rand.sum():.3f} / {key_rand:.3f}; the corpus sounds "
        f"{notes:.2f} notes per step"
    )
    print(
        f"{len(corpus)} training segments, {len(test)} held-out segments of "
        f"{tuple(corpus.shape[1:])}; {', '.join(used)}; "
        f"{time.perf_counter() - started:.0f} s in all; {platform.machine()}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} thread"
    )


if __name__ == "__main__":
    main()
