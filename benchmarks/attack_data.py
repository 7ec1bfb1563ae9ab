"""The inputs and runs the attack campaign (attack_campaign.py) needs, made in its
work folder: good data of every kind, bad files of every kind, tiny trained runs and
broken copies of them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

SRC = Path(__file__).resolve().parents[1] / "src"
QUIET = ["--quiet", "--no-report", "--no-pictures", "--threads", "1", "--seed", "0"]
TINY = ["--epochs", "1", *QUIET]

# name -> train arguments (besides --out and TINY); data paths relative to data/
RUNS: dict[str, list[str]] = {
    "conv1d": [
        "--data",
        "{d}/series.csv",
        "--model",
        "conv1d",
        "--window",
        "20",
        "--latent-dim",
        "3",
    ],
    "lstm": [
        "--data",
        "{d}/series.csv",
        "--model",
        "lstm",
        "--window",
        "20",
        "--hidden-size",
        "8",
        "--latent-dim",
        "3",
    ],
    "music": [
        "--data",
        "{d}/pieces",
        "--model",
        "lstm-vae",
        "--hidden-size",
        "8",
        "--latent-dim",
        "2",
        "--bars",
        "1",
        "--steps-per-beat",
        "2",
        "--pitch-range",
        "48:84",
        "--batch-size",
        "4",
    ],
    "cvae": ["--data", "digits", "--model", "cvae", "--latent-dim", "2"],
    "vae": ["--data", "{d}/table.csv", "--model", "vae", "--latent-dim", "2"],
    "vq": ["--data", "digits", "--model", "vq-vae", "--codebook-size", "8"],
    "vaegan": ["--data", "digits", "--model", "vae-gan", "--latent-dim", "2"],
    "wae": ["--data", "{d}/table.csv", "--model", "wae", "--latent-dim", "2"],
    "sae": [
        "--data",
        "{d}/table.csv",
        "--model",
        "sae",
        "--sae",
        "topk",
        "--k",
        "2",
        "--latent-dim",
        "16",
    ],
    "conv": ["--data", "{d}/images", "--model", "conv", "--latent-dim", "4"],
}
BROKEN = ("truncated", "garbage-config", "no-weights", "empty-weights")


def env(work: Path) -> dict[str, str]:
    out = dict(os.environ, OMP_NUM_THREADS="1", AEKIT_CACHE=str(work / "cache"))
    out["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), out.get("PYTHONPATH")]))
    return out


def aekit(*args: str) -> list[str]:
    return [sys.executable, "-m", "aekit", *args]


def write_piece(path: Path, pitches: list[int], *, tpb: int = 96) -> Path:
    """One quarter note per pitch, one after another (4/4)."""
    import mido

    track = mido.MidiTrack()
    for pitch in pitches:
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=tpb))
    midi = mido.MidiFile(type=1, ticks_per_beat=tpb)
    midi.tracks.append(track)
    midi.save(path)
    return path


def _csv(path: Path, header: list[str], rows: np.ndarray | list) -> Path:
    lines = [",".join(header)] + [",".join(f"{v:.5g}" for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def make_data(d: Path) -> None:
    """Good and bad inputs of every kind under d."""
    from PIL import Image

    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    t = np.arange(300)
    series = np.c_[t, np.sin(t / 5), np.cos(t / 7) + 0.1 * rng.normal(size=300)]
    _csv(d / "series.csv", ["time", "a", "b"], series)
    _csv(d / "series3.csv", ["time", "a", "b", "c"], np.c_[series, np.sin(t / 3)])
    _csv(d / "series1.csv", ["time", "a"], series[:, :2])
    _csv(d / "onerow.csv", ["time", "a", "b"], series[:1])
    short = _csv(d / "short.csv", ["time", "a", "b"], series[:10])
    assert short.exists()
    for name, bad in (("nan", np.nan), ("inf", np.inf)):
        s = series.copy()
        s[50, 1] = bad
        _csv(d / f"{name}.csv", ["time", "a", "b"], s)
    (d / "empty.csv").write_text("")
    (d / "header.csv").write_text("time,a,b\n")
    (d / "text.csv").write_text("time,a,b\n" + "0,x,y\n1,z,w\n" * 50)
    table = rng.normal(size=(200, 6))
    label = (table[:, 0] > 0).astype(int)
    _csv(d / "table.csv", [f"f{i}" for i in range(6)] + ["label"], np.c_[table, label])
    _csv(d / "table7.csv", [f"f{i}" for i in range(7)], rng.normal(size=(50, 7)))
    _csv(d / "table1.csv", [f"f{i}" for i in range(6)], table[:1])
    tn = table.copy()
    tn[3, 2] = np.nan
    _csv(d / "tablenan.csv", [f"f{i}" for i in range(6)], tn)
    tn[3, 2] = -np.inf
    _csv(d / "tableinf.csv", [f"f{i}" for i in range(6)], tn)
    for k in range(2):
        (d / "images" / f"c{k}").mkdir(parents=True, exist_ok=True)
        for i in range(20):
            px = (rng.random((16, 16)) * 80 + 120 * k).astype(np.uint8)
            Image.fromarray(px).save(d / "images" / f"c{k}" / f"{i}.png")
    (d / "emptydir").mkdir(exist_ok=True)
    (d / "textdir").mkdir(exist_ok=True)
    (d / "textdir" / "a.txt").write_text("not an image\n")
    (d / "pieces").mkdir(exist_ok=True)
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    for k in range(4):
        write_piece(d / "pieces" / f"p{k}.mid", [scale[(i + k) % 8] for i in range(16)])
    good = (d / "pieces" / "p0.mid").read_bytes()
    (d / "trunc.mid").write_bytes(good[: len(good) // 2])
    (d / "empty.mid").write_bytes(b"")
    (d / "garbage.mid").write_bytes(
        b"MThd" + bytes(rng.integers(0, 256, 200, np.uint8))
    )
    write_piece(d / "low.mid", [20, 22, 24] * 8)  # every note out of range
    write_piece(d / "tiny.mid", [60])  # one beat
    (d / "garbage.npy").write_bytes(bytes(rng.integers(0, 256, 300, np.uint8)))
    np.save(d / "nan.npy", np.full((4, 3), np.nan, np.float32))
    np.save(d / "zero.npy", np.zeros((0, 3), np.float32))
    (d / "afile").write_text("a file where a folder is expected\n")
    for w in (2, 3, 4, 16):  # codes of every width a run here has
        c = rng.normal(size=(5, w))
        _csv(d / f"codes{w}.csv", [f"z{i}" for i in range(w)], c)
        _csv(d / f"codes{w}_one.csv", [f"z{i}" for i in range(w)], c[:1])
        c[1, 0] = np.nan
        _csv(d / f"codes{w}_nan.csv", [f"z{i}" for i in range(w)], c)
        c[1, 0] = np.inf
        _csv(d / f"codes{w}_inf.csv", [f"z{i}" for i in range(w)], c)
        (d / f"codes{w}_header.csv").write_text(",".join(f"z{i}" for i in range(w)))
        np.save(d / f"codes{w}_huge.npy", np.full((3, w), 1e30, np.float32))


def train_runs(work: Path, only: list[str] | None = None) -> dict[str, Path]:
    """Train the tiny runs; the ones that fail are reported and left out."""
    runs, e = {}, env(work)
    for name, args in RUNS.items():
        if only and name not in only:
            continue
        out = work / "runs" / name
        if (out / "model.safetensors").exists():
            runs[name] = out
            continue
        args = [a.format(d=work / "data") for a in args]
        proc = subprocess.run(
            aekit("train", *args, *TINY, "--out", str(out)),
            env=e,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode == 0:
            runs[name] = out
        else:
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            print(f"setup: run {name} did not train ({last}); its attacks are skipped")
    return runs


def break_run(run: Path, how: str, name: str = "model.safetensors") -> None:
    """Break one file of a run in place: truncated, garbage-config, no-weights or
    empty-weights (the weights file is `name`)."""
    weights = run / name
    if how == "truncated":
        data = weights.read_bytes()
        weights.write_bytes(data[: len(data) // 2])
    elif how == "garbage-config":
        (run / "config.json").write_text('{"model": {"name": ')
    elif how == "no-weights":
        weights.unlink()
    else:
        weights.write_bytes(b"")


def break_runs(work: Path, runs: dict[str, Path], bases: list[str]) -> dict[str, Path]:
    """Copies of runs with a truncated, missing or empty weights file or a garbage
    config.json; named BASE-BREAKAGE."""
    broken = {}
    for base in bases:
        if base not in runs:
            continue
        for how in BROKEN if base == "conv1d" else BROKEN[:3]:
            dst = work / "broken" / f"{base}-{how}"
            if dst.exists():
                shutil.rmtree(dst)
            shutil.copytree(runs[base], dst)
            break_run(dst, how)
            broken[f"{base}-{how}"] = dst
    if "conv1d" in runs:  # a config naming a model that does not exist
        dst = work / "broken" / "conv1d-unknown-model"
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(runs["conv1d"], dst)
        cfg = json.loads((dst / "config.json").read_text())
        cfg["model"]["name"] = "no-such-model"
        (dst / "config.json").write_text(json.dumps(cfg))
        broken["conv1d-unknown-model"] = dst
    return broken
