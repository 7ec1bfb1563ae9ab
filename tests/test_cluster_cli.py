"""`aekit cluster` end to end on a small digits run: kmeans, gmm, n2d, dec, errors."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import torch

from aekit.interfaces.cli import main

TRAIN = ["--epochs", "2", "--batch-size", "64", "--latent-dim", "6", "--quiet"]


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("runs") / "mlp-digits"
    args = ["train", "--data", "digits", "--model", "mlp", "--hidden", "32"]
    assert main([*args, *TRAIN, "--out", str(out)]) == 0
    return out


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_cluster_writes_labels_scores_and_pictures(
    digits_run, tmp_path, method, capsys
):
    out = tmp_path / "labels.csv"
    assert (
        main(
            [
                "cluster",
                str(digits_run),
                "--k",
                "10",
                "--method",
                method,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    table = rows(out)
    assert len(table) == 1797
    assert [r["index"] for r in table[:3]] == ["0", "1", "2"]  # input order
    assert {int(r["cluster"]) for r in table} <= set(range(10))
    assert ("probability" in table[0]) == (method == "gmm")
    said = capsys.readouterr().out
    assert "accuracy" in said and "NMI" in said and "ARI" in said
    assert (tmp_path / "labels-map.png").stat().st_size > 0
    assert (tmp_path / "labels-confusion.png").stat().st_size > 0


def test_k_is_chosen_and_reported(digits_run, tmp_path, capsys):
    out = tmp_path / "auto.csv"
    assert main(["cluster", str(digits_run), "--method", "gmm", "--out", str(out)]) == 0
    assert "chosen by bic" in capsys.readouterr().out


def test_n2d(digits_run, tmp_path):
    pytest.importorskip("umap")
    out = tmp_path / "n2d.csv"
    assert (
        main(
            [
                "cluster",
                str(digits_run),
                "digits",
                "--k",
                "10",
                "--method",
                "n2d",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert len(rows(out)) == 1797 and "probability" in rows(out)[0]


def test_dec_stores_a_new_run_that_info_reads(digits_run, tmp_path, capsys):
    out, dec = tmp_path / "dec.csv", tmp_path / "dec-run"
    before = (digits_run / "model.safetensors").read_bytes()
    argv = ["cluster", str(digits_run), "--k", "10", "--method", "dec"]
    argv += ["--epochs", "1", "--dec-out", str(dec), "--out", str(out)]
    assert main([*argv, "--gamma", "0.1"]) == 0
    assert len(rows(out)) == 1797
    assert (digits_run / "model.safetensors").read_bytes() == before  # untouched
    record = json.loads((dec / "config.json").read_text())
    assert record["dec"]["k"] == 10 and record["dec"]["gamma"] == 0.1
    assert record["dec"]["fine_tuned_from"] == str(digits_run)
    capsys.readouterr()
    assert main(["info", str(dec), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["latent_dim"] == 6 and info["dec"]["k"] == 10
    assert main(["info", str(dec)]) == 0
    assert "IDEC-fine-tuned from" in capsys.readouterr().out
    codes = tmp_path / "codes.npy"
    assert main(["encode", str(dec), "digits", "--out", str(codes)]) == 0
    # a second time refuses to overwrite the new run without --force
    assert main(argv) == 2


@pytest.mark.parametrize("k", ["1", "0", "5000"])
def test_bad_k_is_one_line_exit_2(digits_run, tmp_path, k, capsys):
    out = tmp_path / "x.csv"
    assert main(["cluster", str(digits_run), "--k", k, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "k" in err
    assert not out.exists()


def test_dec_on_a_run_without_an_encoder(digits_run, tmp_path, capsys):
    fake = tmp_path / "unet-run"
    fake.mkdir()
    record = json.loads((digits_run / "config.json").read_text())
    record["model"]["name"] = "unet"
    (fake / "config.json").write_text(json.dumps(record))
    shutil.copy(digits_run / "model.safetensors", fake / "model.safetensors")
    out = tmp_path / "x.csv"
    assert (
        main(["cluster", str(fake), "--k", "3", "--method", "dec", "--out", str(out)])
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "encoder" in err
    assert not out.exists() and not (tmp_path / "unet-run-dec").exists()


def test_bad_output_suffix(digits_run, tmp_path, capsys):
    assert main(["cluster", str(digits_run), "--out", str(tmp_path / "x.npy")]) == 2
    assert ".csv" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["conv", "vae"])
def test_contractive_on_a_model_it_does_not_apply_to(tmp_path, model, capsys):
    out = tmp_path / "run"
    argv = ["train", "--data", "digits", "--model", model, "--contractive", "0.1"]
    assert main([*argv, "--epochs", "1", "--quiet", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "contractive" in err
    assert not (out / "model.safetensors").exists()
