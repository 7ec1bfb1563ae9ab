"""Latent-space operations and attribute vectors: paths, grids, samplers, projections,
and the attribute arithmetic against hand-computed values on a tiny trained run."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

import aekit
from aekit.analysis import latent
from aekit.analysis.attributes import (
    add_vector,
    attribute_vector,
    edit,
    latent_arithmetic,
    read_attribute_table,
)
from aekit.data import load_dataset
from aekit.errors import AekitError

TINY = {"epochs": 1, "batch_size": 64, "pictures": False, "report": False}


@pytest.fixture(scope="module")
def ae_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "mlp"
    return aekit.train("digits", "mlp", latent_dim=3, hidden=(32,), out=out, **TINY)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def pixels(digits):
    """The digits in the source's units (0..16), as a user passes them in."""
    return digits.scaling.to_source(digits.x)


# -- paths ------------------------------------------------------------------------
def test_lerp_is_evenly_spaced_with_exact_ends():
    z0, z1 = torch.tensor([0.0, 2.0]), torch.tensor([4.0, -2.0])
    path = latent.lerp(z0, z1, 5)
    assert torch.equal(path[0], z0) and torch.equal(path[-1], z1)
    steps = path[1:] - path[:-1]
    assert torch.allclose(steps, steps[0].expand_as(steps))


def test_slerp_keeps_the_norm_and_the_angular_speed():
    z0, z1 = torch.tensor([3.0, 0.0, 0.0]), torch.tensor([0.0, 3.0, 0.0])
    path = latent.slerp(z0, z1, 7).double()
    assert torch.allclose(path[0], z0.double()) and torch.allclose(
        path[-1], z1.double()
    )
    assert torch.allclose(path.norm(dim=1), torch.full((7,), 3.0, dtype=torch.float64))
    unit = path / path.norm(dim=1, keepdim=True)
    angles = torch.arccos((unit[1:] * unit[:-1]).sum(1).clamp(-1, 1))
    assert torch.allclose(
        angles, torch.full((6,), math.pi / 2 / 6, dtype=torch.float64)
    )


def test_slerp_about_a_center_and_for_parallel_codes():
    c = torch.tensor([10.0, 10.0])
    path = latent.slerp(
        c + torch.tensor([1.0, 0.0]), c + torch.tensor([0.0, 1.0]), 5, c
    )
    assert torch.allclose((path - c).norm(dim=1), torch.ones(5), atol=1e-6)
    z = torch.tensor([1.0, 1.0])
    assert torch.allclose(latent.slerp(z, 2 * z, 3), latent.lerp(z, 2 * z, 3))


def test_traversal_changes_one_dimension_per_row():
    base = torch.tensor([0.5, -1.0, 2.0, 0.0])
    values = torch.tensor([[-1.0, 0.0, 1.0], [5.0, 6.0, 7.0]])
    rows = latent.traversal_codes(base, [1, 3], values)
    assert rows.shape == (2, 3, 4)
    for r, k in enumerate([1, 3]):
        others = [j for j in range(4) if j != k]
        assert torch.equal(rows[r][:, others], base[others].expand(3, 3))
        assert torch.equal(rows[r][:, k], values[r])


def test_traversal_values_prior_and_codes():
    codes = torch.tensor([[0.0, 10.0], [2.0, 14.0]])
    vae = latent.traversal_values(codes, [0, 1], 3, variational=True)
    assert torch.equal(vae, torch.tensor([[-3.0, 0.0, 3.0]] * 2))
    ae = latent.traversal_values(codes, [1], 3, variational=False)
    std = codes[:, 1].std()
    assert torch.allclose(
        ae[0], torch.stack([12 - 3 * std, torch.tensor(12.0), 12 + 3 * std])
    )


# -- grids ---------------------------------------------------------------------------
def test_vae_plane_follows_the_prior_inverse_cdf():
    codes = torch.randn(50, 2)
    plane = latent.code_plane(codes, 4, variational=True)
    q = torch.distributions.Normal(0, 1).icdf(torch.linspace(0.05, 0.95, 4)).numpy()
    assert plane.codes.shape == (16, 2)
    assert np.allclose(plane.u, q) and np.allclose(plane.v, q)
    grid = plane.codes.reshape(4, 4, 2)  # rows top to bottom: v descending
    assert np.allclose(grid[0, :, 0], q, atol=1e-6)
    assert np.allclose(grid[:, 0, 1], q[::-1], atol=1e-6)


