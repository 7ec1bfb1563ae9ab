"""The explorer's API through a test client: answers, and refusals of bad requests."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import aekit
from aekit.interfaces.cli import main

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
with warnings.catch_warnings():  # starlette's TestClient frowns on httpx 0.x
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from aekit.interfaces.explore import load_explorer  # noqa: E402
from aekit.interfaces.explore.server import bind, create_app, server  # noqa: E402

BASE = "http://127.0.0.1:8000"


def _images(n: int = 60, size: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Bright squares on black, their size the label: a tiny stand-in for digits."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n)
    x = np.zeros((n, size, size), np.uint8)
    for i, label in enumerate(y):
        top, left = rng.integers(0, 3, 2)
        x[i, top : top + 3 + label, left : left + 3 + label] = 255
    return x, y


@pytest.fixture(scope="module")
def image_run(tmp_path_factory) -> Path:
    x, y = _images()
    path = tmp_path_factory.mktemp("data") / "squares.npz"
    np.savez(path, x=x, y=y)
    out = tmp_path_factory.mktemp("runs") / "mlp3"
    aekit.train(
        str(path), "mlp", out=out, latent_dim=3, hidden=(16,), epochs=2, pictures=False
    )
    return out


@pytest.fixture(scope="module")
def client(image_run) -> TestClient:
    return TestClient(create_app(load_explorer(image_run)), base_url=BASE)


@pytest.fixture(scope="module")
def vector_run(tmp_path_factory) -> Path:
    rng = np.random.default_rng(1)
    rows = [
        ",".join(f"{v:.4f}" for v in rng.normal(5, 2, 4)) + f",{i % 2}"
        for i in range(40)
    ]
    path = tmp_path_factory.mktemp("data") / "table.csv"
    path.write_text("a,b,c,d,label\n" + "\n".join(rows) + "\n")
    out = tmp_path_factory.mktemp("runs") / "vec"
    aekit.train(
        str(path), "mlp", out=out, latent_dim=2, hidden=(8,), epochs=1, pictures=False
    )
    return out


def _png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def _pixels(data_url: str) -> np.ndarray:
    assert data_url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",")[1]))))


def test_info_and_points_describe_the_plane(client, image_run):
    info = client.get("/api/info").json()
    assert info["latent_dim"] == 3 and info["kind"] == "image"
    assert "PCA plane of the 3-D codes" in info["plane"]["description"]
    assert info["plane"]["axes"][0].startswith("PC1")
    assert len(info["slider_range"]) == 3
    scatter = client.get("/api/points").json()
    assert len(scatter["points"]) == info["n_points"] == 60
    assert sorted(set(scatter["labels"])) == [0, 1, 2]
    u0, u1, v0, v1 = info["plane"]["extent"]
    pts = np.array(scatter["points"])
    assert (pts[:, 0] > u0).all() and (pts[:, 0] < u1).all()
    assert (pts[:, 1] > v0).all() and (pts[:, 1] < v1).all()


def test_decoding_a_plane_point_is_decoding_its_code(client, image_run):
    r = client.post("/api/decode", json={"point": [0.3, -0.2]})
    assert r.status_code == 200
    body = r.json()
    back = client.post("/api/decode", json={"code": body["code"]}).json()
    assert back["point"] == pytest.approx([0.3, -0.2], abs=1e-3)
    run = aekit.load_run(image_run)
    with torch.no_grad():
        want = run.model.decode(torch.tensor([body["code"]]))[0, 0].numpy()
    got = _pixels(body["image"]).astype(float) / 255
    assert got.shape == (8, 8)
    np.testing.assert_allclose(got, want, atol=1 / 255 + 1e-3)


def test_item_and_interpolation(client):
    a, b = client.post("/api/item", json={"index": 0}).json(), None
    assert _pixels(a["input"]).shape == _pixels(a["image"]).shape == (8, 8)
    assert a["label"] in {"0", "1", "2"} and len(a["code"]) == 3
    b = client.post("/api/item", json={"index": 5}).json()
    strip = client.post("/api/interpolate", json={"a": 0, "b": 5, "steps": 4}).json()
    assert len(strip["frames"]) == len(strip["points"]) == 4
    # the ends of the strip are the two codes decoded
    first = client.post("/api/decode", json={"code": a["code"]}).json()
    assert strip["frames"][0]["image"] == first["image"]
    assert strip["points"][-1] == pytest.approx(b["point"], abs=1e-3)


def test_encode_an_upload_raw_or_as_a_form(client):
    x, _ = _images(1, 16)
    raw = client.post(
        "/api/encode?invert=no",
        content=_png(x[0]),
        headers={"content-type": "image/png"},
    )
    form = client.post(
        "/api/encode?invert=no", files={"file": ("a.png", _png(x[0]), "image/png")}
    )
    assert raw.status_code == form.status_code == 200
    assert raw.json()["code"] == form.json()["code"]
    assert _pixels(raw.json()["input"]).shape == (8, 8)  # resized to the run's size
    # dark on light, as on paper, is inverted to match the light-on-dark data
    paper = client.post(
        "/api/encode", content=_png(255 - x[0]), headers={"content-type": "image/png"}
    ).json()
    assert paper["inverted"] is True
    assert paper["code"] == pytest.approx(raw.json()["code"], abs=1e-4)


def _error(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"point": [0, 1, 2]}, "at most 2"),
        ({"point": ["1", 2]}, "valid number"),
        ({"code": [0.0, 1.0]}, "expected 3"),
        ({"code": [0.0] * 5000}, "at most 4096"),
        ({"point": [1e9, 0]}, "less than or equal"),
        ({}, "exactly one"),
        ({"point": [0, 0], "code": [0, 0, 0]}, "exactly one"),
        ({"point": [0, 0], "evil": 1}, "Extra inputs"),
        ([1, 2], "should be an object"),
    ],
)
def test_decode_refuses_bad_bodies(client, body, message):
    assert message in _error(client.post("/api/decode", json=body), 422)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"point": [NaN, 1]}',
        b'{"point": [Infinity, 1]}',
        b'{"point": [1e999, 1]}',
        b'{"point": [1,',
        b"\xff\xfe",
        b"",
    ],
)
def test_decode_refuses_malformed_or_non_finite_json(client, raw):
    response = client.post(
        "/api/decode", content=raw, headers={"content-type": "application/json"}
    )
    assert _error(response, 422).startswith("invalid request")


def test_requests_are_checked_for_type_size_and_range(client):
    assert "application/json" in _error(
        client.post(
            "/api/decode", content=b"point=1,2", headers={"content-type": "text/plain"}
        ),
        415,
    )
    assert "no data point 60" in _error(
        client.post("/api/item", json={"index": 60}), 422
    )
    assert "greater than or equal" in _error(
        client.post("/api/item", json={"index": -1}), 422
    )
    assert "valid integer" in _error(
        client.post("/api/item", json={"index": True}), 422
    )
    too_many = {"a": 0, "b": 1, "steps": 1000}
    assert "less than or equal to 32" in _error(
        client.post("/api/interpolate", json=too_many), 422
    )
    huge = client.post(
        "/api/encode",
        content=b"\x00" * (5 * 2**20),
        headers={"content-type": "image/png"},
    )
    assert "larger than" in _error(huge, 413)
    assert "not a readable image" in _error(
        client.post(
            "/api/encode",
            content=b"GIF89a-broken",
            headers={"content-type": "image/gif"},
        ),
        422,
    )
    bomb = _png(np.zeros((5000, 5000), np.uint8))  # 5 KB of PNG, 25 Mpixels
    assert "at most 4096x4096" in _error(
        client.post("/api/encode", content=bomb, headers={"content-type": "image/png"}),
        422,
    )
    assert "invert" in _error(
        client.post(
            "/api/encode?invert=maybe",
            content=b"x",
            headers={"content-type": "image/png"},
        ),
        422,
    )


@pytest.mark.parametrize(
    "path",
    [
        "/static/../server.py",
        "/static/..%2fserver.py",
        "/static/%2e%2e/state.py",
        "/static//etc/passwd",
        "/static/",
        "/static/index.html%00.js",
        "/../../etc/passwd",
        "/static/app.js/..",
        "/etc/passwd",
        "/static/__init__.py",
    ],
)
def test_never_serves_files_outside_static(client, path):
    response = client.get(path)
    assert response.status_code in (404, 405)
    assert response.json()["error"]
    assert b"import" not in response.content and b"root:" not in response.content


def test_serves_the_page_with_strict_headers(client):
    page = client.get("/")
    assert page.status_code == 200 and "aekit explorer" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    for name, kind in [("app.js", "javascript"), ("style.css", "css")]:
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
    assert "Method Not Allowed" in _error(client.get("/api/decode"), 405)


def test_only_answers_to_its_own_host_name(image_run, client):
    rebound = client.get("/api/info", headers={"host": "attacker.example:8000"})
    assert "Host header" in _error(rebound, 400)
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        assert client.get("/api/info", headers={"host": host}).status_code == 200


def test_vector_runs_show_values_and_encode_rows(vector_run):
    vec = TestClient(create_app(load_explorer(vector_run)), base_url=BASE)
    info = vec.get("/api/info").json()
    assert info["kind"] == "vector" and info["plane"]["axes"] == ["z1", "z2"]
    decoded = vec.post("/api/decode", json={"point": [0, 0]}).json()
    assert len(decoded["values"]) == len(decoded["source"]) == 4
    row = vec.post("/api/encode-values", json={"values": [5, 5, 5, 5]})
    assert row.status_code == 200 and len(row.json()["code"]) == 2
    assert "expected 4" in _error(
        vec.post("/api/encode-values", json={"values": [1]}), 422
    )
    assert "vectors" in _error(
        vec.post("/api/encode", content=b"x", headers={"content-type": "image/png"}),
        422,
    )


def test_cli_refuses_what_it_cannot_explore(tmp_path, capsys):
    assert main(["explore", str(tmp_path / "missing")]) == 2
    assert "no such run directory" in capsys.readouterr().err
    run = aekit.train(
        np.random.default_rng(0).random((20, 5)),
        "mlp",
        out=tmp_path / "r",
        latent_dim=2,
        hidden=(4,),
        epochs=1,
        pictures=False,
    )
    assert main(["explore", str(run.path)]) == 2
    assert "in-memory data; name the data with --data" in capsys.readouterr().err


def test_one_dimensional_codes_are_spread_by_a_jitter(tmp_path):
    x, y = _images(30)
    run = aekit.train(
        x,
        "mlp",
        out=tmp_path / "r",
        latent_dim=1,
        hidden=(8,),
        epochs=1,
        pictures=False,
    )
    explorer = load_explorer(run.path, x)
    app = TestClient(create_app(explorer), base_url=BASE)
    assert "jitter" in app.get("/api/info").json()["plane"]["description"]
    points = np.array(app.get("/api/points").json()["points"])
    assert np.ptp(points[:, 1]) > 0  # spread out, not on one line
    a = app.post("/api/decode", json={"point": [0.5, -1.0]}).json()
    b = app.post("/api/decode", json={"point": [0.5, 2.0]}).json()
    assert a["code"] == b["code"] == [0.5] and a["image"] == b["image"]


def test_real_server_on_loopback(image_run, monkeypatch):
    """uvicorn on a free port: a decode over real sockets, a body that trickles in
    too slowly, then a clean shutdown."""
    httpx = pytest.importorskip("httpx")
    from aekit.interfaces.explore import guard

    monkeypatch.setattr(guard, "BODY_SECONDS", 0.5)
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    srv = server(create_app(load_explorer(image_run)), sock)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for _ in range(100):  # started when it answers
                try:
                    http.get("/api/info")
                    break
                except httpx.TransportError:
                    threading.Event().wait(0.05)
            decoded = http.post("/api/decode", json={"point": [0, 0]})
            assert decoded.status_code == 200 and "image" in decoded.json()
            bad = http.post(
                "/api/decode",
                content=b"{",
                headers={"content-type": "application/json"},
            )
            assert bad.status_code == 422 and json.loads(bad.text)["error"]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
            slow.sendall(
                b"POST /api/decode HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
            )
            answer = b""
            while b"}" not in answer and (chunk := slow.recv(4096)):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 408") and b'"error"' in answer
    finally:
        srv.should_exit = True
        thread.join(10)
        sock.close()
    assert not thread.is_alive()


def test_requests_run_on_one_thread_each(image_run):
    """torch's thread count is per OS thread: the server's worker threads must set
    their own, or every one-sample request waits on idle OpenMP workers."""
    explorer = load_explorer(image_run)
    seen = {}

    def probe(x: torch.Tensor) -> torch.Tensor:
        seen["threads"] = torch.get_num_threads()
        return x

    worker = threading.Thread(target=explorer._call, args=(probe, torch.zeros(1, 1)))
    worker.start()
    worker.join()
    assert seen["threads"] == 1
