"""`aekit train --task colorize|segment`, `aekit colorize`, `aekit segment`, end to end
on tiny generated folders, and the bad input each must survive."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

import aekit
from aekit.analysis.segmentation import default_palette
from aekit.interfaces.cli import main
from aekit.tasks import evaluate_task

pytestmark = pytest.mark.slow
TINY = ["--channels", "4,8", "--epochs", "1", "--batch-size", "8", "--quiet"]
TINY += ["--patch-size", "16", "--patches-per-image", "4"]


def smooth_colour_image(rng, h: int, w: int) -> np.ndarray:
    """A colour gradient: something with colour to learn, cheap to make."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    a = rng.uniform(0, 1, (3, 3))
    image = a[:, 0] + a[:, 1] * yy[..., None] + a[:, 2] * xx[..., None]
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def seg_folders(tmp_path_factory) -> Path:
    """root/images/*.png and root/masks/*.png (palette), 3 classes, odd sizes."""
    root = tmp_path_factory.mktemp("seg")
    (root / "images").mkdir()
    (root / "masks").mkdir()
    for i, (h, w) in enumerate([(20, 24), (19, 21), (24, 17), (22, 22)]):
        ids = np.zeros((h, w), np.uint8)
        ids[h // 3 :, : w // 2] = 1
        ids[: h // 2, w // 2 :] = 2
        image = (np.array([[40, 40, 40], [200, 30, 30], [30, 30, 200]])[ids]).astype(
            np.uint8
        )
        Image.fromarray(image).save(root / "images" / f"p{i}.png")
        mask = Image.fromarray(ids, mode="P")
        mask.putpalette(default_palette(256).reshape(-1).tolist())
        mask.save(root / "masks" / f"p{i}.png")
    (root / "masks" / "classes.txt").write_text("ground\nred\nblue\n")
    return root


@pytest.fixture(scope="module")
def colour_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("colour")
    rng = np.random.default_rng(1)
    for i, (h, w) in enumerate([(24, 28), (21, 19), (30, 25)]):
        Image.fromarray(smooth_colour_image(rng, h, w)).save(root / f"c{i}.png")
    return root


@pytest.fixture(scope="module")
def seg_run(tmp_path_factory, seg_folders) -> Path:
    out = tmp_path_factory.mktemp("runs") / "seg"
    code = main(
        ["train", "--task", "segment", "--data", str(seg_folders / "images")]
        + ["--masks", str(seg_folders / "masks"), "--class-weights", "auto"]
        + ["--out", str(out), *TINY]
    )
    assert code == 0
    return out


@pytest.fixture(scope="module")
def colour_run(tmp_path_factory, colour_folder) -> Path:
    out = tmp_path_factory.mktemp("runs") / "col"
    code = main(
        ["train", "--task", "colorize", "--data", str(colour_folder)]
        + ["--model", "segnet", "--out", str(out), *TINY]
    )
    assert code == 0
    return out


def test_segment_run_records_task_classes_and_scores(seg_run):
    record = json.loads((seg_run / "config.json").read_text())
    assert record["task"] == "segment" and record["model"]["name"] == "unet"
    assert record["data"]["classes"] == ["ground", "red", "blue"]
    weights = record["model"]["config"]["class_weights"]
    assert len(weights) == 3 and all(w > 0 for w in weights)
    metrics = json.loads((seg_run / "metrics.json").read_text())
    assert 0 <= metrics["val_miou"] <= 1 and "val_iou_blue" in metrics
    assert (seg_run / "predictions.png").is_file()


def test_info_describes_a_task_run(seg_run, capsys):
    from aekit.interfaces.cli import main

    assert main(["info", str(seg_run)]) == 0
    out = capsys.readouterr().out
    assert "unet" in out and "task segment" in out
    assert main(["info", str(seg_run), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["task"] == "segment" and info["latent_dim"] is None


def test_segment_writes_palette_masks_and_overlays_at_input_size(
    seg_run, seg_folders, tmp_path
):
    out = tmp_path / "out"
    assert (
        main(["segment", str(seg_run), str(seg_folders / "images"), "--out", str(out)])
        == 0
    )
    for src in sorted((seg_folders / "images").glob("*.png")):
        with Image.open(out / "masks" / src.name) as mask, Image.open(src) as image:
            assert mask.mode == "P" and mask.size == image.size
            assert np.asarray(mask).max() < 3
        with Image.open(out / "overlays" / src.name) as tinted:
            assert tinted.mode == "RGB" and tinted.size == image.size
    assert (out / "masks" / "classes.txt").read_text().split() == [
        "ground",
        "red",
        "blue",
    ]


def test_grayscale_input_to_a_colour_segmentation_run(seg_run, tmp_path):
    path = tmp_path / "gray.png"
    Image.fromarray(np.full((13, 29), 90, np.uint8)).save(path)  # mode L, odd size
    ids = aekit.segment(seg_run, [path])
    assert len(ids) == 1 and ids[0].shape == (13, 29) and ids[0].dtype == np.int64


def test_evaluate_segment_run_on_its_held_out_images(seg_run, seg_folders):
    scores = evaluate_task(seg_run)
    assert scores["n_images"] == 1  # 10% of 4 images, at least one
    assert 0 <= scores["pixel_accuracy"] <= 1 and 0 <= scores["miou"] <= 1
    again = evaluate_task(seg_run, str(seg_folders))  # FOLDER with images/ + masks/
    assert again["n_images"] == 4


def test_aekit_evaluate_scores_a_segment_run(seg_run, capsys):
    assert main(["evaluate", str(seg_run)]) == 0
    report = json.loads((seg_run / "evaluation.json").read_text())
    assert report["task"] == "segment" and 0 <= report["miou"] <= 1
    assert "miou" in capsys.readouterr().out


def test_colorize_writes_rgb_at_input_size_from_colour_or_gray(colour_run, tmp_path):
    metrics = json.loads((colour_run / "metrics.json").read_text())
    assert {"val_psnr", "val_ssim", "val_gray_copy_psnr"} <= set(metrics)
    gray = tmp_path / "in" / "g.png"
    gray.parent.mkdir()
    Image.fromarray(np.full((11, 15), 120, np.uint8)).save(gray)
    out = tmp_path / "out"
    assert main(["colorize", str(colour_run), str(gray.parent), "--out", str(out)]) == 0
    with Image.open(out / "g.png") as image:
        assert image.mode == "RGB" and image.size == (15, 11)
    rgb = aekit.colorize(colour_run, np.zeros((7, 9), np.uint8))
    assert rgb[0].shape == (7, 9, 3) and rgb[0].dtype == np.uint8
    scores = evaluate_task(colour_run)
    assert scores["gray_copy_psnr"] > 0 and np.isfinite(scores["psnr"])


def test_resume_continues_a_task_run(tmp_path, colour_folder):
    out = tmp_path / "run"
    base = ["train", "--task", "colorize", "--data", str(colour_folder), "--out"]
    assert main([*base, str(out), *TINY, "--color-space", "rgb"]) == 0
    assert main(["train", "--resume", str(out), "--epochs", "2", "--quiet"]) == 0
    lines = (out / "history.csv").read_text().splitlines()
    assert len(lines) == 3  # header and two epochs


def test_a_task_run_killed_before_its_first_epoch_restarts(tmp_path, colour_folder):
    out = tmp_path / "run"
    base = ["train", "--task", "colorize", "--data", str(colour_folder), "--out"]
    threads = ["--threads", "1"]  # the same arithmetic in both runs
    assert main([*base, str(out), *TINY, *threads, "--color-space", "rgb"]) == 0
    first = load_file(out / "model.safetensors")
    for name in ("checkpoint.safetensors", "metrics.json", "history.csv"):
        (out / name).unlink()  # as if killed during epoch 1
    stale = out / ".checkpoint.safetensors.abcd1234.tmp"
    stale.write_bytes(b"half a file")
    assert main(["train", "--resume", str(out), "--quiet", *threads]) == 0
    assert not stale.exists()
    lines = (out / "history.csv").read_text().splitlines()
    assert len(lines) == 1 + int(TINY[TINY.index("--epochs") + 1])
    again = load_file(out / "model.safetensors")  # same seed, same run
    assert again.keys() == first.keys()
    assert all(torch.equal(again[k], first[k]) for k in first)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--task", "segment", "--data", "IMAGES"], "needs --masks"),
        (["--task", "segment", "--data", "IMAGES", "--masks", "BROKEN"], "no mask in"),
        (["--task", "segment", "--data", "IMAGES", "--masks", "MASKS",
          "--classes", "TWO"], "class id 2, outside the 2 declared"),
        (["--task", "colorize", "--data", "IMAGES", "--model", "conv"],
         "needs an image-to-image model"),
        (["--task", "colorize", "--data", "IMAGES", "--latent-dim", "3"],
         "takes no option"),
    ],
)  # fmt: skip
def test_bad_task_input_is_one_clear_line(
    extra, message, seg_folders, tmp_path, capsys
):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "p0.png").write_bytes((seg_folders / "masks" / "p0.png").read_bytes())
    (tmp_path / "two.txt").write_text("a\nb\n")
    paths = {
        "IMAGES": str(seg_folders / "images"),
        "MASKS": str(seg_folders / "masks"),
        "BROKEN": str(broken),
        "TWO": str(tmp_path / "two.txt"),
    }
    args = [paths.get(a, a) for a in extra]
    assert main(["train", *args, "--out", str(tmp_path / "r"), *TINY]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "r" / "model.safetensors").exists()


def test_wrong_run_for_the_command(seg_run, colour_run, tmp_path, capsys):
    assert main(["colorize", str(seg_run), "photos", "--out", str(tmp_path)]) == 2
    assert "--task colorize" in capsys.readouterr().err
    assert (
        main(["segment", str(colour_run), "shapes", "--out", str(tmp_path / "x.png")])
        == 2
    )
    assert "error" in capsys.readouterr().err


def test_task_runs_get_their_pictures_and_report(seg_run, colour_run, tmp_path):
    for run, own in ((seg_run, "class_iou"), (colour_run, "predictions")):
        assert (run / "history.png").is_file() and (run / f"{own}.png").is_file()
        page = (run / "report.html").read_text()
        assert "predictions" in page and "<img" in page
    out = tmp_path / "again.html"
    assert main(["report", str(seg_run), "--out", str(out)]) == 0
    page = out.read_text()
    assert "class_iou" in page and "Intersection over union" in page