def test_ae_plane_spans_the_codes_and_fixes_the_other_dims():
    codes = torch.randn(200, 3, generator=torch.Generator().manual_seed(0)) * 4 + 1
    plane = latent.code_plane(codes, 5, variational=False, dims=(2, 0))
    lo, hi = np.percentile(codes[:, 2].numpy(), [1, 99])
    assert np.isclose(plane.u[0], lo) and np.isclose(plane.u[-1], hi)
    assert torch.allclose(plane.codes[:, 1], codes[:, 1].mean().expand(25), atol=1e-5)
    assert plane.xlabel == "z2" and plane.ylabel == "z0"


def test_pca_plane_lies_in_the_two_leading_directions():
    g = torch.Generator().manual_seed(1)
    codes = torch.randn(300, 5, generator=g) * torch.tensor([5.0, 3.0, 0.1, 0.1, 0.1])
    plane = latent.code_plane(codes, 6, variational=False)
    centred = plane.codes.double() - codes.double().mean(0)
    _, s, _ = torch.linalg.svd(centred)
    assert s[2] < 1e-4 * s[0]  # rank two
    assert centred[:, 2:].abs().max() < 0.05 * centred[:, :2].abs().max()


def test_bad_planes():
    with pytest.raises(AekitError, match="2 or more"):
        latent.code_plane(torch.randn(10, 1), 4, variational=False)
    with pytest.raises(AekitError, match="out of range"):
        latent.code_plane(torch.randn(10, 3), 4, variational=False, dims=(0, 3))


# -- samplers and projections ---------------------------------------------------------
def test_gaussian_and_mixture_samplers_are_seeded_and_fit_the_codes():
    g = torch.Generator().manual_seed(0)
    codes = torch.cat([torch.randn(300, 2, generator=g) * 0.1 + c for c in (-3.0, 3.0)])
    mean, cov = latent.fit_gaussian(codes)
    draws = latent.sample_gaussian(mean, cov, 4000, seed=3)
    assert torch.equal(draws, latent.sample_gaussian(mean, cov, 4000, seed=3))
    assert torch.allclose(draws.mean(0), mean, atol=0.2)
    mixture = latent.fit_gaussian_mixture(codes, 2, seed=0)
    z = latent.sample_mixture(mixture, 200)
    assert torch.equal(z, latent.sample_mixture(mixture, 200))
    assert (z.abs() > 2).all()  # near one cluster or the other, never in between


def test_projections():
    z = np.random.default_rng(0).normal(size=(60, 3))
    from sklearn.decomposition import PCA

    p = latent.project(z, "pca")
    assert p.method == "PCA" and "variance" in p.xlabel
    assert np.allclose(np.abs(p.points), np.abs(PCA(2).fit_transform(z)), atol=1e-8)
    assert latent.project(z[:, :2]).method == "code"
    t = latent.project(z[:30], "tsne", seed=0)
    assert t.points.shape == (30, 2) and t.method == "t-SNE"
    assert np.allclose(t.points, latent.project(z[:30], "tsne", seed=0).points)
    with pytest.raises(AekitError, match="projection"):
        latent.project(z, "isomap")


def test_umap_missing_says_how_to_install():
    pytest.importorskip("sklearn")
    try:
        import umap  # noqa: F401
    except ImportError:
        with pytest.raises(AekitError, match=r"aekit\[umap\]"):
            latent.project(np.zeros((20, 3)), "umap")
    else:
        assert latent.project(np.random.rand(20, 3), "umap").method == "UMAP"


# -- on a trained run ----------------------------------------------------------------
def test_interpolation_ends_are_the_reconstructions(ae_run, pixels):
    a, b = pixels[:3], pixels[10:13]  # inputs in the source's units (0..16)
    rec_a, rec_b = aekit.reconstruct(ae_run, a), aekit.reconstruct(ae_run, b)
    for method in ("linear", "spherical"):
        frames = aekit.interpolate(ae_run, a, b, steps=6, method=method)
        assert frames.shape == (3, 6, 8, 8)  # the source's layout
        assert np.allclose(frames[:, 0], rec_a, atol=1e-4)
        assert np.allclose(frames[:, -1], rec_b, atol=1e-4)


def test_traverse_sweeps_each_dimension(ae_run, pixels):
    out = aekit.traverse(ae_run, pixels[:1], dims=[0, 2], steps=5, codes_of=pixels)
    assert out.shape == (2, 5, 8, 8)
    assert not np.allclose(out[0, 0], out[0, -1])  # the sweep changes the picture


def test_attribute_vector_from_labels_is_the_mean_difference(ae_run, digits):
    v = attribute_vector(ae_run, "label=7", data="digits")
    z = ae_run.model.encode(digits.x).detach().double()
    seven = digits.y == 7
    expected = z[seven].mean(0) - z[~seven].mean(0)
    assert np.allclose(v, expected.numpy(), atol=1e-5)
    assert np.allclose(attribute_vector(ae_run, "label = 7"), v, atol=1e-5)  # own data


