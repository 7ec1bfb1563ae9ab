"""VAE families side by side: aekit's vae (ELBO, iwae:5, vamp:50) and beta-tc-vae,
and pythae 0.1.2's VAE, IWAE, VAMP and BetaTCVAE on the same data, epochs and code.

    python benchmarks/vae_peers.py --data mnist-5k --out /tmp/bench-vae-peers
    python benchmarks/vae_peers.py --data /work/shared/data/fashion-mnist --rows 5000
    python benchmarks/vae_peers.py --quick          # 1 epoch, small NLL: the wiring

The protocol of benchmarks/generative.py (its seeded subset: 1,000 test images,
the rest to train; the same classifier for every row's Fréchet distance), plus the
NLL: aekit.analysis.likelihood.importance_weighted_nll (k importance samples on the
first n test images, seed 0) for every row, aekit's models directly (with their own
log p(z) for vamp), pythae's through an adapter with the same interface
(benchmarks/pythae_vae_families.py, run in pythae's environment). Both libraries
train aekit's MLP VAE network (512, 256) with a Bernoulli decoder. Reconstruction
MSE decodes the posterior mean for every row.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from aekit import inference  # noqa: E402
from aekit.analysis.likelihood import importance_weighted_nll  # noqa: E402
from aekit.analysis.sample_quality import frechet_distance, train_classifier  # noqa: E402
from aekit.interfaces import api  # noqa: E402
from aekit.models.betatc.config import BetaTCVAEConfig  # noqa: E402
from generative import N_SAMPLES, features, load, print_table, score  # noqa: E402

AEKIT = {  # row name -> (registered model, options)
    "vae": ("vae", {}),
    "vae iwae:5": ("vae", {"objective": "iwae:5"}),
    "vae vamp:50": ("vae", {"prior": "vamp:50"}),
    "beta-tc-vae": ("beta-tc-vae", {}),
}
PYTHAE = {"VAE": "vae", "IWAE": "iwae", "VAMP": "vamp", "BetaTCVAE": "betatcvae"}
# aekit's beta-tc-vae defaults: MI and dimension-wise KL by beta, TC by tc_weight
TC = {f.name: f.default for f in dataclasses.fields(BetaTCVAEConfig)}


def nll_fields(estimate: dict, per_example: np.ndarray) -> dict:
    return {
        "nll": estimate["nats"],
        "nll_stderr": estimate["stderr"],
        "neg_elbo": estimate["by_k"]["1"],
        "nll_per_example": per_example,  # dropped from the JSON, kept for pairs
    }


def paired(rows: list[dict], row: dict, reference: str) -> None:
    """The row's NLL minus the reference row's on the same images, +- stderr."""
    ref = next((r for r in rows if r["model"] == reference), None)
    if ref is None or ref is row:
        return
    diff = row["nll_per_example"] - ref["nll_per_example"]
    row[f"nll_minus_{reference.replace(' ', '_')}"] = float(diff.mean())
    row["paired_stderr"] = float(diff.std(ddof=1) / np.sqrt(len(diff)))


def run_aekit(name, train, test, args, classifier) -> dict:
    model, options = AEKIT[name]
    options = options | json.loads(args.aekit_options)
    started = time.perf_counter()
    run = api.train(
        train,
        model,
        out=Path(args.out) / f"aekit-{name.replace(' ', '-').replace(':', '')}",
        overwrite=True,
        epochs=args.epochs,
        patience=0,
        batch_size=64,
        lr=2e-3,
        seed=args.seed,
        latent_dim=args.latent_dim,
        pictures=False,
        report=False,
        **options,
    )
    total = time.perf_counter() - started
    seconds = {"train": sum(r["seconds"] for r in run.history.rows)}
    recon = inference.reconstruct(run, test.x)
    samples = inference.sample(run, N_SAMPLES, seed=0)
    row = score(f"aekit {name}", recon, samples, test, classifier, seconds)
    run.model.eval()
    started = time.perf_counter()
    estimate = importance_weighted_nll(
        run.model, test.x[: args.nll_n], k=args.nll_k, seed=0
    )
    row |= nll_fields(estimate.to_dict(), estimate.per_example)
    np.save(run.path / "nll.npy", estimate.per_example)
    row |= {"nll_seconds": time.perf_counter() - started, "total_seconds": total}
    row |= active_units(run.model, test.x)
    return row


@torch.no_grad()
def active_units(model, x: torch.Tensor) -> dict:
    """Burda et al. 2016's active units (code dimensions whose posterior mean varies
    over the test images by more than 0.01) and the test KL per dimension."""
    mu, logvar = model.encode_distribution(x)
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).mean(0)  # (d,)
    return {
        "active_units": int((mu.var(0) > 0.01).sum()),
        "kl_per_dim": [round(float(k), 2) for k in kl.sort(descending=True).values],
    }


def run_pythae(name, train, test, args, classifier) -> dict:
    out = Path(args.out) / f"pythae-{PYTHAE[name]}"
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "train.npy", train.x.numpy())
    np.save(out / "test.npy", test.x.numpy())
    request = {
        "model": PYTHAE[name],
        "train": str(out / "train.npy"),
        "test": str(out / "test.npy"),
        "epochs": args.epochs,
        "latent_dim": args.latent_dim,
        "n_samples": N_SAMPLES,
        "iwae_samples": 5,
        "vamp_components": 50,
        "alpha": TC["beta"],
        "beta": TC["tc_weight"],
        "gamma": TC["beta"],
        "nll_k": args.nll_k,
        "nll_n": args.nll_n,
        "out": str(out),
        "threads": 1,
        "seed": args.seed,
    }
    with open(out / "log.txt", "w") as log:
        subprocess.run(
            [args.pythae_python, str(REPO / "benchmarks" / "pythae_vae_families.py")],
            input=json.dumps(request),
            text=True,
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    result = json.loads((out / "result.json").read_text())
    recon, samples = np.load(out / "recon.npy"), np.load(out / "samples.npy")
    seconds = {"train": result["train_seconds"]}
    row = score(f"pythae {name}", recon, samples, test, classifier, seconds)
    row |= nll_fields(result["nll"], np.load(out / "nll.npy"))
    row |= {
        "nll_seconds": result["nll_seconds"],
        "test_mse_sampled": result["test_mse_sampled"],
    }
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="mnist-5k")
    p.add_argument("--rows", type=int, default=5000)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--seed", type=int, default=0, help="of the training runs")
    p.add_argument("--nll-k", type=int, default=500)
    p.add_argument("--nll-n", type=int, default=500)
    p.add_argument("--models", default=",".join([*AEKIT, *PYTHAE]))
    p.add_argument("--quick", action="store_true", help="1 epoch, k=10 on 50")
    p.add_argument("--pythae-python", default="/work/venv-pythae/bin/python")
    p.add_argument("--out", default="/tmp/bench-vae-peers")
    p.add_argument("--json", help="write the rows (and the setting) here")
    p.add_argument(
        "--aekit-options",
        default="{}",
        help="extra api.train options for the aekit rows, JSON: '{\"lr\": 1e-3}'",
    )
    args = p.parse_args()
    if args.quick:
        args.epochs, args.nll_k, args.nll_n = 1, 10, 50
    torch.set_num_threads(1)
    cpu = subprocess.run(
        "lscpu | grep 'Model name'", shell=True, capture_output=True, text=True
    ).stdout
    machine = f"{cpu.split(':')[-1].strip() or platform.processor()}, torch "
    machine += f"{torch.__version__}, {torch.get_num_threads()} thread"
    train, test = load(args.data, args.rows)
    classifier = train_classifier(train, int(train.y.max()) + 1, seed=0)
    floor = frechet_distance(
        features(classifier, train.x[:N_SAMPLES]), features(classifier, test.x)
    )
    accuracy = float((classifier(test.x).argmax(1) == test.y).float().mean())
    print(
        f"machine: {machine}\ndata {args.data}: {len(train)} train, {len(test)} "
        f"test; classifier accuracy {accuracy:.3f}; Fréchet floor {floor:.2f}"
    )
    rows = []
    for name in args.models.split(","):
        runner = run_pythae if name in PYTHAE else run_aekit
        rows.append(runner(name, train, test, args, classifier))
        paired(rows, rows[-1], "pythae VAE" if name in PYTHAE else "aekit vae")
        kept = [{k: v for k, v in r.items() if k != "nll_per_example"} for r in rows]
        print(json.dumps(kept[-1]), flush=True)
        if args.json:  # after every row, so a long run keeps what it has
            setting = vars(args) | {"machine": machine, "floor": floor}
            setting["classifier_accuracy"] = accuracy
            Path(args.json).write_text(
                json.dumps({"setting": setting, "rows": kept}, indent=1) + "\n"
            )
    columns = ["model", "test_mse", "nll", "neg_elbo", "frechet", "train_seconds"]
    for row in rows:
        diff = row.get("nll_minus_aekit_vae", row.get("nll_minus_pythae_VAE"))
        if diff is not None:
            row["vs_vae"] = f"{diff:+.2f} ± {row['paired_stderr']:.2f}"
    columns.insert(3, "vs_vae")
    print_table(rows, columns)


if __name__ == "__main__":
    main()
