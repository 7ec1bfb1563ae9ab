"""The explorer's web server: a FastAPI app over an Explorer, and uvicorn to serve it.

Every request is checked before it reaches the model: a guard caps body size and
Host (a page on another site cannot reach a loopback server through DNS
rebinding), bodies are parsed by pydantic models that forbid unknown fields,
non-finite and out-of-range numbers, and too many model calls at once are answered
503 rather than queued without end. Connections that send no whole request head in
time are closed (slowloris). Every error is JSON: {"error": "one line"}.
Only the three files of static/ are served, by name, from memory.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from ...errors import AekitError
from .features import FeatureView
from .guard import Guard
from .serving import (  # noqa: F401  (aekit.interfaces.explore.server.bind, as before)
    HEAD_SECONDS,
    MAX_CONNECTIONS,
    bind,
    check_port,
    guarded_protocol,
    server,
)
from .state import Explorer
from .uploads import MAX_BYTES, UploadError, read_image

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
MAX_JSON = 1024 * 1024  # a JSON body: a code or a vector of up to ~50k numbers
MAX_BUSY = 16  # model calls running or waiting; more are answered 503
MAX_STEPS = 32  # frames of an interpolation strip
LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")

Coordinate = Annotated[float, Field(allow_inf_nan=False, ge=-1e6, le=1e6)]
Number = Annotated[float, Field(allow_inf_nan=False)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DecodeBody(_Body):
    point: tuple[Coordinate, Coordinate] | None = None  # a place on the map
    code: list[Coordinate] | None = Field(None, max_length=4096)  # a whole code
    label: int | None = Field(None, ge=0, le=1_000_000)  # conditional runs: a class
    # runs conditioned on CSV columns: one value per column, in their order
    condition: list[Coordinate] | None = Field(None, max_length=4096)


class ItemBody(_Body):
    index: int = Field(ge=0)


class InterpolateBody(_Body):
    a: int = Field(ge=0)
    b: int = Field(ge=0)
    steps: int = Field(8, ge=2, le=MAX_STEPS)


class LatentBody(_Body):
    latent: int = Field(ge=0)


class SteerBody(_Body):
    index: int = Field(ge=0)  # the data point steered
    latent: int = Field(ge=0)
    value: Coordinate | None = None  # the activation decoded with; None: its own


class ValuesBody(_Body):
    values: list[Number] = Field(max_length=65536)  # one vector, source units


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def create_app(explorer: Explorer, *, allowed_hosts: tuple[str, ...] | None = LOOPBACK):
    """The app, guarded; `allowed_hosts` None accepts any Host header."""
    app = FastAPI(
        title="aekit explorer", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.explorer, app.state.busy = explorer, 0
    static = {name: (STATIC / name).read_bytes() for name in STATIC_TYPES}
    _routes(app, explorer, static)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, e: ApiError):
        return _json_error(e.status, e.message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException):
        return _json_error(e.status_code, str(e.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError):
        return _json_error(422, _first_error(e.errors()))

    @app.exception_handler(Exception)
    async def internal(request: Request, e: Exception):
        log.exception("explorer: internal error on %s", request.url.path)
        return _json_error(500, f"internal error: {type(e).__name__}")

    return Guard(app, hosts=allowed_hosts, max_body=MAX_BYTES + 64 * 1024)


def _routes(app: FastAPI, explorer: Explorer, static: dict[str, bytes]) -> None:
    @app.get("/")
    def index() -> Response:
        return Response(static["index.html"], media_type=STATIC_TYPES["index.html"])

    @app.get("/static/{name}")
    def static_file(name: str) -> Response:
        if name not in static:  # by exact name only: no path is ever joined
            raise ApiError(404, f"no static file {name[:64]!r}")
        return Response(static[name], media_type=STATIC_TYPES[name])

    fixed = {  # what never changes, serialised once
        "info": JSONResponse(explorer.info()).body,
        "points": JSONResponse(explorer.scatter()).body,
    }

    @app.get("/api/info")
    def info() -> Response:
        return Response(fixed["info"], media_type="application/json")

    @app.get("/api/points")
    def points() -> Response:
        return Response(fixed["points"], media_type="application/json")

    @app.post("/api/decode")
    async def decode(request: Request) -> JSONResponse:
        body = _parse(DecodeBody, await _json_body(request))
        if (body.point is None) == (body.code is None):
            raise ApiError(422, "send exactly one of 'point' [u, v] or 'code'")
        label, values = body.label, body.condition
        if body.point is not None:
            point = body.point
            return await _compute(request, explorer.decode_point, point, label, values)
        if len(body.code) != explorer.latent_dim:
            raise ApiError(
                422, f"code has {len(body.code)} values; expected {explorer.latent_dim}"
            )
        code = np.asarray(body.code)
        return await _compute(request, explorer.decode, code, label, values)

    @app.post("/api/item")
    async def item(request: Request) -> JSONResponse:
        body = _parse(ItemBody, await _json_body(request))
        _check_index(explorer, body.index)
        return await _compute(request, explorer.item, body.index)

    @app.post("/api/interpolate")
    async def interpolate(request: Request) -> JSONResponse:
        body = _parse(InterpolateBody, await _json_body(request))
        _check_index(explorer, body.a)
        _check_index(explorer, body.b)
        return await _compute(request, explorer.interpolate, body.a, body.b, body.steps)

    _feature_routes(app, explorer)

    @app.post("/api/encode")
    async def encode(
        request: Request,
        invert: Annotated[str, Query(pattern="^(auto|yes|no)$")] = "auto",
        fit: bool = False,
    ) -> JSONResponse:
        if not explorer.is_image:
            raise ApiError(422, "this run's data are vectors: use /api/encode-values")
        data = await _upload(request)
        if len(data) > MAX_BYTES:  # the guard lets multipart framing pass
            raise ApiError(413, f"the upload is larger than {MAX_BYTES // 2**20} MiB")
        return await _compute(request, _encode_image, explorer, data, invert, fit)

    @app.post("/api/encode-values")
    async def encode_values(request: Request) -> JSONResponse:
        if explorer.is_image:
            raise ApiError(422, "this run's data are images: upload to /api/encode")
        body = _parse(ValuesBody, await _json_body(request))
        d = explorer.run.sample_shape[0]
        if len(body.values) != d:
            raise ApiError(422, f"got {len(body.values)} values; expected {d}")
        x = explorer.run.scaling.from_source(np.asarray(body.values)[None])[0]
        if not torch.isfinite(x).all():
            raise ApiError(422, "values are out of range for this run's scaling")
        return await _compute(request, explorer.encode_input, x)


def _feature_routes(app: FastAPI, explorer: Explorer) -> None:
    """A sparse autoencoder's latents, top inputs and steering (features.py)."""
    view = FeatureView(explorer) if explorer.is_sae else None
    listing = JSONResponse(view.latents()).body if view else b""

    def features() -> FeatureView:
        if view is None:
            raise ApiError(422, f"{explorer.run.path.name} is not a sparse autoencoder")
        return view

    @app.get("/api/latents")
    def latents() -> Response:
        features()
        return Response(listing, media_type="application/json")

    @app.post("/api/latent")
    async def latent(request: Request) -> JSONResponse:
        body = _parse(LatentBody, await _json_body(request))
        return await _compute(request, features().latent, body.latent)

    @app.post("/api/steer")
    async def steer(request: Request) -> JSONResponse:
        body = _parse(SteerBody, await _json_body(request))
        view = features()
        _check_index(explorer, body.index)
        return await _compute(request, view.steer, body.index, body.latent, body.value)