def test_edit_adds_the_vector_at_each_strength(ae_run, digits, pixels):
    v = attribute_vector(ae_run, "label=0", data="digits")
    out = edit(ae_run, pixels[:4], "label=0", strengths=[-1, 0, 2], data="digits")
    assert out.shape == (4, 3, 8, 8)
    assert np.allclose(out[:, 1], aekit.reconstruct(ae_run, pixels[:4]), atol=1e-4)
    z = ae_run.model.encode(digits.x[:4]).detach()
    by_hand = ae_run.model.decode(z + 2 * torch.from_numpy(v)).detach()
    assert np.allclose(out[:, 2], digits.scaling.to_source(by_hand), atol=1e-4)
    shifted = add_vector(np.zeros((2, 3)), [1, 2, 3], [0, 1])
    assert shifted.tolist() == [[[0, 0, 0], [1, 2, 3]]] * 2


def test_latent_arithmetic(ae_run, digits, pixels):
    out = latent_arithmetic(ae_run, pixels[:2], pixels[2:5], pixels[5:9])
    enc, x = ae_run.model.encode, digits.x
    z = enc(x[:2]) - enc(x[2:5]).mean(0) + enc(x[5:9]).mean(0)
    assert np.allclose(out, digits.scaling.to_source(ae_run.model.decode(z)), atol=1e-4)


def test_celeba_attribute_file_matched_by_file_name(ae_run, digits, tmp_path):
    folder = tmp_path / "faces"
    folder.mkdir()
    names = [f"{i:06d}.png" for i in range(1, 7)]
    for name, image in zip(names, digits.x[:6], strict=True):
        Image.fromarray((image[0].numpy() * 255).round().astype(np.uint8)).save(
            folder / name
        )
    smiling = [1, -1, 1, -1, -1, 1]
    lines = ["6", "Smiling Male"] + [
        f"{name}  {s:2d} {-s:2d}"
        for name, s in reversed(list(zip(names, smiling, strict=True)))
    ]  # rows in another order than the files: matched by name
    attrs = tmp_path / "list_attr_celeba.txt"
    attrs.write_text("\n".join(lines) + "\n")
    table = read_attribute_table(attrs)
    assert table.names == ("Smiling", "Male") and table.files[0] == "000006.png"
    v = attribute_vector(ae_run, "Smiling", data=str(folder), attributes=attrs)
    z = (
        ae_run.model.encode(aekit.interfaces.api.load_inputs(ae_run, str(folder)).x)
        .detach()
        .double()
    )
    has = torch.tensor(smiling) > 0
    assert np.allclose(v, (z[has].mean(0) - z[~has].mean(0)).numpy(), atol=1e-5)


def test_csv_attributes_matched_by_order(ae_run, digits, pixels, tmp_path):
    data = tmp_path / "d.npy"
    np.save(data, pixels[:5])
    attrs = tmp_path / "a.csv"
    attrs.write_text("round,tall\n1,0\n0,1\ntrue,no\nfalse,yes\n0,0\n")
    v = attribute_vector(ae_run, "ROUND", data=str(data), attributes=attrs)
    z = ae_run.model.encode(digits.x[:5]).detach().double()
    has = torch.tensor([True, False, True, False, False])
    assert np.allclose(v, (z[has].mean(0) - z[~has].mean(0)).numpy(), atol=1e-4)
    with pytest.raises(AekitError, match="4 rows but the data has 5"):
        attrs.write_text("round\n1\n0\n1\n0\n")
        attribute_vector(ae_run, "round", data=str(data), attributes=attrs)


@pytest.mark.parametrize(
    "text, match",
    [
        ("3\nA B\nx.png 1 -1\n", "says 3 rows, found 1"),
        ("a,b\n1,2\n", "not a binary attribute value"),
        ("a,b\n1,0,1,1\n", "4 values for 2 attributes"),
        ("a\n", "needs a header and rows"),
    ],
)
def test_bad_attribute_files(tmp_path, text, match):
    path = tmp_path / "attrs.csv"
    path.write_text(text)
    with pytest.raises(AekitError, match=match):
        read_attribute_table(path)


def test_attribute_errors(ae_run, pixels):
    with pytest.raises(AekitError, match="needs a table"):
        attribute_vector(ae_run, "Smiling", data="digits")
    with pytest.raises(AekitError, match="no example has the attribute"):
        attribute_vector(ae_run, "label=11", data="digits")
    with pytest.raises(AekitError, match="no labels"):
        attribute_vector(ae_run, "label=1", data=pixels[:9])
