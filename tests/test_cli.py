"""The `aekit` command end to end on tiny data, and the bad input it must survive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aekit.interfaces.cli import main

TINY = ["--epochs", "2", "--batch-size", "32", "--quiet"]


@pytest.fixture(scope="module")
def images_npz(tmp_path_factory) -> Path:
    """60 random 8x8 grayscale 'images' in pixel units with 3 labels."""
    path = tmp_path_factory.mktemp("data") / "tiny.npz"
    rng = np.random.default_rng(0)
    np.savez(
        path,
        x=rng.integers(0, 256, (60, 8, 8), dtype=np.uint8),
        y=rng.integers(0, 3, 60),
    )
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, images_npz) -> Path:
    out = tmp_path_factory.mktemp("runs") / "conv"
    assert (
        main(
            [
                "train",
                "--data",
                str(images_npz),
                "--model",
                "conv",
                "--latent-dim",
                "4",
                "--channels",
                "4,8",
                "--out",
                str(out),
                *TINY,
            ]
        )
        == 0
    )
    return out


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory, images_npz) -> Path:
    out = tmp_path_factory.mktemp("runs") / "vae"
    assert (
        main(
            [
                "train",
                "--data",
                str(images_npz),
                "--model",
                "vae",
                "--latent-dim",
                "2",
                "--hidden",
                "16",
                "--out",
                str(out),
                *TINY,
            ]
        )
        == 0
    )
    return out


def test_train_writes_the_run_directory(run_dir):
    for name in [
        "config.json",
        "model.safetensors",
        "checkpoint.safetensors",
        "history.csv",
        "metrics.json",
        "reconstructions.png",
    ]:
        assert (run_dir / name).is_file(), name
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model"]["name"] == "conv"
    assert config["model"]["config"]["latent_dim"] == 4
    assert config["data"]["scaling"] == {
        "offset": 0.0,
        "scale": 255.0,
        "domain": "unit",
        "layout": "hw",
    }
    assert config["data"]["sample_shape"] == [1, 8, 8]
    assert {"torch", "aekit", "python"} <= set(config["versions"])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2 and metrics["val_mse"] > 0


def test_vae_run_has_samples_and_separate_loss_terms(vae_run):
    assert (vae_run / "samples.png").is_file()
    header = (vae_run / "history.csv").read_text().splitlines()[0].split(",")
    assert {"train_recon", "train_kl", "val_recon", "val_kl"} <= set(header)


def test_reconstruct_writes_one_row_per_input_in_source_units(
    run_dir, images_npz, tmp_path
):
    out = tmp_path / "rec.npy"
    assert main(["reconstruct", str(run_dir), str(images_npz), "--out", str(out)]) == 0
    rec = np.load(out)
    assert rec.shape == (60, 8, 8)  # the source's layout: (N, H, W)
    assert 0 <= rec.min() and rec.max() <= 255 and rec.max() > 1  # pixel units


def test_reconstruct_into_a_directory_writes_a_png_per_input(run_dir, tmp_path):
    files = []
    for i in range(3):
        path = tmp_path / f"in{i}.png"
        Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(path)
        files.append(str(path))
    out = tmp_path / "pngs"
    assert main(["reconstruct", str(run_dir), *files, "--out", str(out)]) == 0
    written = sorted(out.iterdir())
    assert len(written) == 3
    assert Image.open(written[0]).size == (8, 8)


def test_encode_decode_round_trip(run_dir, images_npz, tmp_path):
    codes = tmp_path / "codes.npy"
    assert main(["encode", str(run_dir), str(images_npz), "--out", str(codes)]) == 0
    z = np.load(codes)
    assert z.shape == (60, 4) and z.dtype == np.float32
    decoded = tmp_path / "dec.npy"
    assert main(["decode", str(run_dir), str(codes), "--out", str(decoded)]) == 0
    rec = tmp_path / "rec.npy"
    main(["reconstruct", str(run_dir), str(images_npz), "--out", str(rec)])
    # no max-unpool switches here, so decode(encode(x)) is the reconstruction
    np.testing.assert_allclose(np.load(decoded), np.load(rec), atol=1e-4)
    csv = tmp_path / "codes.csv"
    assert main(["encode", str(run_dir), str(images_npz), "--out", str(csv)]) == 0
    assert csv.read_text().splitlines()[0] == "z0,z1,z2,z3"


@pytest.mark.parametrize("out", ["s.png", "s.npy"])
def test_sample_writes_pictures_or_arrays(vae_run, run_dir, tmp_path, out):
    for run in (vae_run, run_dir):  # the prior for a VAE, a fitted Gaussian for an AE
        path = tmp_path / f"{run.name}-{out}"
        assert main(["sample", str(run), "-n", "6", "--out", str(path)]) == 0
        if out.endswith(".npy"):
            assert np.load(path).shape == (6, 8, 8)
        else:
            assert Image.open(path).size[0] > 100


def test_denoise_run_shows_clean_noisy_denoised(images_npz, tmp_path):
    out = tmp_path / "dae"
    assert (
        main(
            [
                "train",
                "--data",
                str(images_npz),
                "--model",
                "mlp",
                "--hidden",
                "16",
                "--latent-dim",
                "4",
                "--noise",
                "salt-and-pepper:0.2",
                "--out",
                str(out),
                *TINY,
            ]
        )
        == 0
    )
    assert (
        json.loads((out / "config.json").read_text())["training"]["noise"]
        == "salt-and-pepper:0.2"
    )
    result = tmp_path / "den.npy"
    assert (
        main(
            [
                "denoise",
                str(out),
                str(images_npz),
                "--add-noise",
                "mask:0.3",
                "--out",
                str(result),
            ]
        )
        == 0
    )
    assert np.load(result).shape == (60, 8, 8)


def test_resume_continues_a_run_to_more_epochs(images_npz, tmp_path):
    out = tmp_path / "r"
    args = [
        "--data",
        str(images_npz),
        "--hidden",
        "8",
        "--latent-dim",
        "2",
        "--out",
        str(out),
    ]
    assert main(["train", *args, *TINY]) == 0
    assert main(["train", "--resume", str(out), "--epochs", "4", "--quiet"]) == 0
    lines = (out / "history.csv").read_text().splitlines()
    assert len(lines) == 1 + 4
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 4


def test_info_and_datasets(run_dir, capsys):
    assert main(["info", str(run_dir), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (
        info["model"] == "conv" and info["latent_dim"] == 4 and info["parameters"] > 0
    )
    assert list(info["model_config"]["channels"]) == [4, 8]  # --channels is the model's
    assert main(["datasets"]) == 0
    listing = capsys.readouterr().out
    assert "digits" in listing and "mnist-5k" in listing


def test_csv_data_round_trips_in_original_units(tmp_path):
    rng = np.random.default_rng(0)
    table = rng.normal(50, 10, (80, 5))
    path = tmp_path / "t.csv"
    np.savetxt(path, table, delimiter=",", header="a,b,c,d,e", comments="")
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--data",
                str(path),
                "--hidden",
                "16",
                "--latent-dim",
                "5",
                "--out",
                str(out),
                "--epochs",
                "60",
                "--lr",
                "1e-2",
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        json.loads((out / "config.json").read_text())["model"]["config"]["output"]
        == "identity"
    )
    rec_path = tmp_path / "rec.npy"
    assert main(["reconstruct", str(out), str(path), "--out", str(rec_path)]) == 0
    rec = np.load(rec_path)
    assert rec.shape == (80, 5)
    # outputs are in the CSV's own units (mean 50, sd 10), not standardised ones
    assert abs(rec.mean() - table.mean()) < 3
    assert np.mean((rec - table) ** 2) < np.var(table)


# -- bad input: one line on stderr, exit 2, no traceback, nothing half-written --
def run_cli(args, capsys):
    code = main(args)
    err = capsys.readouterr().err
    return code, err


def assert_clean_error(code, err, *needles):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle.lower() in err.lower(), err


def test_missing_data_file(capsys, tmp_path):
    code, err = run_cli(["train", "--data", str(tmp_path / "nope.npz"), *TINY], capsys)
    assert_clean_error(code, err, "nope.npz")


def test_unknown_format(capsys, tmp_path):
    path = tmp_path / "data.xyz"
    path.write_text("hello")
    code, err = run_cli(["train", "--data", str(path), *TINY], capsys)
    assert_clean_error(code, err, "data.xyz")


def test_nan_in_data_is_refused_naming_the_row(capsys, tmp_path):
    x = np.random.default_rng(0).random((20, 6)).astype(np.float32)
    x[7, 2] = np.nan
    path = tmp_path / "nan.npy"
    np.save(path, x)
    code, err = run_cli(["train", "--data", str(path), *TINY], capsys)
    assert_clean_error(code, err, "nan.npy", "7")


def test_empty_data(capsys, tmp_path):
    path = tmp_path / "empty.npy"
    np.save(path, np.zeros((0, 5), np.float32))
    code, err = run_cli(["train", "--data", str(path), *TINY], capsys)
    assert_clean_error(code, err, "empty.npy")


def test_inputs_of_the_wrong_shape(run_dir, capsys, tmp_path):
    path = tmp_path / "vec.npy"
    np.save(path, np.zeros((3, 10), np.float32))
    code, err = run_cli(
        ["reconstruct", str(run_dir), str(path), "--out", str(tmp_path / "o.npy")],
        capsys,
    )
    assert_clean_error(code, err, "vec.npy")
    assert not (tmp_path / "o.npy").exists()


def test_codes_of_the_wrong_size(run_dir, capsys, tmp_path):
    path = tmp_path / "codes.npy"
    np.save(path, np.zeros((3, 7), np.float32))
    code, err = run_cli(
        ["decode", str(run_dir), str(path), "--out", str(tmp_path / "o.npy")], capsys
    )
    assert_clean_error(code, err, "(N, 4)")


@pytest.mark.parametrize(
    "content", [b"", b"not a checkpoint at all" * 10, b"\x80\x04\x95" + b"\x00" * 64]
)
def test_corrupt_checkpoint(run_dir, capsys, tmp_path, content):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    (broken / "model.safetensors").write_bytes(content)
    code, err = run_cli(
        ["encode", str(broken), "digits", "--out", str(tmp_path / "z.npy")], capsys
    )
    assert_clean_error(code, err, "model.safetensors")


def test_foreign_checkpoint(run_dir, capsys, tmp_path):
    import shutil

    import torch
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign"
    shutil.copytree(run_dir, foreign)
    save_file({"w": torch.zeros(3)}, str(foreign / "model.safetensors"))
    code, err = run_cli(
        ["encode", str(foreign), "digits", "--out", str(tmp_path / "z.npy")], capsys
    )
    assert_clean_error(code, err, "model.safetensors", "not an aekit")


def test_newer_run_format(run_dir, capsys, tmp_path):
    import shutil

    newer = tmp_path / "newer"
    shutil.copytree(run_dir, newer)
    config = json.loads((newer / "config.json").read_text())
    config["format_version"] = 99
    (newer / "config.json").write_text(json.dumps(config))
    code, err = run_cli(["info", str(newer)], capsys)
    assert_clean_error(code, err, "newer")


def test_not_a_run_directory(capsys, tmp_path):
    code, err = run_cli(["info", str(tmp_path)], capsys)
    assert_clean_error(code, err, "not an aekit run")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["train", "--model", "transformer"], "invalid choice"),
        (["train", "--upsample", "cubic"], "invalid choice"),
        (["train", "--epochs", "many"], "invalid int"),
        (["train", "--noise", "blur:2", *TINY], "unknown noise"),
        (
            [
                "train",
                "--model",
                "vae",
                "--likelihood",
                "bernoulli",
                "--loss",
                "bce",
                *TINY,
            ],
            "no option",
        ),
        (["sample", "x", "-n", "0", "--out", "a.png"], "positive"),
    ],
)
def test_bad_options(capsys, args, needle):
    code, err = (
        run_cli(args, capsys)
        if "--noise" in args or "--loss" in args
        else _exit_code(args, capsys)
    )
    assert code == 2
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def _exit_code(args, capsys):
    with pytest.raises(SystemExit) as info:
        main(args)
    return info.value.code, capsys.readouterr().err


def test_existing_run_is_never_overwritten_without_force(run_dir, images_npz, capsys):
    before = (run_dir / "model.safetensors").read_bytes()
    code, err = run_cli(
        ["train", "--data", str(images_npz), "--out", str(run_dir), *TINY], capsys
    )
    assert_clean_error(code, err, "--resume")
    assert (run_dir / "model.safetensors").read_bytes() == before


def test_console_script_reports_errors_without_traceback(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    result = subprocess.run(
        [sys.executable, "-m", "aekit", "info", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"aekit: error: no such run directory: {tmp_path / 'x'}"
    )
