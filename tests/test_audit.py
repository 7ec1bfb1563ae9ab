"""Regressions of the 315-attack audit (issue 13): data loss, silent wrong answers,
crashes; each bad input is one line, exit 2, and leaves the disk as it was."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from aekit.data.io import write_json
from aekit.interfaces.cli import main

TINY = ["--epochs", "1", "--no-pictures", "--no-report", "--quiet"]


def cli(args: list, capsys) -> tuple[int, str]:
    try:
        code = main([str(a) for a in args])
    except SystemExit as e:  # argparse refuses an option value
        code = e.code
    return code, capsys.readouterr().err


def refused(args: list, capsys, *needles: str) -> str:
    code, err = cli(args, capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle.lower() in err.lower(), err
    return err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "x.npy"
    np.save(path, np.random.default_rng(0).random((48, 6)).astype(np.float32))
    return path


@pytest.fixture(scope="module")
def good(tmp_path_factory, data) -> Path:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("runs") / "good"
    assert main(["train", "--data", str(data), "--out", str(out), *TINY]) == 0
    return out


def copy_run(run: Path, to: Path) -> Path:
    to.mkdir()
    for name, content in snapshot(run).items():
        (to / name).parent.mkdir(parents=True, exist_ok=True)
        (to / name).write_bytes(content)
    return to


# -- data loss ------------------------------------------------------------------------
def test_force_never_deletes_a_directory_that_is_not_a_run(data, tmp_path, capsys):
    proj = tmp_path / "proj"
    (proj / "src").mkdir(parents=True)
    (proj / "config.json").write_text("{}")
    (proj / "src" / "main.py").write_text("x")
    before = snapshot(proj)
    refused(
        ["train", "--data", data, "--out", proj, "--force", *TINY],
        capsys,
        "not an aekit run",
    )
    refused(["train", "--data", data, "--out", proj, *TINY], capsys, "not an aekit run")
    assert snapshot(proj) == before


def test_bad_options_are_refused_before_the_disk_is_touched(
    good, data, tmp_path, capsys
):
    run = copy_run(good, tmp_path / "good")
    before = snapshot(run)
    for bad in (["--device", "cpu0"], ["--sparsity", "nan"], ["--lr", "-1"]):
        args = ["train", "--data", data, "--out", run, "--force", *TINY, *bad]
        refused(args, capsys)
        assert snapshot(run) == before
    fresh = tmp_path / "x"
    refused(
        ["train", "--data", data, "--out", fresh, "--device", "bogus", *TINY],
        capsys,
        "device",
    )
    assert not fresh.exists()  # no stub that would block the retry
    assert main(["train", "--data", str(data), "--out", str(fresh), *TINY]) == 0


def test_force_keeps_the_old_run_until_the_new_one_has_a_checkpoint(
    good, data, tmp_path, capsys, monkeypatch
):
    run = copy_run(good, tmp_path / "good")
    before = snapshot(run)
    import aekit.tasks.pipeline

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # killed before the first epoch

    monkeypatch.setattr(aekit.tasks.pipeline, "fit", crash)
    args = ["train", "--data", str(data), "--out", str(run), "--force", *TINY]
    assert main(args) == 130  # interrupted
    assert snapshot(run) == before  # put back
    assert not list(tmp_path.glob(".aekit-replaced-*"))


def test_a_refused_resume_changes_nothing(good, data, tmp_path, capsys):
    run = copy_run(good, tmp_path / "good")
    before = snapshot(run)
    refused(["train", "--resume", run, "--data", data], capsys, "--data")
    refused(["train", "--resume", run, "--lr", "0.1"], capsys, "lr")
    assert main(["train", "--resume", str(run), "--epochs", "2", "--quiet"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["training"]["epochs"] == 2
    before = snapshot(run)
    refused(["train", "--resume", run, "--epochs", "1"], capsys, "at least 2")
    assert snapshot(run) == before


# -- silent wrong answers -------------------------------------------------------------
def test_nan_weights_are_refused(good, data, tmp_path, capsys):
    from safetensors.torch import load_file, save_file

    run = copy_run(good, tmp_path / "good")
    weights = load_file(run / "model.safetensors")
    key = next(iter(weights))
    weights[key] = torch.full_like(weights[key], float("nan"))
    from safetensors import safe_open

    with safe_open(str(run / "model.safetensors"), "pt") as f:
        meta = f.metadata()
    save_file(weights, str(run / "model.safetensors"), metadata=meta)
    refused(["reconstruct", run, data, "--out", tmp_path / "r.npy"], capsys, "NaN")
    assert not (tmp_path / "r.npy").exists()


def test_non_finite_code_stats_and_strengths_are_refused(good, data, tmp_path, capsys):
    run = copy_run(good, tmp_path / "good")
    stats = json.loads((run / "code_stats.json").read_text())
    stats["mean"][0] = None
    (run / "code_stats.json").write_text(json.dumps(stats))
    refused(["sample", run, "-n", "4", "--out", tmp_path / "s.npy"], capsys)
    refused(
        [
            "edit",
            good,
            data,
            "--attribute",
            "label=1",
            "--strengths",
            "nan,1",
            "--out",
            tmp_path / "e.npy",
        ],
        capsys,
        "finite",
    )


def test_an_ill_conditioned_code_covariance_still_samples(good, tmp_path, capsys):
    run = copy_run(good, tmp_path / "good")
    stats = json.loads((run / "code_stats.json").read_text())
    d = len(stats["mean"])
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(d, d)))
    values = np.geomspace(1.8e8, 1e-3, d)
    values[-1] = 0.0  # exactly singular too
    stats["cov"] = ((q * values) @ q.T).tolist()
    write_json(run / "code_stats.json", stats)
    assert main(["sample", str(run), "-n", "8", "--out", str(tmp_path / "s.npy")]) == 0
    assert np.isfinite(np.load(tmp_path / "s.npy")).all()


def test_a_failing_picture_costs_neither_the_run_nor_its_report(
    data, tmp_path, monkeypatch
):
    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("Matrix is not positive definite")

    from aekit.analysis.plots.pictures import PICTURES, Picture

    monkeypatch.setitem(PICTURES, "samples", Picture(broken, "broken"))
    images = np.random.default_rng(0).random((40, 8, 8)).astype(np.float32)
    np.save(tmp_path / "im.npy", images)
    out = tmp_path / "run"
    args = ["train", "--data", tmp_path / "im.npy", "--out", out, "--epochs", "1"]
    assert main([str(a) for a in [*args, "--quiet"]]) == 0
    assert (out / "metrics.json").is_file() and (out / "report.html").is_file()
    assert not (out / "samples.png").exists()


# -- crashes and exit codes -----------------------------------------------------------
@pytest.mark.parametrize(
    "codes",
    [np.array(["a", "b"]), np.array(1.0, np.float32), np.zeros((0, 16), np.float32)],
    ids=["strings", "0-d", "empty"],
)
def test_bad_codes_are_refused(good, codes, tmp_path, capsys):
    np.save(tmp_path / "codes.npy", codes)
    refused(
        ["decode", good, tmp_path / "codes.npy", "--out", tmp_path / "x.npy"], capsys
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--seed", str(2**64)],
        ["--latent-dim", "10000000"],
        ["--hidden", "999999999"],
    ],
    ids=["seed", "latent-dim", "hidden"],
)
def test_absurd_sizes_are_refused(data, args, tmp_path, capsys):
    out = tmp_path / "run"
    refused(["train", "--data", data, "--out", out, *TINY, *args], capsys)
    assert not out.exists()


def test_absurd_requests_on_a_run_are_refused(good, tmp_path, capsys):
    refused(
        ["sample", good, "-n", "1000000000", "--out", tmp_path / "s.npy"],
        capsys,
        "memory",
    )
    refused(["explore", good, "--port", "70000"], capsys, "port")
    refused(["explore", good, "--port", "-1"], capsys, "port")


def test_damaged_records_are_named(good, tmp_path, capsys):
    run = copy_run(good, tmp_path / "good")
    (run / "metrics.json").write_text("[1, 2]")
    refused(["info", run], capsys, "metrics.json")
    run2 = copy_run(good, tmp_path / "good2")
    (run2 / "history.csv").write_bytes(b"\x00\x01garbage\nnot,a,history\n")
    refused(
        ["plot", run2, "history", "--out", tmp_path / "h.png"], capsys, "history.csv"
    )
    run3 = copy_run(good, tmp_path / "good3")
    (run3 / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    refused(["info", run3], capsys, "config.json")


def test_threads_are_recorded_and_reused_on_resume(good):
    config = json.loads((good / "config.json").read_text())
    assert config["runtime"]["threads"] >= 1
    assert config["training"]["precision"] in ("fp32", "bf16")  # as resolved
