"""Serving the explorer: a listening socket on loopback, and uvicorn with a guard
against clients that open connections and never finish a request (slowloris)."""

from __future__ import annotations

import json
import socket
from typing import Any

from ...errors import AekitError
from .guard import HEADERS

HEAD_SECONDS = 10  # a request head (or the next one) not complete by then: closed
MAX_CONNECTIONS = 256  # beyond this the longest-waiting idle connection is closed


def check_port(port: object) -> int:
    """A TCP port number, 0 to 65535 (0: any free one); else one clear line."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise AekitError(
            "--port must be a number from 0 to 65535 (0 picks a free one), "
            f"not {port!r}"
        )
    return port


def bind(host: str = "127.0.0.1", port: int = 8000) -> socket.socket:
    """A listening socket; port 0 picks a free one (read it from getsockname)."""
    check_port(port)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only
    # then; without it each keep-alive response waits ~40 ms on a delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except (OSError, OverflowError, UnicodeError) as e:
        sock.close()
        reason = getattr(e, "strerror", None) or e
        raise AekitError(
            f"cannot listen on {host}:{port} ({reason}); "
            "choose another --port (0 picks a free one)"
        ) from e
    return sock


def server(
    app: Any,
    sock: socket.socket,
    *,
    head_seconds: float = HEAD_SECONDS,
    max_connections: int = MAX_CONNECTIONS,
) -> Any:
    """A uvicorn Server for `app` on `sock`: `.run(sockets=[sock])` serves until
    Ctrl-C or `.should_exit = True`.

    Connections are held by `guarded_protocol`: one that has not sent a whole
    request head within `head_seconds` is closed, and past `max_connections` the
    longest-waiting idle one makes room, so clients that open connections and
    send a few bytes (slowloris) cannot keep real requests out.
    """
    import uvicorn

    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=guarded_protocol(head_seconds, max_connections),
        log_level="warning",
        access_log=False,
        lifespan="off",
        limit_concurrency=None,  # its 503 is plain text and counts idle sockets
        timeout_keep_alive=5,
    )
    return uvicorn.Server(config)


def guarded_protocol(head_seconds: float, max_connections: int) -> type:
    """uvicorn's h11 protocol with a deadline on request heads and a connection cap.

    uvicorn times out idle keep-alive connections only after a response and only
    until the first byte arrives: a connection that sends part of a head and stops
    is kept forever, and its 503 for too many connections is plain text.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(H11Protocol):
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self.waiting_since = self.loop.time()
            self.head_timer = self.loop.call_later(head_seconds, self.check_head)
            if len(self.connections) > max_connections and not self.make_room():
                self.refuse(503, "the explorer has too many connections; try again")

        def connection_lost(self, exc: Exception | None) -> None:
            self.head_timer.cancel()
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            self.waiting_since = self.loop.time()  # the next head's deadline
            super().on_response_complete()

        def send_400_response(self, msg: str) -> None:  # a malformed request head
            self.refuse(400, msg.rstrip("."))  # "Invalid HTTP request received"

        def idle(self) -> bool:
            """No request being served: waiting for (the rest of) a head."""
            return self.cycle is None or self.cycle.response_complete

        def check_head(self) -> None:
            if self.transport.is_closing():
                return
            left = self.waiting_since + head_seconds - self.loop.time()
            if self.idle() and left <= 0:
                partial = (
                    self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]
                )
                if partial:
                    self.refuse(408, "the request head took too long to arrive")
                else:
                    self.transport.close()
                return
            wait = left if self.idle() else head_seconds
            self.head_timer = self.loop.call_later(max(wait, 0.05), self.check_head)

        def make_room(self) -> bool:
            """Close the idle connection that has waited longest; False if none."""
            idle = [
                c
                for c in self.connections
                if c is not self
                and isinstance(c, GuardedH11Protocol)
                and c.idle()
                and not c.transport.is_closing()
            ]
            if not idle:
                return False
            oldest = min(idle, key=lambda c: c.waiting_since)
            oldest.refuse(503, "closed to make room for another connection")
            return True

        def refuse(self, status: int, message: str) -> None:
            """One JSON error written straight to the socket, then close it."""
            if not self.transport.is_closing():
                self.transport.write(_raw_json_response(status, message))
                self.transport.close()

    return GuardedH11Protocol


_REASONS = {400: "Bad Request", 408: "Request Timeout", 503: "Service Unavailable"}


def _raw_json_response(status: int, message: str) -> bytes:
    body = json.dumps({"error": message}).encode()
    lines = [
        f"HTTP/1.1 {status} {_REASONS[status]}".encode(),
        b"content-type: application/json",
        b"content-length: %d" % len(body),
        b"connection: close",
        *(b"%s: %s" % (name, value) for name, value in HEADERS),
    ]
    if status == 503:
        lines.append(b"retry-after: 1")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
