"""An --out folder that already holds files is the user's: every command that writes
a folder refuses it in one line, unless --force (issue 25.9)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import aekit
from aekit.interfaces.cli import main


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("runs") / "mlp"
    aekit.train(
        "digits", "mlp", out=out, epochs=1, latent_dim=2, pictures=False, report=False
    )
    return out


def cli(*args):
    return main([*map(str, args), "--threads", "1"])


@pytest.mark.parametrize("command", ["decode", "reconstruct", "denoise", "sample"])
def test_a_folder_with_files_is_refused_unless_force(
    digits_run, tmp_path, capsys, command
):
    codes = tmp_path / "codes.npy"
    np.save(codes, np.zeros((3, 2), np.float32))
    given = {
        "decode": [codes],
        "reconstruct": ["digits"],
        "denoise": ["digits"],
        "sample": ["-n", 3],
    }[command]
    folder = tmp_path / "digits"
    folder.mkdir()
    mine = folder / "mine.txt"
    mine.write_text("an earlier output")
    assert cli(command, digits_run, *given, "--out", folder) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "already holds files" in err, err
    assert "--force" in err and sorted(folder.iterdir()) == [mine]
    assert cli(command, digits_run, *given, "--out", folder, "--force") == 0
    assert mine.read_text() == "an earlier output" and len(list(folder.iterdir())) > 1
    fresh = tmp_path / "fresh"
    fresh.mkdir()  # an empty folder is as good as a new one
    assert cli(command, digits_run, *given, "--out", fresh) == 0


def test_export_and_segment_refuse_a_folder_with_files(digits_run, tmp_path, capsys):
    folder = tmp_path / "onnx"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep")
    assert cli("export", digits_run, "--out", folder) == 2
    assert "already holds files" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    assert cli("segment", digits_run, "shapes", "--out", folder) == 2
    assert "already holds files" in capsys.readouterr().err
