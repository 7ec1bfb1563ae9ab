"""Attack every command of the sequence, music, clustering and generative work the way
the earlier commands were attacked (issue 25.13), reproducibly.

    python benchmarks/attack_campaign.py                 # temp folder, all attacks
    python benchmarks/attack_campaign.py --work /tmp/atk --json results.json
    python benchmarks/attack_campaign.py --only cluster,decode

It makes its own data (a series, a table, PNG images, MIDI pieces and bad files of
every kind, attack_data.py), trains ten tiny runs through the CLI, breaks copies of
some, then runs each attack as `python -m aekit ...` at one thread. An attack is
HELD when it exits 2 with exactly one stderr line that says "error", no traceback,
and leaves its --out folder and every run and data file as they were (names, sizes,
mtimes). Exit 0 is ACCEPTED (valid input after all) when the output exists and holds
no NaN; everything else (exit 1, a traceback, more lines, files left, a changed run,
a timeout, an insane output) is a HOLE, printed with its command and why.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import numpy as np

from attack_data import aekit, break_run, break_runs, env, make_data, train_runs
from attack_matrix import Attack, matrix

TIMEOUT = 60
T = ["--threads", "1"]


def snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for root in roots:
        for p in sorted(root.rglob("*")) if root.exists() else []:
            st = p.lstat()
            out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


def sane(path: Path) -> str:
    """'' if an accepted command's output looks sane, else why not."""
    if not path.exists():
        return "exit 0 but no output"
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    if not files:
        return "exit 0 but an empty output folder"
    for f in files:
        try:
            if f.suffix == ".npy":
                arr = np.load(f)
                bad = arr.dtype.kind == "f" and not np.isfinite(arr).all()
            elif f.suffix == ".csv":
                bad = any(map(_non_finite, f.read_text().replace("\n", ",").split(",")))
            else:
                continue
        except Exception as exc:  # noqa: BLE001 - anything unreadable is insane
            return f"output {f.name} unreadable: {exc}"
        if bad:
            return f"output {f.name} holds NaN/inf"
    return ""


def _non_finite(cell: str) -> bool:
    """A CSV cell that is a number but not a finite one; text columns (a label, a
    file name) and empty cells are not numbers and are fine."""
    try:
        return not np.isfinite(float(cell))
    except ValueError:
        return False


def judge(a: Attack, proc, box: Path, before, after, box_before) -> None:
    err = proc.stderr.strip().splitlines()
    a.rc, a.last = proc.returncode, (err or [""])[-1][:300]
    changed = sorted(
        k for k in before.keys() | after.keys() if before.get(k) != after.get(k)
    )
    added = sorted(set(after) - set(before))
    modified = [k for k in before if before[k] != after.get(k) and not Path(k).is_dir()]
    box_now = snapshot(box)
    if "Traceback" in proc.stderr or "Traceback" in proc.stdout:
        a.verdict, a.why = "hole", "traceback"
    elif proc.returncode == 2:
        if len(err) != 1 or "error" not in err[0]:
            a.verdict, a.why = "hole", f"exit 2 with {len(err)} stderr lines"
        elif box_now != box_before:
            left = sorted(set(box_now) - set(box_before)) or sorted(box_now)
            a.verdict, a.why = (
                "hole",
                f"left on disk: {[Path(x).name for x in left][:4]}",
            )
        elif changed:
            a.verdict, a.why = "hole", f"changed: {changed[:3]}"
        else:
            a.verdict = "held"
    elif proc.returncode == 0:
        why = sane(box / a.out) if a.out else ""
        if modified and not why:
            why = f"exit 0 but changed a run or data file: {modified[:3]}"
        a.verdict, a.why = ("hole", why) if why else ("accepted", "")
        if added and not why:  # a cache a command keeps in the run (evaluate)
            a.why = f"added {[Path(x).name for x in added][:3]}"
    else:
        a.verdict, a.why = "hole", f"exit {proc.returncode}"


def run_attack(a: Attack, i: int, work: Path, e: dict) -> None:
    box = work / "box" / f"{i:04d}"
    if box.exists():
        shutil.rmtree(box)
    box.mkdir(parents=True)
    if a.extra.get("prefill"):  # an --out that already exists as a file or folder
        target = box / a.out
        if a.extra["prefill"] == "file":
            target.write_text("already here\n")
        else:
            target.mkdir()
            (target / "old.txt").write_text("an earlier output\n")
    if a.extra.get("copy"):  # a broken copy of its own, that the attack may change
        shutil.copytree(a.extra["copy"], box / "run")
        break_run(box / "run", *a.extra["breakage"])
        a.args = [*a.args, f"(its {a.extra['breakage'][1]} {a.extra['breakage'][0]})"]
    args = [s.replace("{o}", str(box / (a.out or ""))) for s in a.args if s[0] != "("]
    args = [s.replace("{r}", str(box / "run")) for s in args]
    watched = (work / "runs", work / "broken", work / "data")
    before, box_before, t0 = snapshot(*watched), snapshot(box), time.time()
    try:
        proc = subprocess.run(
            aekit(*args, *T),
            env=e,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            cwd=box,
        )
    except subprocess.TimeoutExpired:
        a.verdict, a.why, a.seconds = "hole", f"timeout after {TIMEOUT} s", TIMEOUT
        return
    a.seconds = round(time.time() - t0, 1)
    judge(a, proc, box, before, snapshot(*watched), box_before)


