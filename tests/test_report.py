"""report.html: written after training, self-contained (every picture embedded, nothing
fetched), and holding the run's configuration, data, curves and metrics."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser

import pytest
from PIL import Image

import aekit
from aekit.interfaces.cli import main


class Page(HTMLParser):
    """Collects what the report asks a browser to load, and its figure ids."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self.figures: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "figure":
            self.figures.append(attrs["id"])
        for key in ("href", "src", "srcset", "data", "action"):
            if key in attrs and tag != "img":
                self.links.append(attrs[key])


def read_page(path) -> tuple[Page, str]:
    text = path.read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    page.close()
    return page, text


def decode_png(src: str) -> bytes:
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix), src[:40]
    data = base64.b64decode(src[len(prefix) :], validate=True)
    Image.open(io.BytesIO(data)).verify()
    return data


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "vae"
    return aekit.train(
        "digits", "vae", latent_dim=2, hidden=(32,), epochs=2, batch_size=64, out=out
    )


def test_training_writes_a_self_contained_report_embedding_every_picture(run):
    page, text = read_page(run.path / "report.html")
    written = {p.stem: p.read_bytes() for p in run.path.glob("*.png")}
    assert set(written) >= {"reconstructions", "history", "latent", "manifold"}
    assert set(page.figures) == set(written)  # every picture, and only those
    embedded = dict(zip(page.figures, map(decode_png, page.images), strict=True))
    assert embedded == written  # the very bytes of the PNG files
    assert not page.links and not {"script", "link", "iframe"} & set(page.tags)
    assert "http://" not in text and "https://" not in text


def test_report_holds_configuration_data_and_metrics(run):
    _, text = read_page(run.path / "report.html")
    config = json.loads((run.path / "config.json").read_text())
    metrics = json.loads((run.path / "metrics.json").read_text())
    for needle in (
        "Run configuration",
        "Training curves",
        "latent_dim",
        config["training"]["schedule"],
        "digits",
        "sample_shape",
        f"{metrics['val_mse']:.5g}",
        config["versions"]["torch"],
    ):
        assert needle in text, needle


def test_report_command_draws_every_picture(run, tmp_path, capsys):
    out = tmp_path / "again.html"
    assert main(["report", str(run.path), "--out", str(out), "--steps", "4"]) == 0
    assert str(out) in capsys.readouterr().out
    page, _ = read_page(out)
    # every picture but the series one, which is for runs on series windows
    assert set(page.figures) == set(aekit.analysis.plots.PICTURES) - {"series"}
    assert all(decode_png(src) for src in page.images)


def test_no_report_and_no_pictures(tmp_path):
    out = tmp_path / "bare"
    args = ["train", "--data", "digits", "--model", "mlp", "--latent-dim", "2"]
    args += ["--hidden", "16", "--epochs", "1", "--quiet", "--out", str(out)]
    assert main([*args, "--no-report", "--no-pictures"]) == 0
    assert not list(out.glob("*.png")) and not (out / "report.html").exists()


def test_report_without_picture_files_for_a_vector_run(tmp_path):
    table = tmp_path / "table.csv"
    rows = [f"{i % 7},{(i * 3) % 5},{i % 2}" for i in range(40)]
    table.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    out = tmp_path / "vectors"
    aekit.train(str(table), "mlp", latent_dim=2, epochs=1, out=out, pictures=False)
    page, _ = read_page(out / "report.html")
    assert not list(out.glob("*.png"))  # drawn into the report only
    assert set(page.figures) == {"reconstructions", "history", "latent"}
    assert all(decode_png(src) for src in page.images)
