"""Scores of a music run: MusicVAE's note accuracy, samples against the training
set, and how smoothly interpolations move (Roberts et al. 2018, https://arxiv.org/abs/1803.05428).

- note accuracy: the share of time steps decoded right, MusicVAE's reconstruction
  accuracy. A step is one token there; here a roll's step is right when its whole
  set of sounding pitches is (an exact frame), a melody's when its token (the
  highest pitch, or a rest; aekit.models.music.tokens) is.
- pitch-class histogram distance: the L1 distance between the 12-bin histograms of
  sounding cells of two sets of rolls (0 same, 2 disjoint); beside it a
  shuffled-note baseline, the training rolls with each piece's pitches permuted.
- note-density distance: the absolute difference of the mean number of sounding
  pitches per step.
- interpolation smoothness: along a spherical path between two pieces' codes, the
  share of inner steps whose notes overlap both ends (Jaccard of sounding cells)
  more than a random other piece overlaps that end.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..errors import AekitError
from ..models.music.tokens import melody_tokens, tokens_to_roll
from ..run import Run
from .latent.paths import slerp

SAMPLES = 128  # samples drawn to compare with the training set
PAIRS = 8  # interpolation pairs
STEPS = 7  # codes per interpolation path, both ends included


def _check(x: Any, what: str) -> torch.Tensor:
    x = torch.as_tensor(x).float()
    if x.ndim != 3 or len(x) == 0:
        raise ValueError(f"{what} must be (N, pitches, steps) rolls, got {x.shape}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{what} holds NaN or infinite values")
    return x


def note_accuracy(
    x: Any, x_hat: Any, *, encoding: str = "roll", threshold: float = 0.5
) -> float:
    """Share of steps of (N, P, T) rolls `x` that `x_hat` gets right: in [0, 1]."""
    x, x_hat = _check(x, "x"), _check(x_hat, "x_hat")
    if x.shape != x_hat.shape:
        raise ValueError(f"shapes differ: {tuple(x.shape)} and {tuple(x_hat.shape)}")
    if encoding == "melody":
        right = melody_tokens(x) == melody_tokens(x_hat)  # (N, T)
    elif encoding == "roll":
        right = ((x >= threshold) == (x_hat >= threshold)).all(dim=1)
    else:
        raise ValueError(f"encoding must be roll or melody, not {encoding!r}")
    return float(right.float().mean())


def pitch_class_histogram(rolls: Any, lowest: int) -> np.ndarray:
    """Normalised 12-bin histogram of the sounding cells by pitch class."""
    rolls = _check(rolls, "rolls")
    per_pitch = (rolls >= 0.5).float().sum(dim=(0, 2)).numpy()  # (P,)
    hist = np.zeros(12)
    np.add.at(hist, (lowest + np.arange(len(per_pitch))) % 12, per_pitch)
    return hist / max(hist.sum(), 1.0)


def pitch_class_distance(a: Any, b: Any, lowest: int) -> float:
    """L1 distance of two sets of rolls' pitch-class histograms, in [0, 2]."""
    ha, hb = pitch_class_histogram(a, lowest), pitch_class_histogram(b, lowest)
    return float(np.abs(ha - hb).sum())


def note_density(rolls: Any) -> float:
    """Mean number of sounding pitches per step."""
    return float((_check(rolls, "rolls") >= 0.5).float().sum(1).mean())


def shuffled_notes(rolls: Any, *, seed: int = 0) -> torch.Tensor:
    """Each roll with its pitch rows permuted at random: the same notes per step
    and rhythm, pitch classes scrambled (the baseline samples must beat)."""
    rolls = _check(rolls, "rolls")
    g = torch.Generator().manual_seed(seed)
    return torch.stack([r[torch.randperm(len(r), generator=g)] for r in rolls])


