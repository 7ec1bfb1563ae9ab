"""The explorer under load and abuse: the real server on loopback, bursts of
concurrent valid requests interleaved with bad ones, then a health check."""

from __future__ import annotations

import io
import json
import random
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

import aekit

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from aekit.interfaces.explore import Explorer, load_explorer  # noqa: E402
from aekit.interfaces.explore import server as server_module  # noqa: E402
from aekit.interfaces.explore.server import MAX_BUSY, MAX_JSON, bind, create_app, server  # noqa: E402
from aekit.interfaces.explore.uploads import MAX_BYTES, read_image  # noqa: E402

WORKERS = 8  # concurrent clients: below MAX_BUSY, so no valid request may get 503
JSON = {"content-type": "application/json"}
PNG = {"content-type": "image/png"}


@dataclass
class Live:
    """A running explorer: its port, the Explorer it serves and the FastAPI app."""

    port: int
    explorer: Explorer
    app: Any  # the FastAPI app inside the Guard (its state counts model calls)
    thread: threading.Thread


def _squares(n: int = 48, size: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Bright squares on black, their size the label."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, n)
    x = np.zeros((n, size, size), np.uint8)
    for i, label in enumerate(y):
        top, left = rng.integers(0, 3, 2)
        x[i, top : top + 3 + label, left : left + 3 + label] = 255
    return x, y


def _png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def _wait_until_up(port: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
        for _ in range(200):
            try:
                http.get("/api/info")
                return
            except httpx.TransportError:
                threading.Event().wait(0.05)
    raise AssertionError("the explorer did not start")


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[Live]:
    x, y = _squares()
    path = tmp_path_factory.mktemp("data") / "squares.npz"
    np.savez(path, x=x, y=y)
    out = tmp_path_factory.mktemp("runs") / "mlp3"
    aekit.train(
        str(path),
        "mlp",
        out=out,
        latent_dim=3,
        hidden=(16,),
        epochs=1,
        pictures=False,
        report=False,
    )
    explorer = load_explorer(out)
    guarded = create_app(explorer)
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    srv = server(guarded, sock)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_until_up(port)
        yield Live(port, explorer, guarded.app, thread)
    finally:
        srv.should_exit = True
        thread.join(10)
        sock.close()
    assert not thread.is_alive()


def _exchange(port: int, request: bytes) -> bytes:
    """Send bytes as they are, read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def _raw(port: int, target: str) -> tuple[int, dict, bytes]:
    """GET `target` byte for byte (no client-side normalisation of `..` or `%2f`):
    (status, headers, body)."""
    request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    head, _, body = _exchange(port, request.encode("latin-1")).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


# -- the requests: each returns (status, headers, body) ------------------------------
Send = Callable[[httpx.Client, int], tuple[int, Any, bytes]]


def _plain(r: httpx.Response) -> tuple[int, Any, bytes]:
    return r.status_code, r.headers, r.content


def _post(path: str, **kwargs: Any) -> Send:
    def send(http: httpx.Client, port: int) -> tuple[int, Any, bytes]:
        return _plain(http.post(path, **kwargs))

    return send


def _get(path: str, **kwargs: Any) -> Send:
    def send(http: httpx.Client, port: int) -> tuple[int, Any, bytes]:
        return _plain(http.get(path, **kwargs))

    return send


def _raw_get(target: str) -> Send:
    return lambda http, port: _raw(port, target)


def _chunked(n: int) -> Send:
    """An upload of n x 64 KiB with no Content-Length (chunked transfer)."""

    def send(http: httpx.Client, port: int) -> tuple[int, Any, bytes]:
        body = (b"\0" * 65536 for _ in range(n))
        return _plain(http.post("/api/encode", content=body, headers=PNG))

    return send


TRAVERSALS = [
    "/../../etc/passwd",
    "/static/..%2f..%2fpyproject.toml",
    "/static/..%2F..%2Fpyproject.toml",
    "/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/static/%2e%2e/%2e%2e/pyproject.toml",
    "/static/..%252f..%252fpyproject.toml",
    "/static/..%5c..%5cpyproject.toml",
    "/static/....//....//etc/passwd",
    "/static/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "//etc/passwd",
    "/static/index.html%00.js",
    "/static/../server.py",
    "/static/app.js/../../state.py",
]


def _bad_requests(bomb: bytes) -> list[tuple[str, Send, int, str]]:
    """(name, request, status, words the error must hold) for each kind of abuse."""
    raw_json = [
        ("truncated JSON", b'{"point": [1,', "invalid request"),
        ("not UTF-8", b"\xff\xfe\x00", "invalid request"),
        ("empty body", b"", "invalid request"),
        ("NaN", b'{"point": [NaN, 1]}', "invalid request"),
        ("Infinity", b'{"point": [0, -Infinity]}', "invalid request"),
        ("overflowing number", b'{"point": [1e999, 1]}', "invalid request"),
    ]
    bad = [
        (name, _post("/api/decode", content=body, headers=JSON), 422, words)
        for name, body, words in raw_json
    ]
    bad += [
        (name, _post(path, json=body), 422, words)
        for name, path, body, words in [
            ("far point", "/api/decode", {"point": [1e7, 0]}, "less than or equal"),
            ("short code", "/api/decode", {"code": [0.0, 1.0]}, "expected 3"),
            ("long code", "/api/decode", {"code": [0.0] * 5000}, "at most 4096"),
            ("string coord", "/api/decode", {"point": ["1", 2]}, "valid number"),
            ("unknown field", "/api/decode", {"point": [0, 0], "x": 1}, "Extra"),
            ("no point", "/api/decode", {}, "exactly one"),
            ("array body", "/api/decode", [0, 0], "should be an object"),
            ("index past end", "/api/item", {"index": 10**9}, "no data point"),
            ("negative index", "/api/item", {"index": -1}, "greater than"),
            ("bool index", "/api/item", {"index": True}, "valid integer"),
            ("long strip", "/api/interpolate", {"a": 0, "b": 1, "steps": 999}, "32"),
        ]
    ]
    bad += [
        (
            "form as JSON",
            _post(
                "/api/decode",
                content=b"point=1,2",
                headers={"content-type": "application/x-www-form-urlencoded"},
            ),
            415,
            "application/json",
        ),
        (
            "JSON as image",
            _post("/api/encode", json={"point": [0, 0]}),
            415,
            "send an image",
        ),
        (
            "JSON over MAX_JSON",
            _post(
                "/api/decode",
                content=b'{"point": [0, 0]}' + b" " * (MAX_JSON + 1),
                headers=JSON,
            ),
            413,
            "larger than",
        ),
        (
            "JSON over the body cap",
            _post("/api/decode", content=b" " * (2 * MAX_BYTES), headers=JSON),
            413,
            "larger than",
        ),
        (
            "upload just over MAX_BYTES",  # under the guard's cap: refused unread
            _post("/api/encode", content=b"\x89PNG" + b"\0" * MAX_BYTES, headers=PNG),
            413,
            "larger than",
        ),
        (
            "upload twice MAX_BYTES",
            _post("/api/encode", content=b"\0" * (2 * MAX_BYTES), headers=PNG),
            413,
            "larger than",
        ),
        (
            "chunked upload without length",
            _chunked(2 * MAX_BYTES // 65536),
            413,
            "larger than",
        ),
        (
            "text as PNG",
            _post("/api/encode", content=b"hello, not a picture", headers=PNG),
            422,
            "not a readable image",
        ),
        (
            "empty upload",
            _post("/api/encode", content=b"", headers=PNG),
            422,
            "empty",
        ),
        (
            "25-megapixel PNG",
            _post("/api/encode", content=bomb, headers=PNG),
            422,
            "at most 4096x4096",
        ),
        (
            "form without file",
            _post("/api/encode", files={"other": ("a.png", b"x", "image/png")}),
            422,
            "field 'file'",
        ),
        (
            "bad invert",
            _post("/api/encode?invert=maybe", content=b"x", headers=PNG),
            422,
            "invalid request",
        ),
        (
            "foreign Host",
            _get("/api/info", headers={"host": "attacker.example"}),
            400,
            "Host header",
        ),
        ("GET a POST route", _get("/api/decode"), 405, "Method Not Allowed"),
        ("unknown route", _get("/api/passwd"), 404, "Not Found"),
        ("unknown static", _get("/static/server.py"), 404, "no static file"),
    ]
    bad += [(f"traversal {t}", _raw_get(t), 404, "") for t in TRAVERSALS]
    return bad


def _check_refusal(status: int, headers: Any, body: bytes, want: int, words: str):
    assert status == want, body[:200]
    assert headers["content-type"].startswith("application/json")
    assert headers["x-content-type-options"] == "nosniff"  # guard headers on all
    error = json.loads(body)["error"]
    assert isinstance(error, str) and error and words in error
    for secret in (b"root:", b"[project]", b"import "):
        assert secret not in body


Check = Callable[[int, Any, bytes], None]


def _refused(status: int, words: str) -> Check:
    return lambda *answer: _check_refusal(*answer, status, words)


def _answers(payload: Any) -> Check:
    """200, and exactly what the Explorer computes in this process (as JSON)."""
    want = json.loads(json.dumps(payload))

    def check(status: int, headers: Any, body: bytes) -> None:
        assert status == 200, body[:200]  # not even a 503: the burst is in the cap
        assert json.loads(body) == want

    return check


def test_a_burst_of_valid_and_abusive_requests(live):
    """~250 requests from 8 clients at once: every valid one answers 200 with the
    payload the Explorer itself computes, every bad one a JSON 4xx that says why."""
    assert WORKERS < MAX_BUSY  # the burst stays within the documented cap
    explorer = live.explorer
    rng = np.random.default_rng(0)
    u0, u1, v0, v1 = explorer.info()["plane"]["extent"]
    points = [(float(u), float(v)) for u, v in rng.uniform((u0, v0), (u1, v1), (12, 2))]
    x, _ = _squares(4, 16)
    uploads = [_png(a) for a in x]
    encoded = []
    for data in uploads:
        arr, inverted = read_image(data, explorer.run.sample_shape, invert="no")
        out = explorer.encode_input(torch.from_numpy(arr))
        encoded.append({**out, "inverted": inverted})

    valid: list[tuple[str, Send, Check]] = []
    for k in range(100):
        p = points[k % len(points)]
        decoded = _answers(explorer.decode_point(p))
        valid.append((f"decode {p}", _post("/api/decode", json={"point": p}), decoded))
    for k in range(40):
        i = k % len(uploads)
        if k % 2:  # the raw body, or a form as the page's file input sends it
            send = _post("/api/encode?invert=no", content=uploads[i], headers=PNG)
        else:
            form = {"file": ("a.png", uploads[i], "image/png")}
            send = _post("/api/encode?invert=no", files=form)
        valid.append((f"encode {i}", send, _answers(encoded[i])))
    for k in range(12):
        item = _answers(explorer.item(k % 4))
        valid.append((f"item {k % 4}", _post("/api/item", json={"index": k % 4}), item))

    bomb = _png(np.zeros((5000, 5000), np.uint8))  # a few KB, 25 megapixels
    bad = [(n, send, _refused(st, w)) for n, send, st, w in _bad_requests(bomb)] * 2
    jobs = valid + bad
    random.Random(0).shuffle(jobs)

    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def client() -> httpx.Client:
        if not hasattr(local, "http"):
            local.http = httpx.Client(
                base_url=f"http://127.0.0.1:{live.port}", timeout=30
            )
            with lock:
                clients.append(local.http)
        return local.http

    def run(job: tuple[str, Send, Check]) -> tuple[str, Check, tuple]:
        name, send, check = job
        return name, check, send(client(), live.port)

    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            answers = list(pool.map(run, jobs))
    finally:
        for http in clients:
            http.close()

    assert len(answers) == len(valid) + len(bad) > 200
    for name, check, answer in answers:
        try:
            check(*answer)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from e

    # still healthy: it answers, no model call is left counted, the thread lives
    assert live.thread.is_alive()
    assert live.app.state.busy == 0
    with httpx.Client(base_url=f"http://127.0.0.1:{live.port}", timeout=10) as http:
        assert http.get("/api/info").json()["latent_dim"] == 3
        again = http.post("/api/decode", json={"point": points[0]})
        _answers(explorer.decode_point(points[0]))(*_plain(again))
        page = http.get("/")
        assert page.status_code == 200 and "aekit explorer" in page.text


@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal_urls_reach_no_file(live, target):
    status, headers, body = _raw(live.port, target)
    _check_refusal(status, headers, body, 404, "")


def test_model_calls_over_the_cap_are_refused_503_with_retry_after(live, monkeypatch):
    """What the server documents for more model calls than MAX_BUSY at once: 503,
    Retry-After and a JSON message; the calls already under way still finish."""
    monkeypatch.setattr(server_module, "MAX_BUSY", 1)
    url = f"http://127.0.0.1:{live.port}"
    first: dict[str, httpx.Response] = {}

    def decode() -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            first["r"] = http.post("/api/decode", json={"point": [0, 0]})

    with live.explorer.lock:  # the model is held: the first call waits on it
        waiting = threading.Thread(target=decode)
        waiting.start()
        for _ in range(400):
            if live.app.state.busy == 1:
                break
            threading.Event().wait(0.01)
        assert live.app.state.busy == 1
        with httpx.Client(base_url=url, timeout=10) as http:
            refused = http.post("/api/decode", json={"point": [0, 0]})
            cheap = http.get("/api/info")  # no model call: not counted
    waiting.join(30)
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert "busy" in refused.json()["error"]
    assert cheap.status_code == 200
    assert first["r"].status_code == 200 and "image" in first["r"].json()
    assert live.app.state.busy == 0


@pytest.mark.parametrize(
    "request_bytes",
    [b"GET /static/a b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"not http\r\n\r\n"],
)
def test_unparsable_http_gets_uvicorns_own_400(live, request_bytes):
    """What h11 cannot parse never reaches the app: uvicorn answers 400 itself, in
    plain text, the one refusal that is not JSON; the server carries on."""
    answer = _exchange(live.port, request_bytes)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"Invalid HTTP request" in answer
    assert _raw(live.port, "/static/app.js")[0] == 200
