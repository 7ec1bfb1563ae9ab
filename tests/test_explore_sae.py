"""The explorer on a sparse autoencoder: latents by frequency, a latent's top inputs
and decoder direction, steering an input along a latent; and the refusals."""

from __future__ import annotations

import base64
import io
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

import aekit
from aekit.analysis.sae_features import direction_image
from aekit.data.superposition import superposition

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from aekit.interfaces.explore import load_explorer  # noqa: E402
from aekit.interfaces.explore.server import create_app  # noqa: E402

torch.set_num_threads(1)
BASE = "http://127.0.0.1:8000"


def _pixels(data_url: str) -> np.ndarray:
    raw = base64.b64decode(data_url.split(",")[1])
    return np.asarray(Image.open(io.BytesIO(raw))).astype(float) / 255


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = (rng.random((80, 6, 6)) < 0.25).astype(np.uint8) * 255
    path = tmp_path_factory.mktemp("data") / "dots.npz"
    np.savez(path, x=x)
    out = tmp_path_factory.mktemp("runs") / "sae-img"
    return aekit.train(
        str(path), "sae", out=out, sae="topk", k=3, latent_dim=24, epochs=2,
        output="identity", pictures=False, report=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def vector_run(tmp_path_factory):
    x, _ = superposition(300, n_features=16, dim=5, density=0.1, seed=3)
    path = tmp_path_factory.mktemp("data") / "acts.npy"
    np.save(path, x)
    out = tmp_path_factory.mktemp("runs") / "sae-vec"
    return aekit.train(
        str(path), "sae", out=out, sae="relu-l1", latent_dim=20, epochs=2,
        pictures=False, report=False,
    )  # fmt: skip


def client_of(run) -> tuple[TestClient, object]:
    explorer = load_explorer(run.path)
    return TestClient(create_app(explorer), base_url=BASE), explorer


def test_latents_come_sorted_by_frequency_and_show_top_inputs(image_run):
    client, explorer = client_of(image_run)
    assert client.get("/api/info").json()["sae"] is True
    listing = client.get("/api/latents").json()
    latents = listing["latents"]
    assert len(latents) == 24 and listing["n_inputs"] == len(explorer.data)
    freq = [entry["frequency"] for entry in latents]
    assert freq == sorted(freq, reverse=True)
    with torch.no_grad():
        codes = explorer.model.encode(explorer.data.x)
    want = (codes > 0).double().mean(0)
    for entry in latents:
        assert entry["frequency"] == pytest.approx(float(want[entry["latent"]]), 1e-4)
    first = latents[0]["latent"]
    r = client.post("/api/latent", json={"latent": first}).json()
    acts = [t["activation"] for t in r["top"]]
    assert acts == sorted(acts, reverse=True) and len(acts) >= 1
    best = codes[:, first].topk(len(acts))
    assert [t["index"] for t in r["top"]] == best.indices.tolist()
    assert _pixels(r["top"][0]["image"]).shape == (6, 6)
    np.testing.assert_allclose(
        _pixels(r["top"][0]["image"]), explorer.data.x[best.indices[0], 0], atol=1e-2
    )
    d = explorer.model.directions()[first].detach().reshape(1, 6, 6).numpy()
    np.testing.assert_allclose(
        _pixels(r["direction"]["image"]), direction_image(d)[0], atol=1e-2
    )
    assert r["range"][1] == pytest.approx(2 * acts[0], rel=1e-3)


def test_steering_sets_the_latent_and_decodes(vector_run):
    client, explorer = client_of(vector_run)
    latents = client.get("/api/latents").json()["latents"]
    latent = latents[0]["latent"]
    own = client.post("/api/steer", json={"index": 4, "latent": latent}).json()
    assert own["activation"] == pytest.approx(explorer.codes[4, latent], abs=1e-5)
    assert own["value"] == pytest.approx(own["activation"])
    zero = client.post("/api/steer", json={"index": 4, "latent": latent, "value": 0.0})
    more = client.post("/api/steer", json={"index": 4, "latent": latent, "value": 1.5})
    diff = np.array(more.json()["values"]) - np.array(zero.json()["values"])
    direction = explorer.model.directions()[latent].detach().numpy()
    scale = float(explorer.model.input_scale)  # the SAE's units back to the data's
    np.testing.assert_allclose(diff, 1.5 * direction / scale, atol=1e-3)
    detail = client.post("/api/latent", json={"latent": latent}).json()
    assert len(detail["direction"]["columns"]) == 5
    weights = [abs(w) for _, w in detail["direction"]["columns"]]
    assert weights == sorted(weights, reverse=True)


def test_bad_feature_requests_get_one_line(vector_run, image_run, tmp_path):
    client, _ = client_of(vector_run)
    for path, body, words in [
        ("/api/latent", {"latent": 20}, "no latent 20"),
        ("/api/latent", {"latent": -1}, "latent"),
        ("/api/latent", {"latent": 1, "extra": 2}, "extra"),
        ("/api/steer", {"index": 10_000, "latent": 0}, "no data point"),
        ("/api/steer", {"index": 0, "latent": 99, "value": 1.0}, "no latent 99"),
        ("/api/steer", {"index": 0, "latent": 0, "value": 1e9}, "value"),
    ]:
        r = client.post(path, json=body)
        assert r.status_code == 422, (path, body)
        assert words in r.json()["error"] and "\n" not in r.json()["error"]
    r = client.post(
        "/api/steer",
        content=b'{"index": 0, "latent": 0, "value": NaN}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    x, _ = superposition(60, n_features=8, dim=4, seed=0)
    np.save(tmp_path / "v.npy", x)
    mlp = aekit.train(str(tmp_path / "v.npy"), "mlp", out=tmp_path / "mlp",
                      latent_dim=2, hidden=(8,), epochs=1, pictures=False,
                      report=False)  # fmt: skip
    plain, _ = client_of(mlp)
    assert plain.get("/api/info").json()["sae"] is False
    r = plain.get("/api/latents")
    assert r.status_code == 422 and "not a sparse autoencoder" in r.json()["error"]
    r = plain.post("/api/steer", json={"index": 0, "latent": 0})
    assert r.status_code == 422
