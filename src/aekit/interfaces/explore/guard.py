"""ASGI middleware in front of the explorer: Host allow-list, body cap, headers.

The body is read (up to the cap, within a time limit) before the app sees the
request, so an oversized, endless or trickled upload is refused without being
buffered, whatever its Content-Length claims. Refusals are JSON like every other
error of the explorer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

BODY_SECONDS = 30  # a body still arriving after this is refused (408)

HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
        b"base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


class Guard:
    """ASGI middleware: Host allow-list, body size cap, security headers."""

    def __init__(self, app: Any, *, hosts: tuple[str, ...] | None, max_body: int):
        self.app, self.hosts, self.max_body = app, hosts, max_body

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, send)
            return  # websockets: none served
        headers = dict(scope.get("headers") or [])
        problem = self._check_host(headers.get(b"host", b""))
        body = b""
        if problem is None:
            body, problem = await self._body(headers, receive)
        send = _with_headers(send)
        if problem is not None:
            await _send_json(send, *problem)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _body(
        self, headers: dict[bytes, bytes], receive: Any
    ) -> tuple[bytes, tuple[int, str] | None]:
        too_large = (413, f"the request body is larger than {self.max_body} bytes")
        declared = headers.get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_body:
            return b"", too_large
        try:
            body, over = await asyncio.wait_for(
                _read_body(receive, self.max_body), BODY_SECONDS
            )
        except asyncio.TimeoutError:
            return b"", (408, f"the request body took over {BODY_SECONDS} s to arrive")
        return body, too_large if over else None

    def _check_host(self, host: bytes) -> tuple[int, str] | None:
        if self.hosts is None:
            return None
        name = host.decode("latin-1").strip().lower()
        if name.startswith("["):
            name = name[: name.find("]") + 1]
        else:
            name = name.rsplit(":", 1)[0]
        if name in self.hosts:
            return None
        return 400, "this explorer answers only to its own address (Host header)"


async def _read_body(receive: Any, limit: int) -> tuple[bytes, bool]:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_headers(send: Any) -> Any:
    async def wrapped(message: dict) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
        await send(message)

    return wrapped


async def _send_json(send: Any, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(body)),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