def overlap(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Jaccard overlap of the sounding cells of rolls a and b (broadcast over the
    leading dimensions); 1 where both are silent."""
    a, b = a >= 0.5, b >= 0.5
    union = (a | b).flatten(-2).sum(-1).float()
    inter = (a & b).flatten(-2).sum(-1).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


def interpolation_smoothness(
    ends: tuple[torch.Tensor, torch.Tensor],
    paths: torch.Tensor,
    others: torch.Tensor,
) -> dict[str, float]:
    """`paths` (pairs, steps, P, T) decoded between `ends` (each (pairs, P, T));
    `others` (pairs, P, T) a random other piece per pair. The share of inner steps
    whose overlap with each end beats the random piece's overlap with it."""
    a, b = ends
    inner = paths[:, 1:-1]  # (pairs, steps - 2, P, T)
    to_a, to_b = overlap(inner, a[:, None]), overlap(inner, b[:, None])
    base_a, base_b = overlap(others, a), overlap(others, b)  # (pairs,)
    beats = (to_a > base_a[:, None]) & (to_b > base_b[:, None])
    return {
        "smoothness": float(beats.float().mean()),
        "overlap_start": float(to_a.mean()),
        "overlap_end": float(to_b.mean()),
        "random_overlap": float(torch.cat([base_a, base_b]).mean()),
    }


# -- a run ---------------------------------------------------------------------------
def music_report(
    run: Run,
    train: Any,
    test: Any,
    *,
    seed: int = 0,
    samples: int = SAMPLES,
    pairs: int = PAIRS,
    steps: int = STEPS,
) -> dict[str, Any]:
    """Every score above for a music run on `test` (a Dataset of rolls), with
    samples compared with `train` (the run's training split; `test` if None)."""
    from .. import inference
    from .music_midi import music_settings

    if len(test) == 0:
        raise AekitError("no pieces to score")
    model, x = run.model, test.x
    encoding = getattr(run.model.config, "encoding", "roll")
    with torch.no_grad():
        x_hat = inference.reconstruct(run, x)
        out: dict[str, Any] = {
            "encoding": encoding,
            "note_accuracy": note_accuracy(x, x_hat, encoding=encoding),
        }
        if getattr(model, "autoregressive", False):
            z = inference.encode(run, x)
            forced = torch.cat(
                [
                    _teacher_forced(model, x[i : i + 256], z[i : i + 256], encoding)
                    for i in range(0, len(x), 256)
                ]
            )
            out["note_accuracy_teacher_forced"] = note_accuracy(
                x, forced, encoding=encoding
            )
        _, lowest = music_settings(run)
        reference = (train if train is not None else test).x
        if encoding == "melody":  # samples are melodies: compare with melodies
            reference = tokens_to_roll(melody_tokens(reference), x.shape[1])
            x = tokens_to_roll(melody_tokens(x), x.shape[1])
        if run.capabilities.sampler is not None:
            drawn = inference.sample(run, samples, seed=seed)
            shuffled = shuffled_notes(reference[:samples], seed=seed)
            out |= {
                "samples": samples,
                "pitch_class_distance": pitch_class_distance(drawn, reference, lowest),
                "pitch_class_distance_shuffled": pitch_class_distance(
                    shuffled, reference, lowest
                ),
                "pitch_class_distance_held_out": pitch_class_distance(
                    x, reference, lowest
                ),
                "note_density": note_density(drawn),
                "note_density_data": note_density(reference),
                "note_density_distance": abs(
                    note_density(drawn) - note_density(reference)
                ),
            }
        if len(x) >= 3:
            out["interpolation"] = _interpolations(run, x, pairs, steps, seed)
    return out


def _teacher_forced(
    model: Any, x: torch.Tensor, z: torch.Tensor, encoding: str
) -> torch.Tensor:
    """The likeliest step given the true steps before it, as a roll."""
    logits = model.teacher_forced_logits(x, z)  # (B, T, width)
    if encoding == "melody":
        return tokens_to_roll(logits.argmax(-1), x.shape[1])
    return (logits >= 0).float().transpose(1, 2)


def _interpolations(
    run: Run, x: torch.Tensor, pairs: int, steps: int, seed: int
) -> dict[str, Any]:
    from .. import inference

    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(x), generator=g)
    n = min(pairs, len(x) // 3)
    a, b, r = x[order[:n]], x[order[n : 2 * n]], x[order[2 * n : 3 * n]]
    za, zb = inference.encode(run, a), inference.encode(run, b)
    path = torch.stack([slerp(p, q, steps) for p, q in zip(za, zb, strict=True)])
    decoded = inference.decode(run, path.flatten(0, 1)).reshape(n, steps, *x.shape[1:])
    return {"pairs": n, "steps": steps} | interpolation_smoothness((a, b), decoded, r)


def music_lines(m: dict[str, Any]) -> list[str]:
    """The music scores as lines for a reader (the CLI prints them)."""
    lines = [f"music ({m['encoding']}): note accuracy {m['note_accuracy']:.4f}"]
    if "note_accuracy_teacher_forced" in m:
        lines[0] += f" (teacher-forced {m['note_accuracy_teacher_forced']:.4f})"
    if "pitch_class_distance" in m:
        lines.append(
            f"  {m['samples']} samples: pitch-class L1 to the training set "
            f"{m['pitch_class_distance']:.4f} (shuffled notes "
            f"{m['pitch_class_distance_shuffled']:.4f}, these pieces "
            f"{m['pitch_class_distance_held_out']:.4f}); notes per step "
            f"{m['note_density']:.3f} vs {m['note_density_data']:.3f}"
        )
    if "interpolation" in m:
        i = m["interpolation"]
        lines.append(
            f"  interpolation ({i['pairs']} pairs, {i['steps']} steps): "
            f"{i['smoothness']:.3f} of inner steps overlap both ends more than a "
            f"random piece ({i['overlap_start']:.3f} / {i['overlap_end']:.3f} vs "
            f"{i['random_overlap']:.3f})"
        )
    return lines
