"""Sparse autoencoders at their defaults on raw data, through `aekit train` itself
(the data as the CLI loads it: pixels in [0, 1], standardised table columns, a
network's activations), each family once per data set; prints the held-out L0,
FVU and dead latents that `aekit train` writes to metrics.json.

    python benchmarks/sae_defaults.py                       # every data set
    python benchmarks/sae_defaults.py --data digits --families relu-l1 \\
        --extra "--l1 2"                                    # one knob, by hand

Data sets: digits, mnist-5k, wine (sklearn's wine table as a CSV), mlp-layer (an
MLP trained on digits first, then its first hidden layer's 512 ReLU units,
`--activations-of RUN --layer body.encoder.1`).
"""

from __future__ import annotations

import argparse
import json
import shlex
import time
from pathlib import Path

from aekit.interfaces.cli import main as cli

FAMILIES = ("relu-l1", "jumprelu", "topk", "batch-topk")
DATA = ("digits", "mnist-5k", "wine", "mlp-layer")


def wine_csv(out: Path) -> str:
    from sklearn.datasets import load_wine

    path = out / "wine.csv"
    if not path.exists():
        table = load_wine(as_frame=True).frame.drop(columns="target")
        table.to_csv(path, index=False)
    return str(path)


def mlp_run(out: Path) -> str:
    path = out / "mlp"
    if not (path / "model.safetensors").exists():
        code = cli(
            ["train", "--data", "digits", "--model", "mlp", "--start", "random"]
            + ["--epochs", "30", "--threads", "1", "--no-pictures", "--no-report"]
            + ["--out", str(path), "--force"]
        )
        assert code == 0, "the MLP did not train"
    return str(path)


def data_args(name: str, out: Path) -> list[str]:
    if name == "wine":
        return ["--data", wine_csv(out)]
    if name == "mlp-layer":
        return ["--data", "digits", "--activations-of", mlp_run(out)] + [
            "--layer",
            "body.encoder.1",
        ]
    return ["--data", name]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", default=",".join(DATA))
    p.add_argument("--families", default=",".join(FAMILIES))
    p.add_argument("--extra", default="", help="more `aekit train` options")
    p.add_argument("--out", default="/tmp/sae_defaults", help="runs go here")
    p.add_argument("--json", help="append the rows here, one JSON object a line")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    extra = shlex.split(args.extra)
    print(f"{'data':<10}{'family':<11}{'L0':>8}{'FVU':>8}{'dead%':>7}{'s':>6}")
    for data in args.data.split(","):
        for family in args.families.split(","):
            run = out / f"{data}-{family}"
            started = time.perf_counter()
            code = cli(
                ["train", *data_args(data, out), "--model", "sae", "--sae", family]
                + ["--threads", "1", "--no-pictures", "--no-report", "--quiet"]
                + ["--out", str(run), "--force", *extra]
            )
            seconds = time.perf_counter() - started
            if code != 0:
                print(f"{data:<10}{family:<11} failed (exit {code})")
                continue
            sae = json.loads((run / "metrics.json").read_text())["sae"]
            row = {
                "data": data,
                "family": family,
                "extra": args.extra,
                "l0": sae["l0"],
                "fvu": sae["fvu"],
                "dead": sae["dead_fraction"],
                "seconds": seconds,
            }
            print(
                f"{data:<10}{family:<11}{row['l0']:8.2f}{row['fvu']:8.4f}"
                f"{100 * row['dead']:7.1f}{seconds:6.0f}",
                flush=True,
            )
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps(row, default=float) + "\n")


if __name__ == "__main__":
    main()
