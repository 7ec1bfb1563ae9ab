"""The Task interface: no module outside aekit.tasks branches on a task's name, and a
new task registered in TASKS goes through train, evaluate, report, resume and its
own command with no edit anywhere else."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from aekit.tasks import TASKS

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "aekit"
NAMES = {"reconstruct", "colorize", "segment"}


def _names_task(node: ast.expr) -> bool:
    """`task`, `run.task`, `prepared.task`, `task_name`, ...: a task's name."""
    if isinstance(node, ast.Name):
        return "task" in node.id
    if isinstance(node, ast.Attribute):
        return "task" in node.attr
    if isinstance(node, ast.Call):  # record.get("task", ...)
        return any(isinstance(a, ast.Constant) and a.value == "task" for a in node.args)
    return False


def _task_constants(node: ast.expr) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value} & NAMES
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return {v for e in node.elts for v in _task_constants(e)}
    return set()


def task_branches(source: str) -> list[int]:
    """Lines comparing a task's name with one of the registered names."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(map(_names_task, sides)) and any(map(_task_constants, sides)):
                lines.append(node.lineno)
        elif isinstance(node, ast.Match) and _names_task(node.subject):
            lines.append(node.lineno)
    return lines


def test_the_registry_holds_the_known_tasks():
    assert NAMES <= set(TASKS)
    assert all(task.name == name for name, task in TASKS.items())


def test_the_branch_finder_finds_branches():
    found = task_branches(
        'if run.task == "colorize": pass\n'
        'if task not in ("colorize", "segment"): pass\n'
        'x = 1 if record.get("task", "reconstruct") != "reconstruct" else 2\n'
        'if name == "reconstruct": pass\n'  # a command's name, not a task's
    )
    assert found == [1, 2, 3]


def test_no_module_outside_tasks_branches_on_a_task_name():
    found = {
        str(f.relative_to(PACKAGE)): lines
        for f in sorted(PACKAGE.rglob("*.py"))
        if "tasks" not in f.relative_to(PACKAGE).parts
        and (lines := task_branches(f.read_text()))
    }
    assert found == {}


def test_no_task_module_but_the_registry_branches_on_task_names():
    """Inside aekit.tasks too, a task is looked up, never compared by name."""
    found = {
        f.name: lines
        for f in sorted((PACKAGE / "tasks").glob("*.py"))
        if (lines := task_branches(f.read_text()))
    }
    assert found == {}


# -- a third task, registered in a test only ---------------------------------------


def _invert_task():
    from aekit.tasks.image_task import PATCH_OPTIONS
    from aekit.tasks.patch_task import PatchTask

    class Invert(PatchTask):
        """A colour image -> its negative: a task no module outside knows."""

        name = "invert"
        summary = "image -> its negative"
        train_options = PATCH_OPTIONS
        command = "invert"
        command_help = "write the negatives of images"
        inputs_help = "image files or a folder"

        def accepts_model(self, spec):
            return "colorize" in spec.capabilities.tasks  # the image-to-image models

        def read_source(self, data, opts):
            from aekit.data.paired import read_images

            return read_images(data)

        def check_pairs(self, pairs):
            return pairs

        def model_options(self, pairs, opts):
            return {
                "in_channels": 3,
                "out_channels": 3,
                "output": "sigmoid",
                "loss": "mse",
                "class_weights": None,
                "ignore_index": 255,
            }

        def patches(self, part, size, opts, *, seed):
            from aekit.data import Dataset
            from aekit.data.paired import extract_patches

            per_image = opts.get("patches_per_image")
            p, _ = extract_patches(part, size, per_image=per_image, seed=seed)
            x = torch.from_numpy(p.transpose(0, 3, 1, 2).astype(np.float32) / 255)
            return Dataset(x=x, name=part.source, target=1.0 - x)

        def settings(self, pairs, opts):
            return {"inverted": True}

        def predict(self, run, pairs):
            from aekit.inference.images import predict_whole

            x = [
                torch.from_numpy(a / 255.0).float().permute(2, 0, 1)
                for a in pairs.images
            ]
            return [y.permute(1, 2, 0).numpy() for y in predict_whole(run.model, x)]

        def patch_scores(self, run, val, out):
            return {"negative_mse": float(((out - val.target) ** 2).mean())}

        def image_scores(self, run, pairs):
            truth = [1.0 - a / 255.0 for a in pairs.images]
            pred = self.predict(run, pairs)
            mse = [
                float(((t - p) ** 2).mean()) for t, p in zip(truth, pred, strict=True)
            ]
            return {"negative_mse": float(np.mean(mse))}

        def predictions_figure(self, run, val, out):
            from aekit.analysis.plots import plot_image_rows

            rows = [val.x[:4], out[:4], val.target[:4]]
            labels = ["image", "predicted", "negative"]
            return plot_image_rows(rows, labels, title="negatives")

        def write_applied(self, run, inputs, out, names, **options):
            from aekit.data.pixels import save_png

            for name, image in zip(names, self.predict(run, inputs), strict=True):
                save_png(out / f"{name}.png", np.clip(image, 0, 1))
            return f"wrote {len(names)} negative(s) to {out}"

    return Invert()


@pytest.fixture
def images(tmp_path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate([(20, 22), (18, 21), (24, 19)]):
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        Image.fromarray(a).save(folder / f"i{i}.png")
    return folder


def test_a_new_task_flows_through_every_command(tmp_path, images, monkeypatch, capsys):
    import aekit
    from aekit.interfaces.cli import main

    monkeypatch.setitem(TASKS, "invert", _invert_task())
    run_dir = tmp_path / "run"
    aekit.train(
        str(images),
        task="invert",
        channels=(4, 8),
        epochs=1,
        batch_size=8,
        patch_size=16,
        patches_per_image=4,
        out=run_dir,
    )
    record = json.loads((run_dir / "config.json").read_text())
    assert record["task"] == "invert"
    assert record["data"]["task"]["inverted"] is True  # the task's own settings
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert np.isfinite(metrics["val_negative_mse"])  # the task's own metric
    assert (run_dir / "predictions.png").exists() and (run_dir / "report.html").exists()

    scores = aekit.evaluate(run_dir)
    assert scores["task"] == "invert" and scores["n_images"] >= 1
    assert 0.0 <= scores["negative_mse"] <= 1.0

    out = tmp_path / "negatives"
    assert main(["invert", str(run_dir), str(images), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["i0.png", "i1.png", "i2.png"]
    assert np.asarray(Image.open(out / "i1.png")).shape == (18, 21, 3)  # its own size
    assert main(["evaluate", str(run_dir), "--out", str(tmp_path / "e.json")]) == 0
    assert main(["report", str(run_dir), "--out", str(tmp_path / "r.html")]) == 0
    assert main(["train", "--resume", str(run_dir), "--epochs", "2", "--quiet"]) == 0
    assert len(json.loads((run_dir / "metrics.json").read_text())) > 0
    assert (run_dir / "history.csv").read_text().count("\n") == 3  # header + 2 epochs
    capsys.readouterr()
