"""Learning-rate schedules side by side: cosine (to 0), cosine-floor (to lr/10) and
constant, for aekit's main models on mnist-5k and a Fashion-MNIST subset.

    python benchmarks/schedule.py --quick                    # wiring check
    python benchmarks/schedule.py --out /tmp/bench-schedule  # the full grid

Every run is aekit's defaults (AdamW lr 2e-3, batch 64, 10% seeded validation)
with latent 16, patience 0 (every run goes its full length, so a schedule's end is
always reached) and one torch thread. Recorded per run: the best and the final
validation loss of the history (MSE for mlp/conv, negative ELBO in nats for the
VAEs) and, for the VAEs, aekit.analysis.likelihood.importance_weighted_nll (k=200 on the
first 300 validation examples, seed 0) of the best-epoch weights. Rows are appended
to <out>/rows.jsonl as they finish; a table of ratios to cosine is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from aekit.analysis.likelihood import importance_weighted_nll  # noqa: E402
from aekit.data import load_dataset  # noqa: E402
from aekit.interfaces import api  # noqa: E402
from aekit.run.data import run_data  # noqa: E402

FASHION = "/work/shared/data/fashion-mnist"
VAES = ("vae", "conv-vae")


def load(name: str, rows: int):
    """mnist-5k as built in; a folder: a seeded subset of `rows` train images (the
    same subset as benchmarks/generative.py's load, before its test cut)."""
    if not Path(name).is_dir():
        return load_dataset(name)
    data = load_dataset(name, split="train")
    index = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    return data.subset(index[:rows])


def tag(data: str, model: str, epochs: int, schedule: str, seed: int) -> str:
    return f"{Path(data).name}-{model}-{epochs}-{schedule}-s{seed}"


def one(data, data_name, model, epochs, schedule, seed, args) -> dict:
    started = time.perf_counter()
    run = api.train(
        data,
        model,
        out=Path(args.out) / tag(data_name, model, epochs, schedule, seed),
        overwrite=True,
        epochs=epochs,
        schedule=schedule,
        patience=0,
        latent_dim=16,
        seed=seed,
        pictures=False,
        report=False,
    )
    rows = run.history.rows
    row = {
        "data": Path(data_name).name,
        "model": model,
        "epochs": epochs,
        "schedule": schedule,
        "seed": seed,
        "best_val": min(r["val_loss"] for r in rows),
        "best_epoch": run.history.best_epoch,
        "final_val": rows[-1]["val_loss"],
        "final_lr": rows[-1]["lr"],
        "train_seconds": round(sum(r["seconds"] for r in rows), 1),
    }
    if model in VAES:
        config = run.train_config  # the split training made, in model units
        _, val = run_data(run, data).split(config.val_fraction, seed=config.seed)
        run.model.eval()
        est = importance_weighted_nll(
            run.model, val.x[: args.nll_n], k=args.nll_k, seed=0
        )
        row |= {"nll": est.nats, "nll_stderr": est.stderr}
        np.save(run.path / "nll.npy", est.per_example)  # for paired differences
    row["seconds"] = round(time.perf_counter() - started, 1)
    return row


def paired(out: Path, key: tuple, seeds: list[int]) -> str:
    """NLL minus cosine's on the same validation images, +- its stderr: paired
    within a seed (a seed's split), averaged over seeds."""
    means, variances = [], []
    for seed in seeds:
        files = [out / tag(*key[:3], s, seed) / "nll.npy" for s in (key[3], "cosine")]
        if not all(f.is_file() for f in files):
            return ""
        diff = np.load(files[0]) - np.load(files[1])
        means.append(diff.mean())
        variances.append(diff.var(ddof=1) / len(diff))
    m, se = np.mean(means), np.sqrt(np.sum(variances)) / len(means)
    return f"{m:+.2f} ± {se:.2f}"


def table(rows: list[dict], out: Path) -> str:
    """One line per (data, model, epochs, schedule), means over seeds, with the
    ratio of best validation loss to cosine's and NLL minus cosine's (paired)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(
            (r["data"], r["model"], r["epochs"], r["schedule"]), []
        ).append(r)

    def mean(rs, key):
        vals = [r[key] for r in rs if r.get(key) is not None]
        return sum(vals) / len(vals) if vals else None

    lines = [
        "| data | model | epochs | schedule | seeds | best val | final val "
        "| best / cosine | NLL (k=200) | NLL - cosine |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2], k[3])):
        rs = groups[key]
        ref = groups.get(key[:3] + ("cosine",))
        best, final = mean(rs, "best_val"), mean(rs, "final_val")
        ratio = best / mean(ref, "best_val") if ref else None
        nll = mean(rs, "nll")
        fmt = "{:.5f}" if key[1] not in VAES else "{:.2f}"
        cells = [
            key[0],
            key[1],
            str(key[2]),
            key[3],
            str(len(rs)),
            fmt.format(best),
            fmt.format(final),
            f"{ratio:.3f}" if ratio is not None else "",
            f"{nll:.2f}" if nll is not None else "",
            paired(out, key, [r["seed"] for r in rs]) if nll is not None else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 epoch, mlp and vae")
    p.add_argument("--out", default="/tmp/bench-schedule")
    p.add_argument("--models", default="mlp,vae,conv,conv-vae")
    p.add_argument("--data", default=f"mnist-5k,{FASHION}")
    p.add_argument("--epochs", default="10,30")
    p.add_argument("--schedules", default="cosine,constant,cosine-floor")
    p.add_argument("--seeds", default="0")
    p.add_argument("--rows", type=int, default=5000, help="images of a folder")
    p.add_argument("--nll-k", type=int, default=200)
    p.add_argument("--nll-n", type=int, default=300)
    p.add_argument("--table-only", action="store_true", help="print rows.jsonl")
    args = p.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = out / "rows.jsonl"
    if args.table_only:
        print(
            table([json.loads(line) for line in results.read_text().splitlines()], out)
        )
        return
    models, epochs = args.models.split(","), [int(e) for e in args.epochs.split(",")]
    if args.quick:
        models, epochs, args.nll_k, args.nll_n = ["mlp", "vae"], [1], 10, 20
    done = set()
    if results.is_file():  # a restarted grid skips what it has
        for line in results.read_text().splitlines():
            r = json.loads(line)
            done.add((r["data"], r["model"], r["epochs"], r["schedule"], r["seed"]))
    for seed in [int(s) for s in args.seeds.split(",")]:
        for name in args.data.split(","):
            data = load(name, args.rows)
            for model in models:
                for n in epochs:
                    for schedule in args.schedules.split(","):
                        key = (Path(name).name, model, n, schedule, seed)
                        if key in done:
                            continue
                        row = one(data, name, model, n, schedule, seed, args)
                        print(json.dumps(row), flush=True)
                        with results.open("a") as f:
                            f.write(json.dumps(row) + "\n")
    print(table([json.loads(line) for line in results.read_text().splitlines()], out))


if __name__ == "__main__":
    main()
