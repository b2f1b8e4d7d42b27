"""The server's FastAPI application: routers per resource, auth as a dependency, errors as JSON."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync import PROTOCOL_VERSION, __version__
from sync.clock import Clock
from sync.protocol import GZIP_MIN_BYTES, ProtocolError, SyncRequest, SyncResponse
from sync.server import api_admin, api_auth, api_blobs, api_bundles, api_links, api_live, api_recovery, api_sync
from sync.server.blobstore import BlobStore
from sync.server.limits import BodyLimit
from sync.server.security import RateLimiter
from sync.server.signed import IssuedToken
from sync.server.storage import Storage

log = logging.getLogger("osler.server")
AUTH_PER_MINUTE = 10
BUNDLES_PER_MINUTE = 120  # request bundles per client address (a relay forwards many: PROTOCOL.md §13.2)
# How long an idle keep-alive connection stays open (uvicorn's default is 5 s). A client on a long, thin link pays
# 2 round trips to open one, and its follow-up sync (receipts, a reply) comes seconds later: 75 s, as nginx does.
KEEP_ALIVE_S = 75
# A stopping server waits this long for requests in flight, then cuts them: a held ``GET /v1/wait`` (up to 50 s)
# must not hold a restart, and a cut wait is harmless (PROTOCOL.md §4.3).
SHUTDOWN_GRACE_S = 3
# How uvicorn serves Osler, wherever it runs (``osler-server serve``, the embedded demo server). No ``date`` or
# ``server`` header: clients never read them, and on a 64 kbit/s link their 54 bytes are paid on every answer,
# every held wait included.
SERVE_OPTIONS = {
    "access_log": False,
    "timeout_keep_alive": KEEP_ALIVE_S,
    "timeout_graceful_shutdown": SHUTDOWN_GRACE_S,
    "server_header": False,
    "date_header": False,
}


class Health(BaseModel):
    status: str
    protocol: int
    version: str


def _error(status: int, code: str, detail: str, **extra: object) -> JSONResponse:
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    return JSONResponse({"detail": detail, "code": code, **extra}, status_code=status, headers=headers)


_B64 = {"+/": "A-Za-z0-9+/", "-_": "A-Za-z0-9_-"}
_LAST = {1: "AQgw", 2: "AEIMQUYcgkosw048"}  # the last character of a canonical encoding, by bytes left over


def _base64_pattern(size: int | None) -> str:
    """What the wire models accept as bytes in JSON: base64 in the standard or the URL-safe alphabet (not mixed),
    canonical, with or without padding; of exactly ``size`` bytes, or any length when ``size`` is None."""
    options = []
    for alphabet in _B64.values():
        a = f"[{alphabet}]"
        if size is None:
            tail = "|".join(f"{a}{{{n}}}[{_LAST[n]}]" for n in (1, 2))
            options.append(f"(?:{a}{{4}})*(?:{tail})?")
        else:
            whole, rest = divmod(size, 3)
            options.append(f"{a}{{{4 * whole + rest}}}[{_LAST[rest]}]" if rest else f"{a}{{{4 * whole}}}")
    return f"^(?:{'|'.join(options)})={{0,2}}$"


def _state_base64(schema: object) -> None:
    """pydantic describes wire bytes as ``format: base64url`` with the byte length as the string's length; state
    what the server really accepts instead (PROTOCOL.md §1), so a schema-valid body is a valid one."""
    if isinstance(schema, list):
        for item in schema:
            _state_base64(item)
    if not isinstance(schema, dict):
        return
    if schema.get("format") == "base64url":
        low, high = schema.pop("minLength", None), schema.pop("maxLength", None)
        exact = high if high is not None and low == high else None
        schema["format"] = "base64"
        schema["pattern"] = _base64_pattern(exact)
        if high is not None:
            schema["maxLength"] = 4 * -(-high // 3)
    for value in schema.values():
        _state_base64(value)


def create_app(
    storage: Storage,
    data_dir: Path,
    auth_per_minute: int = AUTH_PER_MINUTE,
    device_auth_per_minute: int | None = None,
    clock: Clock | None = None,
    bundles_per_minute: int = BUNDLES_PER_MINUTE,
) -> FastAPI:
    """The app over ``storage`` and the blobs in ``data_dir``. Registration and sign-in are limited to
    ``auth_per_minute`` calls per client address, and sign-in to ``device_auth_per_minute`` (by default the same
    number) per device; request bundles to ``bundles_per_minute`` per client address. ``clock`` (by default the
    storage's) decides every expiry and window."""
    clock = clock or storage.clock
    app = FastAPI(title="Osler server", version=__version__, summary="Relay, directory and blob store for Osler")
    app.state.storage, app.state.clock = storage, clock
    app.state.live = api_live.LiveHub(storage)
    app.state.blobs = BlobStore(data_dir / "blobs", clock)
    app.state.auth_limiter = RateLimiter(auth_per_minute, clock)
    app.state.device_limiter = RateLimiter(device_auth_per_minute or auth_per_minute, clock)
    app.state.bundle_limiter = RateLimiter(bundles_per_minute, clock)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES)
    app.add_middleware(IssuedToken)  # the token a signed request earned, on its answer (PROTOCOL.md §6.2)
    app.add_middleware(BodyLimit)  # added last, so it runs first: no route reads a byte past its limit

    @app.exception_handler(ProtocolError)
    async def protocol_error(_request: Request, exc: ProtocolError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        reasons = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5])
        return _error(422, "invalid", reasons or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {400: "bad-encoding", 404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(
            exc.status_code, "http-error"
        )
        response = _error(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    @app.get("/v1/health", response_model=Health, tags=["operations"])
    def health() -> Health:
        """Liveness and the protocol version this server speaks, so a client can say "update" clearly."""
        return Health(status="ok", protocol=PROTOCOL_VERSION, version=__version__)

    app.include_router(api_auth.router)
    app.include_router(api_links.router)
    app.include_router(api_recovery.router)
    app.include_router(api_sync.router)
    app.include_router(api_live.router)
    app.include_router(api_blobs.router)
    app.include_router(api_admin.router)
    app.include_router(api_bundles.router)

    openapi = app.openapi

    def with_wire_schemas() -> dict:
        schema = openapi()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (SyncRequest, SyncResponse):
            wire = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(wire.pop("$defs", {}))
            components[model.__name__] = wire
        for wire in components.values():
            _state_base64(wire)
        # This server speaks one version: another ``v`` is answered 426 (PROTOCOL.md §8), so say so.
        components["SyncRequest"]["properties"]["v"] = {"const": PROTOCOL_VERSION, "description": "protocol version"}
        return schema

    app.openapi = with_wire_schemas  # type: ignore[method-assign]
    return app
