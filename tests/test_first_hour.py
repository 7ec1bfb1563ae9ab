"""Issue 14's conventions: CSV round trips, class names, comparing runs' data."""

from __future__ import annotations

import csv
import logging

import numpy as np
import pytest
import torch

from aekit.interfaces.cli import main

TINY = ["--epochs", "1", "--no-pictures", "--no-report", "--quiet"]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("table")
    rng = np.random.default_rng(0)
    path = root / "wine.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["alcohol", "acidity", "sugar", "label"])
        for i in range(60):
            w.writerow([*(f"{v:.3f}" for v in rng.normal(size=3)), i % 3])
    run = root / "run"
    assert main(["train", "--data", str(path), "--out", str(run), *TINY]) == 0
    return path, run


def test_reconstruct_to_csv_keeps_the_header_encode_keeps(table, tmp_path):
    path, run = table
    out = tmp_path / "r.csv"
    assert main(["reconstruct", str(run), str(path), "--out", str(out)]) == 0
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:1] and len(rows) == 61 and len(rows[1]) == len(rows[0])
    assert all(not cell.replace(".", "").isdigit() for cell in rows[0])
    codes = tmp_path / "c.csv"
    assert main(["encode", str(run), str(path), "--out", str(codes)]) == 0
    assert open(codes).readline().strip().split(",")[0].startswith("z")


def test_class_names_from_a_file_name_the_labels(table, tmp_path, capsys):
    path, _ = table
    names = tmp_path / "names.txt"
    names.write_text("red\nwhite\nrose\n")
    run = tmp_path / "named"
    args = ["train", "--data", path, "--out", run, "--class-names", names, *TINY]
    assert main([str(a) for a in args]) == 0
    import json

    assert json.loads((run / "config.json").read_text())["data"]["classes"] == [
        "red",
        "white",
        "rose",
    ]
    names.write_text("red\n")
    args[4] = tmp_path / "short"
    assert main([str(a) for a in args]) == 2
    assert "names 1 classes" in capsys.readouterr().err


def test_comparing_runs_on_different_data_warns(table, tmp_path, caplog):
    path, run = table
    other_data = tmp_path / "other.csv"
    other_data.write_text(path.read_text())
    other = tmp_path / "other"
    assert main(["train", "--data", str(other_data), "--out", str(other), *TINY]) == 0
    with caplog.at_level(logging.WARNING):
        code = main(
            [
                "plot",
                str(run),
                "compare",
                str(other),
                "--compare",
                "latent",
                "--out",
                str(tmp_path / "cmp.png"),
            ]
        )
    assert code == 0
    assert "trained on different data" in caplog.text