def _encode_image(explorer: Explorer, data: bytes, invert: str, fit: bool) -> dict:
    x, inverted = read_image(
        data,
        explorer.run.sample_shape,
        invert=invert,
        fit=fit,
        dark_background=explorer.dark_background,
    )
    return {**explorer.encode_input(torch.from_numpy(x)), "inverted": inverted}


# -- request plumbing ------------------------------------------------------------
async def _json_body(request: Request) -> bytes:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ApiError(415, "send the request body as application/json")
    body = await request.body()
    if len(body) > MAX_JSON:
        raise ApiError(413, f"the JSON body is larger than {MAX_JSON // 1024} KiB")
    return body


def _parse(model: type[BaseModel], body: bytes) -> Any:
    try:
        return model.model_validate_json(body)
    except ValidationError as e:
        raise ApiError(422, _first_error(e.errors())) from None


def _first_error(errors: list[dict[str, Any]]) -> str:
    """pydantic's errors -> one line, without echoing the input back."""
    if not errors:
        return "invalid request"
    e = errors[0]
    where = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"invalid request: {where + ': ' if where else ''}{e.get('msg')}{more}"


def _check_index(explorer: Explorer, index: int) -> None:
    n = len(explorer.points)
    if index >= n:
        raise ApiError(422, f"no data point {index}; there are {n} (0 to {n - 1})")


async def _upload(request: Request) -> bytes:
    """The image: the raw body (image/*), or the field 'file' of a multipart form."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=4)
        except Exception as e:  # malformed multipart, or python-multipart missing
            raise ApiError(
                422, f"unreadable multipart form ({type(e).__name__})"
            ) from e
        file = form.get("file")
        if file is None or isinstance(file, str):
            raise ApiError(422, "the form needs an image in the field 'file'")
        return await file.read(MAX_BYTES + 1)
    if kind.startswith("image/") or kind == "application/octet-stream":
        return await request.body()
    raise ApiError(415, "send an image (image/png, image/jpeg, ...) as the body")


async def _compute(request: Request, fn: Any, *args: Any) -> JSONResponse:
    """Run a model call off the event loop; refuse when too many are under way."""
    state = request.app.state
    if state.busy >= MAX_BUSY:
        raise ApiError(503, "the explorer is busy; try again in a moment")
    state.busy += 1  # the event loop is one thread: no lock needed
    try:
        result = await run_in_threadpool(fn, *args)
    except (UploadError, AekitError) as e:
        raise ApiError(422, str(e)) from None
    finally:
        state.busy -= 1
    return JSONResponse(result)


def _json_error(status: int, message: str) -> JSONResponse:
    headers = {"retry-after": "1"} if status == 503 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)
