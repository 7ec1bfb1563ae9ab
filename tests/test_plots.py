"""Every picture drawn from tiny trained runs: the file exists at its figure's pixel
size, is not blank, is deterministic, and what it shows follows the run and data."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from PIL import Image

import aekit
from aekit.analysis.plots import PICTURES, plot
from aekit.analysis.plots.kinds import PictureOptions, interpolation_frames
from aekit.analysis.plots.pictures import picture_data
from aekit.data import load_dataset
from aekit.interfaces.cli import main

# the series picture is for runs on series windows (tests/test_series_cli.py)
IMAGE_PICTURES = [kind for kind in PICTURES if kind != "series"]
TINY = {"epochs": 1, "batch_size": 64, "pictures": False, "report": False}


@pytest.fixture(scope="module")
def vae(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "vae2"
    return aekit.train("digits", "vae", latent_dim=2, hidden=(32,), out=out, **TINY)


@pytest.fixture(scope="module")
def ae(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "mlp3"
    return aekit.train("digits", "mlp", latent_dim=3, hidden=(32,), out=out, **TINY)


@pytest.fixture(scope="module")
def vectors(tmp_path_factory):
    """A run on a CSV of 6 features with a label column."""
    folder = tmp_path_factory.mktemp("csv")
    rng = np.random.default_rng(0)
    rows = [[*rng.normal(size=6).round(4), int(rng.integers(0, 3))] for _ in range(80)]
    with open(folder / "table.csv", "w", newline="") as f:
        csv.writer(f).writerows([[f"f{i}" for i in range(6)] + ["label"], *rows])
    out = folder / "run"
    return aekit.train(str(folder / "table.csv"), "mlp", latent_dim=2, out=out, **TINY)


@pytest.fixture(scope="module")
def drawn(vae, tmp_path_factory):
    """Every picture of the VAE run, drawn once: kind -> (Figure, PNG path)."""
    folder = tmp_path_factory.mktemp("pictures")
    return {
        kind: (plot(vae, kind, out=folder / f"{kind}.png", grid=5, steps=6), kind)
        for kind in IMAGE_PICTURES
    } | {"folder": folder}


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.mark.parametrize("kind", IMAGE_PICTURES)
def test_each_picture_is_saved_at_its_size_and_not_blank(drawn, kind):
    fig, _ = drawn[kind]
    path = drawn["folder"] / f"{kind}.png"
    a = pixels(path)
    width, height = (fig.get_size_inches() * 100).round().astype(int)
    assert (a.shape[1], a.shape[0]) == (width, height)
    assert min(a.shape[:2]) >= 300 and max(a.shape[:2]) <= 4000  # legible, not huge
    colours = np.unique(a.reshape(-1, 3).astype(np.uint32) @ [1, 256, 65536])
    assert a.std() > 10 and len(colours) > 50
    titles = [fig._suptitle] + [ax.title for ax in fig.axes]
    assert any(t is not None and t.get_text() for t in titles), "untitled picture"


def test_pictures_are_deterministic_for_a_seed(ae, tmp_path):
    a, b, c = (tmp_path / f"samples{i}.png" for i in range(3))
    plot(ae, "samples", out=a, seed=1, samples=8)  # random draws and a fitted mixture
    plot(ae, "samples", out=b, seed=1, samples=8)
    plot(ae, "samples", out=c, seed=2, samples=8)
    assert np.array_equal(pixels(a), pixels(b))
    assert not np.array_equal(pixels(a), pixels(c))


def test_manifold_of_a_2d_run_has_the_grid_cells_and_decodes_the_prior(vae, drawn):
    fig, _ = drawn["manifold"]
    image = np.asarray(fig.axes[0].images[0].get_array())
    assert image.shape[:2] == (5 * 8, 5 * 8)  # 5 x 5 cells of 8 x 8 digits
    q = torch.distributions.Normal(0, 1).icdf(torch.linspace(0.05, 0.95, 5))
    top_left = vae.model.decode(torch.stack([q[0], q[-1]])[None]).detach()[0, 0]
    assert np.allclose(image[:8, :8], top_left.numpy(), atol=1e-5)
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks[0] == f"{q[0].item():.2g}"


def test_latent_scatter_of_a_2d_run_shows_the_codes_by_label(vae, drawn):
    fig, _ = drawn["latent"]
    ax = fig.axes[0]
    shown = np.concatenate([c.get_offsets() for c in ax.collections])
    val, _ = picture_data(vae)
    codes = vae.model.encode(val.x).detach().numpy()
    assert shown.shape == codes.shape
    assert np.allclose(np.sort(shown, axis=0), np.sort(codes, axis=0), atol=1e-6)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [val.label_name(int(c)) for c in torch.unique(val.y)]
    assert "z0" in ax.get_xlabel() and "as it is" in ax.get_title()


def test_history_shows_the_logged_losses(vae, drawn):
    fig, _ = drawn["history"]
    with open(vae.path / "history.csv") as f:
        rows = list(csv.DictReader(f))
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["total (negative ELBO)", "reconstruction", "KL to the prior"]
    kl = fig.axes[2]
    assert np.allclose(kl.lines[0].get_ydata(), [float(r["train_kl"]) for r in rows])
    assert np.allclose(kl.lines[1].get_ydata(), [float(r["val_kl"]) for r in rows])


def test_interpolation_strips_start_and_end_at_the_inputs(vae, drawn):
    val, _ = picture_data(vae)
    o = PictureOptions(steps=6)
    pairs, frames = interpolation_frames(vae, val, o)
    i, j = pairs[0]
    for x in frames.values():  # t = 0 and 1 are the two reconstructions
        assert torch.allclose(x[0, 0], vae.model(val.x[i : i + 1])[0], atol=1e-5)
        assert torch.allclose(x[0, -1], vae.model(val.x[j : j + 1])[0], atol=1e-5)
    fig, _ = drawn["interpolate"]
    image = np.asarray(fig.axes[0].images[0].get_array())
    assert image.shape[1] == (6 + 2) * 9 + 1  # input, 6 frames, input
    assert np.allclose(image[1:9, 1:9], val.x[i, 0].numpy())
    assert np.allclose(image[1:9, -9:-1], val.x[j, 0].numpy())


def test_vae_samples_decode_the_prior(vae, drawn):
    fig, _ = drawn["samples"]
    image = np.asarray(fig.axes[0].images[0].get_array())
    z = torch.randn(36, 2, generator=torch.Generator().manual_seed(0))
    first = vae.model.decode(z[:1]).detach()[0, 0].numpy()
    assert np.allclose(image[1:9, 1:9], first, atol=1e-5)


def test_plain_ae_samples_show_three_samplers_and_traversal_rows(ae, tmp_path):
    fig = plot(ae, "samples", samples=8, components=3)
    assert [ax.get_title().split("\n")[0] for ax in fig.axes] == [
        "N(0, I), as a VAE would",
        "a Gaussian fitted to the codes",
        "a 3-component Gaussian mixture",
    ]
    fig = plot(ae, "traverse", steps=5)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["z0", "z1", "z2"]  # one row per latent dimension


def test_compare_puts_two_runs_side_by_side(vae, ae, tmp_path):
    out = tmp_path / "compare.png"
    args = ["plot", str(vae.path), "compare", str(ae.path), "--out", str(out)]
    assert main([*args, "--compare", "latent", "--steps", "4", "--pairs", "2"]) == 0
    a = pixels(out)
    assert a.shape[1] > 2 * 800 - 10  # two latent scatters, each 800 px wide
    assert a.std() > 10


def test_vector_runs_draw_what_they_can(vectors, tmp_path, capsys):
    for kind in ("latent", "interpolate", "samples"):
        out = tmp_path / f"{kind}.png"
        assert main(["plot", str(vectors.path), kind, "--out", str(out)]) == 0, kind
        assert pixels(out).std() > 10
    out = tmp_path / "manifold.png"
    assert main(["plot", str(vectors.path), "manifold", "--out", str(out)]) == 2
    assert "needs image data" in capsys.readouterr().err
    assert not out.exists()


def test_edit_writes_strips_and_arrays(ae, tmp_path):
    digits = load_dataset("digits")
    inputs = tmp_path / "in.npy"
    np.save(inputs, digits.scaling.to_source(digits.x[:3]))
    args = ["edit", str(ae.path), str(inputs), "--attribute", "label=3"]
    png, npy = tmp_path / "edit.png", tmp_path / "edit.npy"
    assert main([*args, "--out", str(png)]) == 0
    assert pixels(png).std() > 10
    assert main([*args, "--strengths", "-1,0,1", "--out", str(npy)]) == 0  # as typed
    out = np.load(npy)
    assert out.shape == (3, 3, 8, 8)
    assert np.allclose(out[:, 1], aekit.reconstruct(ae, inputs), atol=1e-4)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["compare", "--out", "x.png"], "needs a second run"),
        (["latent", "--out", "x.txt"], "can be written as"),
        (["manifold", "--dims", "0,7", "--out", "x.png"], "out of range"),
        (
            ["latent", "--projection", "tsne", "--data", "nope.npy", "--out", "x.png"],
            "nope",
        ),
    ],
)
def test_bad_plot_requests(vae, tmp_path, capsys, args, needle):
    args = [str(tmp_path / a) if a.startswith(("x.", "nope")) else a for a in args]
    assert main(["plot", str(vae.path), *args]) == 2
    assert needle in capsys.readouterr().err


def _all_text(fig) -> str:
    texts = [t.get_text() for t in fig.texts]
    texts += [ax.get_title() for ax in fig.axes]
    return "\n".join(texts)


@pytest.mark.parametrize(
    ("prior", "named"),
    [("standard", "the prior N(0, I)"), ("mog:3", "a mixture of 3 Gaussians")],
)
def test_samples_title_says_how_many_and_from_which_prior(prior, named, tmp_path):

    run = aekit.train(
        "digits",
        "vae",
        latent_dim=2,
        hidden=(16,),
        prior=prior,
        epochs=1,
        out=tmp_path / "run",
        pictures=False,
        report=False,
    )
    title = _all_text(aekit.analysis.plots.plot(run, "samples"))
    assert "36 samples: codes drawn from" in title and named in title, title
