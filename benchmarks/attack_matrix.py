"""The attacks of the campaign (attack_campaign.py): every command of the sequence,
music, clustering and generative work against bad inputs, bad options, wrong kinds
of runs, broken runs and --out paths of the wrong kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Attack:
    command: str
    args: list[str]
    out: str | None = None  # the --out name inside the attack's own folder
    verdict: str = ""
    why: str = ""
    rc: int | None = None
    last: str = ""
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


OUT, Q = ("--out", "{o}"), ("--quiet", "--no-report")


# fmt: off
def matrix(work: Path, runs: dict[str, Path], broken: dict[str, Path]) -> list[Attack]:
    d, A = work / "data", []

    def add(command: str, *args, out: str | None = None, **extra) -> None:
        A.append(Attack(command, [command, *map(str, args)], out, extra=extra))

    R = {k: str(v) for k, v in {**runs, **broken}.items()}
    width = {"conv1d": 3, "lstm": 3, "music": 2, "cvae": 2, "vae": 2, "vaegan": 2,
             "wae": 2, "sae": 16, "conv": 4, "vq": 2}
    bad_series = ["empty.csv", "header.csv", "onerow.csv", "short.csv", "nan.csv",
                  "inf.csv", "text.csv", "series3.csv", "series1.csv", "missing.csv",
                  "emptydir", "images", "garbage.npy", "zero.npy"]
    bad_table = ["empty.csv", "table1.csv", "tablenan.csv", "tableinf.csv",
                 "table7.csv", "series.csv", "images", "garbage.npy"]
    bad_music = ["empty.mid", "garbage.mid", "trunc.mid", "low.mid", "tiny.mid",
                 "series.csv", "images", "emptydir"]
    bad_images = ["empty.csv", "series.csv", "textdir", "emptydir", "pieces", "nan.npy"]
    inputs = {"conv1d": bad_series, "lstm": bad_series, "vae": bad_table,
              "music": bad_music,
              "cvae": bad_images, "conv": bad_images}
    for run, bad in inputs.items():
        if run not in R:
            continue
        for b in bad:
            add("detect", R[run], d / b, *OUT, out="scores.csv")
            if run in ("lstm", "conv"):
                continue
            add("encode", R[run], d / b, *OUT, out="codes.npy")
            if run in ("conv1d", "music", "cvae"):
                add("reconstruct", R[run], d / b, *OUT, out="rec.npy")
                add("cluster", R[run], d / b, "--k", 2, *OUT, out="l.csv")
                add("evaluate", R[run], "--data", d / b, *OUT, out="m.json")
    # train on bad data, and with bad options
    for b in bad_series:
        add("train", "--data", d / b, "--model", "conv1d", "--window", 20,
            "--epochs", 1, *Q, *OUT, out="run")
    for b in bad_music[:5] + ["emptydir"]:
        add("train", "--data", d / b, "--model", "lstm-vae", "--bars", 1, "--epochs", 1,
            "--hidden-size", 8, *Q, *OUT, out="run")
    base = ["--data", d / "series.csv", "--model", "conv1d", "--window", 20,
            "--epochs", 1]
    bad_opts = [("--window", v) for v in (0, -1, 1, 10**9, "nan")] + [
        ("--epochs", v) for v in (0, -1, "nan")] + [
        ("--latent-dim", v) for v in (0, -1, 10**9)] + [
        ("--batch-size", v) for v in (0, -1, 10**12)] + [
        ("--lr", v) for v in ("nan", "inf", -1, 0)] + [
        ("--kernel-size", v) for v in (0, 10**6)] + [
        ("--channels", v) for v in ("0", "-4", "x")] + [
        ("--val-fraction", v) for v in (0, 1, "nan")] + [
        ("--time-limit", v) for v in (-1, "nan")] + [
        ("--model", m) for m in ("music-vae", "cvae", "sae", "vq-vae", "lstm-vae")]
    for opt, v in bad_opts:
        add("train", *base, opt, v, *Q, *OUT, out="run")
    music = ["--data", d / "pieces", "--model", "lstm-vae", "--hidden-size", 8,
             "--epochs", 1]
    for opt, v in [("--bars", 0), ("--bars", -1), ("--bars", 10**6),
                   ("--pitch-range", "84:48"), ("--pitch-range", "0:500"),
                   ("--pitch-range", "x"), ("--steps-per-beat", 0),
                   ("--steps-per-beat", 10**6), ("--hidden-size", 0), ("--beta", "nan"),
                   ("--model", "conv1d"), ("--model", "cvae"), ("--model", "vae-gan")]:
        add("train", *music, "--bars", 1, opt, v, *Q, *OUT,
            out="run")
    for opt, v in [("--codebook-size", 0), ("--codebook-size", 1),
                   ("--codebook-size", -1),
                   ("--code-dim", 0), ("--commitment", "nan"), ("--ema-decay", 2)]:
        add("train", "--data", "digits", "--model", "vq-vae", opt, v, "--epochs", 1,
            *Q, *OUT, out="run")
    for opt, v in [("--k", 0), ("--k", 10**9), ("--k", -1), ("--l1", "nan"),
                   ("--latent-dim", 0), ("--sae", "topk --k 999")]:
        add("train", "--data", d / "table.csv", "--model", "sae", opt, v, "--epochs", 1,
            *Q, *OUT, out="run")
    for src in ("series.csv", "table.csv"):  # a cvae with no labels to condition on
        add("train", "--data", d / src, "--model", "cvae", "--condition", "nope",
            "--epochs", 1, *Q, *OUT, out="run")
    add("train", *base, "--quiet", *OUT, out="afile", prefill="file")
    add("train", *base, "--quiet", *OUT, out="old", prefill="dir")
    add("train", "--resume", work / "nope", "--epochs", 2, *Q)
    for r in ("conv1d", "music", "cvae", "vq"):  # each on its own broken copy
        for how in ("truncated", "no-weights", "empty-weights", "garbage-config"):
            for name in ("checkpoint.safetensors", "model.safetensors"):
                if how == "garbage-config" and name == "model.safetensors":
                    continue
                add("train", "--resume", "{r}", "--epochs", 2, *Q, copy=R[r],
                    breakage=(how, name))
    # generative commands on every broken copy, and good runs
    for run in list(broken) + ["missing-run"]:
        R.setdefault(run, str(work / "no-such-run"))
        add("sample", R[run], "-n", 4, *OUT, out="s.npy")
        good = ("series.csv" if run.startswith(("conv1d", "lstm")) else
                "pieces/p0.mid" if run.startswith("music") else "table.csv")
        add("encode", R[run], d / good, *OUT, out="c.npy")
        w = width.get(run.split("-")[0], 2)
        add("decode", R[run], d / f"codes{w}.csv", *OUT, out="x.npy")
        add("evaluate", R[run], "--no-probes", *OUT, out="m.json")
        add("cluster", R[run], "--k", 2, *OUT, out="l.csv")
        if run.startswith("conv1d"):
            add("export", R[run], "--format", "onnx", *OUT, out="onnx")
    for run in runs:
        for n in (0, -1, 10**12, "nan"):
            add("sample", R[run], "-n", n, *OUT, out="s.npy")
        for k in (0, -1, 10**9, "nan"):
            add("cluster", R[run], "--k", k, *OUT, out="l.csv")
        add("interpolate", R[run], d / "pieces/p0.mid", d / "pieces/p1.mid", *OUT,
            out="path")
        if run not in ("conv1d", "music", "cvae", "vq", "sae"):
            continue
        w = width[run]
        for c in ("codes{w}_one.csv", "codes{w}_nan.csv", "codes{w}_inf.csv",
                  "codes{w}_header.csv", "codes{w}_huge.npy", "empty.csv", "text.csv",
                  "garbage.npy", "nan.npy", "missing.npy", "codes16.csv" if w != 16
                  else "codes2.csv"):
            add("decode", R[run], d / c.format(w=w), *OUT, out="x.npy")
    for opt, v in [("--method", "dec"), ("--method", "n2d"), ("--epochs", 0),
                   ("--epochs", -1), ("--epochs", 10**7), ("--gamma", "nan"),
                   ("--lr", "nan"), ("--batch-size", 0), ("--seed", -1)]:
        for run in ("conv1d", "music"):
            if run in R:
                extra = ["--method", "dec"] if opt != "--method" else []
                add("cluster", R[run], "--k", 2, *extra, opt, v, *OUT, out="l.csv")
    if "cvae" in R:
        for opt, v in [("--label", 99), ("--label", -1), ("--label", "x"),
                       ("--condition", "a=1"), ("--condition", "label=nan")]:
            add("sample", R["cvae"], "-n", 2, opt, v, *OUT, out="s.npy")
            add("decode", R["cvae"], d / "codes2.csv", opt, v, *OUT, out="x.npy")
    for run in ("vae", "conv1d", "music"):
        add("sample", R[run], "-n", 2, "--label", 1, *OUT, out="s.npy")
        for o in ("s.mid", "s.png", "s.txt"):
            add("sample", R[run], "-n", 2, *OUT, out=o)
        add("sample", R[run], "-n", 2, *OUT, out="dir", prefill="dir")
        good = {"vae": "table.csv", "conv1d": "series.csv"}.get(run, "pieces")
        for s in (0, -1, 10**9):
            add("reconstruct", R[run], d / good, "--samples", s, *OUT, out="r.npy")
        add("encode", R[run], d / good, "--stats", *OUT, out="s.npz")
    if "music" in R:
        m, p = R["music"], d / "pieces"
        for a, b in [("empty.mid", "pieces/p1.mid"), ("garbage.mid", "pieces/p1.mid"),
                     ("pieces/p0.mid", "trunc.mid"), ("low.mid", "pieces/p1.mid"),
                     ("missing.mid", "pieces/p1.mid"), ("series.csv", "pieces/p1.mid"),
                     ("pieces", "pieces/p1.mid"), ("tiny.mid", "pieces/p1.mid")]:
            add("interpolate", m, d / a, d / b, *OUT, out="path")
        for s in (0, 1, -1, 10**7, "nan", 2):
            add("interpolate", m, p / "p0.mid", p / "p1.mid", "--steps", s, *OUT,
                out="path")
        add("interpolate", m, p / "p0.mid", p / "p1.mid", *OUT, out="f", prefill="file")
        add("interpolate", m, p / "p0.mid", p / "p1.mid", *OUT, out="d", prefill="dir")
        add("decode", m, d / "codes2.csv", *OUT, out="x.mid")
        add("sample", m, "-n", 2, *OUT, out="dir")
    for run in ("conv1d", "lstm"):
        for opt, v in [("--contamination", 0), ("--contamination", 1),
                       ("--contamination", 2), ("--contamination", -1),
                       ("--contamination", "nan"),
                       ("--sigmas", "nan"), ("--sigmas", -1), ("--score", "encdec"),
                       ("--score", "spe-t2"), ("--threshold", "sigma")]:
            add("detect", R[run], d / "series.csv", opt, v, *OUT, out="s.csv")
        add("detect", R[run], d / "series.csv", *OUT, out="d", prefill="dir")
    for run in ("cvae", "vq", "music"):
        for opt, v in [("-k", 0), ("-k", -1), ("-k", 10**9), ("--nll-examples", 0),
                       ("--nll-examples", -1), ("--nll-examples", 10**12),
                       ("--normal-classes", 99), ("--normal-classes", "x"),
                       ("--factors", d / "empty.csv"),
                       ("--anomaly-labels", d / "header.csv")]:
            add("evaluate", R[run], opt, v, "--no-probes", *OUT, out="m.json")
    for run in ("conv1d", "vq"):
        for v in (0, -1, 10**9):
            add("export", R[run], "--format", "onnx", "--opset", v, *OUT, out="x")
        add("export", R[run], *OUT, out="f", prefill="file")
    for run in ("conv1d", "cvae", "music"):
        add("fit-prior", R[run], "--epochs", 1)
    add("fit-prior", R["vq"], "--epochs", -1)
    return A


# fmt: on
