"""Features a person can read from an SAE: streamed top inputs per latent and
decoder directions (a planted latent finds its planted inputs), the report's
sparse-features section on image, table and series runs, and the L0-FVU curve of
`aekit report RUN --compare`."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import aekit
from aekit.analysis.sae_features import (
    decoder_directions,
    direction_image,
    latent_features,
    steer,
    top_weighted,
)
from aekit.analysis.sae_frontier import l0_fvu
from aekit.data.superposition import superposition
from aekit.errors import AekitError
from aekit.interfaces.cli import main
from aekit.models import build_model

torch.set_num_threads(1)


def planted_sae(width: int = 10, n: int = 12, latent: int = 3):
    """An SAE whose latent `latent` reads and writes one known direction, and
    data where 8 known rows carry that direction strongly."""
    torch.manual_seed(0)
    model = build_model("sae", (width,), sae="relu-l1", latent_dim=n).eval()
    direction = torch.zeros(width)
    direction[[1, 4]] = torch.tensor([0.6, -0.8])
    with torch.no_grad():
        model.W_enc.copy_(torch.randn(n, width) * 0.05)
        model.W_enc[latent] = direction
        model.W_dec[latent] = direction * 3.0  # normalised in directions()
        model.b_enc.zero_()
        model.b_dec.zero_()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(300, width, generator=g) * 0.3
    planted = torch.tensor([5, 40, 41, 99, 150, 151, 230, 299])
    strength = torch.linspace(4.0, 2.0, len(planted))[:, None]
    x[planted] += strength * direction
    return model, x, planted, direction


@pytest.mark.parametrize("batch_size", [1, 7, 64, 1000])
def test_a_planted_latent_finds_its_planted_inputs_in_any_batching(batch_size):
    model, x, planted, direction = planted_sae()
    f = latent_features(model.encode, x, per_latent=8, batch_size=batch_size)
    rows, values = f.tops(3)
    assert sorted(rows.tolist()) == planted.tolist()  # the planted, and only they
    assert (np.diff(values) <= 0).all()  # strongest first
    with torch.no_grad():
        codes = model.encode(x)  # the whole code matrix, as a check only
    want = codes.t().topk(8, dim=1)
    assert rows.tolist() == want.indices[3].tolist()
    np.testing.assert_allclose(f.top_values, want.values.clamp_min(0), rtol=1e-6)
    active = (codes > 0).double()
    np.testing.assert_allclose(f.frequency, active.mean(0).numpy())
    mean = (codes * active).sum(0) / active.sum(0).clamp_min(1)
    np.testing.assert_allclose(f.mean_activation, mean.numpy(), rtol=1e-5)
    d = decoder_directions(model, [3])[0]
    assert torch.allclose(d, direction, atol=1e-6)  # the unit direction
    assert top_weighted(d, [f"c{j}" for j in range(10)], n=2) == [
        ("c4", pytest.approx(-0.8)),
        ("c1", pytest.approx(0.6)),
    ]


def test_leading_latents_order_and_refusals():
    model, x, _, _ = planted_sae()
    f = latent_features(model.encode, x, per_latent=4)
    lead = f.leading(3)
    freq = f.frequency[lead]
    assert (np.diff(freq) <= 0).all() and freq[-1] >= np.sort(f.frequency)[-3]
    assert f.leading(2, extra=[11, lead[0]])[-1] == 11  # asked for, once
    with pytest.raises(AekitError, match="no latent 12"):
        f.leading(2, extra=[12])
    with pytest.raises(AekitError, match="non-finite"):
        latent_features(lambda b: b * float("nan"), torch.ones(4, 3))
    silent = latent_features(lambda b: torch.zeros(len(b), 5), torch.ones(6, 2))
    assert silent.leading() == [] and (silent.top_index == -1).all()


def test_steering_moves_the_output_along_the_direction():
    model, x, _, direction = planted_sae()
    with torch.no_grad():
        code = model.encode(x[:1])[0]
    base = steer(model, code, 3, 0.0)
    moved = steer(model, code, 3, 2.5)
    assert torch.allclose(moved - base, 2.5 * direction, atol=1e-5)
    with pytest.raises(AekitError, match="finite"):
        steer(model, code, 3, float("inf"))
    img = direction_image(np.array([[[-2.0, 0.0, 1.0]]]))
    np.testing.assert_allclose(img, [[[0.0, 0.5, 0.75]]])


def test_l0_fvu_streamed_equals_the_whole_batch():
    model, x, _, _ = planted_sae()
    with torch.no_grad():
        codes = model.encode(x)
        x_hat = model.decode(codes)
    from aekit.analysis.sae_metrics import fvu

    point = l0_fvu(model, x, batch_size=13)
    assert point["l0"] == pytest.approx(float((codes > 0).sum(1).float().mean()))
    assert point["fvu"] == pytest.approx(fvu(x, x_hat), rel=1e-9)


# -- the report ------------------------------------------------------------------
def figure_ids(path) -> list[str]:
    return re.findall(r'<figure id="([^"]+)"', path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    x, _ = superposition(400, n_features=24, dim=6, density=0.1, seed=2)
    path = tmp_path_factory.mktemp("data") / "acts.csv"
    header = ",".join(f"col{j}" for j in range(6))
    np.savetxt(path, x, delimiter=",", header=header, comments="", fmt="%.5f")
    return path


def train_table(table, out, family="topk", **kw):
    return aekit.train(
        str(table), "sae", out=out, sae=family, latent_dim=24, epochs=2, **kw
    )


def test_the_report_of_an_image_sae_run_shows_densities_and_top_inputs(tmp_path):
    rng = np.random.default_rng(0)
    x = (rng.random((120, 8, 8)) < 0.2).astype(np.uint8) * 255
    np.savez(tmp_path / "dots.npz", x=x)
    run = aekit.train(
        str(tmp_path / "dots.npz"), "sae", out=tmp_path / "run", sae="topk", k=3,
        latent_dim=32, epochs=2, output="identity", pictures=False,
    )  # fmt: skip
    ids = figure_ids(run.path / "report.html")
    assert "sae_density" in ids and "sae_top_inputs" in ids
    assert "sae_l0_fvu" not in ids  # one run: the page says how to compare
    assert "aekit report RUN --compare" in (run.path / "report.html").read_text()


def test_the_report_of_a_table_run_lists_top_rows_by_column(table, tmp_path):
    run = train_table(table, tmp_path / "run", k=2, pictures=False)
    text = (run.path / "report.html").read_text()
    assert "sae_density" in figure_ids(run.path / "report.html")
    tables = re.findall(r'<table class="sae-latent" id="sae-latent-(\d+)">', text)
    assert 1 <= len(tables) <= 16
    assert "<th>col" in text and "<th>activation</th>" in text


def test_report_compare_draws_the_l0_fvu_curve_and_refuses_other_runs(
    table, tmp_path, capsys
):
    a = train_table(table, tmp_path / "topk2", k=2, report=False, pictures=False)
    b = train_table(table, tmp_path / "topk6", k=6, report=False, pictures=False)
    c = train_table(table, tmp_path / "l1", family="relu-l1", report=False,
                    pictures=False)  # fmt: skip
    out = tmp_path / "cmp.html"
    args = ["report", str(a.path), "--compare", str(b.path), str(c.path)]
    assert main([*args, "--latents", "0,23", "--out", str(out)]) == 0
    text = out.read_text()
    assert "sae_l0_fvu" in figure_ids(out)
    assert 'id="sae-latent-23"' in text and 'id="sae-latent-0"' in text
    points = re.findall(r"<tr><td>(\w+)</td><td>([\w -]+=[\d.e-]+)</td>", text)
    assert [p[0] for p in points] == ["topk2", "topk6", "l1"]
    l0 = [float(v) for v in re.findall(r"</td><td>24</td><td>([\d.e+-]+)</td>", text)]
    assert l0[0] <= 2 and l0[1] <= 6 and l0[0] < l0[1]
    mlp = aekit.train(str(table), "mlp", out=tmp_path / "mlp", latent_dim=2,
                      hidden=(8,), epochs=1, report=False, pictures=False)  # fmt: skip
    capsys.readouterr()
    bad = tmp_path / "bad.html"
    for argv in (
        ["report", str(a.path), "--compare", str(mlp.path), "--out", str(bad)],
        ["report", str(mlp.path), "--compare", str(a.path), "--out", str(bad)],
        ["report", str(mlp.path), "--latents", "1", "--out", str(bad)],
        ["report", str(a.path), "--latents", "24", "--out", str(bad)],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert "not a sparse autoencoder" in err or "no latent 24" in err
        assert not bad.exists()


def test_the_report_of_a_series_sae_run_plots_top_windows(tmp_path):
    t = np.arange(400)
    v = np.sin(t / 5) + 0.05 * np.random.default_rng(0).standard_normal(400)
    rows = "\n".join(f"{i},{x:.4f}" for i, x in zip(t, v, strict=True))
    (tmp_path / "s.csv").write_text("time,value\n" + rows + "\n")
    run = aekit.train(
        str(tmp_path / "s.csv"), "sae", out=tmp_path / "run", window=12, sae="topk",
        k=2, latent_dim=16, epochs=1, pictures=False,
    )  # fmt: skip
    assert run.sample_shape == (1, 12)
    ids = figure_ids(run.path / "report.html")
    assert "sae_density" in ids and "sae_top_inputs" in ids


def test_aekit_report_streams_a_streamed_runs_held_out_activations(tmp_path):
    x, _ = superposition(500, n_features=16, dim=6, density=0.1, seed=4)
    np.save(tmp_path / "acts.npy", x)
    out = tmp_path / "run"
    args = ["train", "--data", str(tmp_path / "acts.npy"), "--model", "sae", "--k", "2"]
    args += ["--latent-dim", "16", "--epochs", "1", "--stream", "--out", str(out)]
    assert main([*args, "--no-report", "--no-pictures", "--quiet"]) == 0
    assert main(["report", str(out), "--compare", str(out)]) == 0
    text = (out / "report.html").read_text()
    assert "sae_density" in figure_ids(out / "report.html")
    assert "sae_l0_fvu" in figure_ids(out / "report.html")
    assert 'class="sae-latent"' in text and "reconstructions" in text