def concurrent_train(work: Path, e: dict, data: Path, label: str, train: list[str]):
    """Two `train --out SAME` at once: one trains, the other is refused (exit 2)."""
    out = work / "box" / f"concurrent-{label}"
    shutil.rmtree(out, ignore_errors=True)
    a = Attack("train", ["train", *train, "--out", str(out), "(twice at once)"])
    cmd = aekit(
        "train",
        *train,
        "--epochs",
        "3",
        "--quiet",
        "--no-report",
        "--no-pictures",
        "--out",
        str(out),
        *T,
    )
    t0 = time.time()
    procs = [
        subprocess.Popen(
            cmd, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    res = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    a.seconds = round(time.time() - t0, 1)
    rcs = sorted(r[0] for r in res)
    refused = [r for r in res if r[0] == 2]
    info = subprocess.run(aekit("info", str(out), *T), env=e, capture_output=True)
    a.rc, a.last = (
        rcs[-1],
        (refused[0][2].strip().splitlines() or [""])[-1] if refused else "",
    )
    if any("Traceback" in r[1] + r[2] for r in res):
        a.verdict, a.why = "hole", "traceback"
    elif rcs != [0, 2]:
        a.verdict, a.why = "hole", f"exit statuses {rcs}"
    elif len(refused[0][2].strip().splitlines()) != 1 or info.returncode != 0:
        a.verdict, a.why = "hole", "refusal not one line, or the run does not load"
    else:
        a.verdict = "held"
    return a


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    p.add_argument("--json", type=Path, help="write every attack's result here")
    p.add_argument("--only", help="commands to attack, comma-separated")
    p.add_argument("--limit", type=int, help="run the first N attacks only")
    args = p.parse_args(argv)
    tmp = None if args.work else tempfile.TemporaryDirectory(prefix="aekit-attacks-")
    work = args.work or Path(tmp.name)
    t0 = time.time()
    make_data(work / "data")
    runs = train_runs(work)
    broken = break_runs(work, runs, ["conv1d", "music", "cvae", "vq"])
    print(
        f"setup: {len(runs)} runs, {len(broken)} broken runs, {time.time() - t0:.0f} s"
    )
    attacks = matrix(work, runs, broken)
    if args.only:
        attacks = [a for a in attacks if a.command in args.only.split(",")]
    attacks = attacks[: args.limit]
    e = env(work)
    for i, a in enumerate(attacks):
        run_attack(a, i, work, e)
        if a.verdict == "hole":
            print(f"HOLE {' '.join(a.args)}\n     -> {a.why}: {a.last}", flush=True)
    if not args.only or "train" in args.only:
        series = [
            "--data",
            str(work / "data/series.csv"),
            "--model",
            "conv1d",
            "--window",
            "20",
        ]
        pieces = [
            "--data",
            str(work / "data/pieces"),
            "--model",
            "lstm-vae",
            "--bars",
            "1",
            "--hidden-size",
            "8",
            "--latent-dim",
            "2",
        ]
        for label, train in (("series", series), ("music", pieces)):
            a = concurrent_train(work, e, work / "data", label, train)
            attacks.append(a)
            if a.verdict == "hole":
                print(f"HOLE concurrent {label} train -> {a.why}: {a.last}")
    by = Counter((a.command, a.verdict) for a in attacks)
    print(f"\n{'command':12} {'tried':>6} {'held':>6} {'accepted':>9} {'holes':>6}")
    for c in sorted({a.command for a in attacks}):
        n = sum(v for (k, _), v in by.items() if k == c)
        print(f"{c:12} {n:6} {by[c, 'held']:6} {by[c, 'accepted']:9} {by[c, 'hole']:6}")
    tot = Counter(a.verdict for a in attacks)
    print(
        f"{'all':12} {len(attacks):6} {tot['held']:6} {tot['accepted']:9} "
        f"{tot['hole']:6}"
    )
    print(f"({time.time() - t0:.0f} s in all)")
    accepted = [a for a in attacks if a.verdict == "accepted"]
    print("accepted (exit 0, sane output):")
    for a in accepted:
        line = " ".join(x.replace(str(work), "W") for x in a.args)
        print("   ", line, f"[{a.why}]" if a.why else "")
    if args.json:
        args.json.write_text(json.dumps([asdict(a) for a in attacks], indent=1))
    if tmp:
        tmp.cleanup()
    return 1 if tot["hole"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
