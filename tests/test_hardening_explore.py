"""Audit 13, explorer server: half-open connections (slowloris) and port numbers.

A tiny ASGI app behind the explorer's Guard and server(), on 127.0.0.1 only, so
the tests need no trained run and stay fast; every socket is closed.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("uvicorn")

from aekit.errors import AekitError  # noqa: E402
from aekit.interfaces.explore.guard import Guard  # noqa: E402
from aekit.interfaces.explore.server import LOOPBACK, bind, check_port, server  # noqa: E402

PARTIAL_HEAD = b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


async def _ok(scope, receive, send) -> None:
    body = b'{"ok": true}'
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(body)),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextlib.contextmanager
def _serving(**options) -> Iterator[int]:
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    srv = server(Guard(_ok, hosts=LOOPBACK, max_body=1024), sock, **options)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not srv.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert srv.started, "the server did not start"
        yield port
    finally:
        srv.should_exit = True
        thread.join(10)
        sock.close()
    assert not thread.is_alive()


def _ask(port: int, request: bytes = REQUEST, timeout: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def _status_and_json(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), head
    return int(head.split()[1]), json.loads(body)


@contextlib.contextmanager
def _half_open(port: int, n: int) -> Iterator[list[socket.socket]]:
    """n connections that each send part of a request head and then nothing."""
    socks: list[socket.socket] = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            socks.append(s)
            s.sendall(PARTIAL_HEAD)
        yield socks
    finally:
        for s in socks:
            s.close()


def _closed_by_server(s: socket.socket, within: float) -> bytes | None:
    """What the server wrote before closing `s`, or None if it stayed open."""
    s.settimeout(within)
    data = b""
    try:
        while chunk := s.recv(65536):
            data += chunk
    except TimeoutError:
        return None
    except OSError:  # reset: closed as well
        return data
    return data


def test_three_hundred_half_open_connections_do_not_keep_requests_out():
    with _serving(head_seconds=1.0) as port, _half_open(port, 300) as socks:
        time.sleep(0.2)  # all of them accepted and waiting
        started = time.monotonic()
        status, body = _status_and_json(_ask(port))
        assert (status, body) == (200, {"ok": True})
        assert time.monotonic() - started < 3
        # and each of them is closed once its head is overdue, with a JSON error
        answers = [_closed_by_server(s, within=5) for s in socks]
        assert all(a is not None for a in answers)
        statuses = {_status_and_json(a)[0] for a in answers if a}
        assert statuses <= {408, 503}


def test_an_incomplete_head_times_out_with_a_json_408():
    with _serving(head_seconds=0.5) as port, _half_open(port, 1) as (s,):
        started = time.monotonic()
        answer = _closed_by_server(s, within=5)
        waited = time.monotonic() - started
        assert answer is not None and 0.3 < waited < 4
        status, body = _status_and_json(answer)
        assert status == 408 and "took too long" in body["error"]
        assert _status_and_json(_ask(port))[0] == 200  # still serving


def test_over_the_connection_cap_the_oldest_idle_connection_makes_room():
    with _serving(head_seconds=30, max_connections=8) as port:
        with _half_open(port, 8) as socks:
            time.sleep(0.2)
            assert _status_and_json(_ask(port))[0] == 200  # not 503
            answer = _closed_by_server(socks[0], within=3)  # the oldest went
            assert answer is not None
            assert _status_and_json(answer)[0] == 503


def test_a_malformed_request_head_gets_a_json_400():
    with _serving() as port:
        status, body = _status_and_json(_ask(port, b"NOT HTTP AT ALL\r\n\r\n"))
    assert status == 400 and body["error"] == "Invalid HTTP request received"


@pytest.mark.parametrize("port", [70000, 65536, -1, "80", True])
def test_ports_outside_the_tcp_range_are_refused(port):
    with pytest.raises(AekitError, match="--port must be a number from 0 to 65535"):
        check_port(port)
    with pytest.raises(AekitError, match="--port") as e:
        bind("127.0.0.1", port)
    assert "\n" not in str(e.value)
