"""The edge relay: ``osler-server serve --relay-for URL`` on a clinic's machine (PROTOCOL.md §13.6).

It stores and forwards sealed request bundles for devices of one programme and holds the origin's answers for them,
so a device on the clinic's network gets its answer at LAN speed whether or not the clinic's own link is up. It
reads only the clear header (kind, programme, device, request id, sizes); it cannot open a bundle, and it never
makes a record or a cursor: every answer it hands out is one the origin made and sealed to the device.

- ``POST /v1/bundles``: a request bundle of this programme. When the origin is reachable the relay forwards it at
  once and, if the origin answers within ``forward_wait`` seconds, returns its answer (or passes on its refusal);
  otherwise it keeps it (a slow forward goes on) and answers 200 with the newest answer it holds for that device,
  or 202 ``carrying``.
- ``GET /v1/health``: ``{"status": "ok", "relay_for": URL, "protocol": ..., ...}`` with the queue's counts.
- A forwarder thread wakes every ``interval`` seconds; while the origin answers it sends the queued requests in
  arrival order, then sends each device's newest answered request again (at most every ``refresh`` seconds) so a
  fresh answer waits for the student's next visit.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync import PROTOCOL_VERSION, __version__
from sync.bundle import BUNDLE_MEDIA, MAX_BUNDLE_BYTES, BundleError, Header, programme_id, read_header
from sync.clock import SYSTEM, Clock, now_ms
from sync.protocol import ProtocolError
from sync.server.relay_forward import Forwarder, Upstream
from sync.server.relay_store import Queued, RelayStore, StoreFull
from sync.server.security import RateLimiter

log = logging.getLogger("osler.relay")

FORWARD_WAIT_S = 20.0  # how long a device's POST waits for the origin; then the forward goes on without it
BUNDLES_PER_MINUTE = 120
RECEIVING_AT_ONCE = 8  # bodies being received at once (each is held whole, up to 64 MiB)
MAX_QUEUED_BYTES = 4 << 30  # requests waiting for the link, together: anyone on the LAN may post


def _error(status: int, code: str, detail: str, **extra: object) -> JSONResponse:
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    return JSONResponse({"detail": detail, "code": code, **extra}, status_code=status, headers=headers)


_BUNDLE_ERRORS = {  # BundleError code -> (status, wire code)
    "too-large": (413, "too-large"),
    "newer-version": (422, "newer-version"),
}


async def _read_body(request: Request) -> bytes | None:
    """The body, or None once it passes MAX_BUNDLE_BYTES (never more than that is held)."""
    declared = request.headers.get("content-length", "")
    if declared.strip().isdigit() and int(declared) > MAX_BUNDLE_BYTES:
        return None
    parts, size = [], 0
    async for part in request.stream():
        size += len(part)
        if size > MAX_BUNDLE_BYTES:
            return None
        parts.append(part)
    return b"".join(parts)


def create_relay_app(
    store: RelayStore,
    forwarder: Forwarder,
    *,
    clock: Clock = SYSTEM,
    bundles_per_minute: int = BUNDLES_PER_MINUTE,
    forward_wait: float = FORWARD_WAIT_S,
    max_queued_bytes: int = MAX_QUEUED_BYTES,
) -> FastAPI:
    relay_for = forwarder.upstream.url
    programme = programme_id(relay_for)
    limiter = RateLimiter(bundles_per_minute, clock)
    receiving = [0]  # bodies being received now (on the event loop: no lock needed)
    app = FastAPI(title="Osler edge relay", version=__version__, summary=f"Store and forward for {relay_for}")
    app.state.store, app.state.forwarder = store, forwarder

    @app.exception_handler(ProtocolError)
    async def protocol_error(_request: Request, exc: ProtocolError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, _exc: RequestValidationError) -> JSONResponse:
        return _error(422, "invalid", "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(exc.status_code, "http-error")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def failure(_request: Request, exc: Exception) -> JSONResponse:  # a full disk, a locked database
        log.error("relay failure: %s", type(exc).__name__)
        return _error(503, "relay-unavailable", "the relay cannot take bundles right now; try again later")

    @app.get("/v1/health", tags=["operations"])
    def health() -> dict:
        """Liveness, the programme server this relay serves, and its queue (counts only)."""
        counts = store.counts()
        return {
            "status": "ok",
            "relay_for": relay_for,
            "programme": programme,
            "protocol": PROTOCOL_VERSION,
            "version": __version__,
            "upstream": {True: "up", False: "down", None: "unknown"}[forwarder.up],
            "last_contact_ms": forwarder.stats.last_contact_ms,
            "queued": counts.queued,
            "queued_bytes": counts.queued_bytes,
            "devices": counts.devices,
            "answers": counts.answers,
            "forwarded": forwarder.stats.forwarded,
        }

    @app.post("/v1/bundles", tags=["bundles"], status_code=200)
    async def post_bundle(request: Request) -> Response:
        """A request bundle for the programme server: forwarded now, or kept and forwarded when the link is up."""
        limiter.check(request.client.host if request.client else "unknown")
        if request.headers.get("content-encoding", "identity").strip().lower() != "identity":
            return _error(415, "bad-encoding", "send a bundle as it is: it is compressed inside")
        if receiving[0] >= RECEIVING_AT_ONCE:
            response = _error(503, "busy", "the relay is receiving other bundles; try again", retry_after=5)
            response.headers["Connection"] = "close"
            return response
        receiving[0] += 1
        try:
            data = await _read_body(request)
        finally:
            receiving[0] -= 1
        if data is None:  # the rest of the body is never read: close the connection after the answer
            response = _error(413, "too-large", f"a bundle is at most {MAX_BUNDLE_BYTES} bytes")
            response.headers["Connection"] = "close"
            return response
        try:
            header = read_header(data)
        except BundleError as exc:
            status, code = _BUNDLE_ERRORS.get(exc.code, (400, "bad-encoding"))
            return _error(status, code, exc.detail)
        if header.kind != "request":
            return _error(422, "invalid", "this is an answer bundle: import it on the device it is for")
        if header.programme != programme:
            return _error(422, "bundle-programme", f"this relay carries bundles for {relay_for} only")
        return await run_in_threadpool(_take, data, header)

    def _take(data: bytes, header: Header) -> Response:
        try:
            digest, _new = store.add(
                data,
                request=header.request,
                device=header.device,
                created_ms=header.created_ms,
                records=header.records,
                blob_bytes=header.blob_bytes,
                now_ms=now_ms(clock),
                max_queued_bytes=max_queued_bytes,
            )
        except StoreFull:
            forwarder.wake()
            return _error(507, "relay-full", "the relay keeps all it can until its link is back; try again later")
        if forwarder.up is not False:
            item = Queued(digest, header.request.hex(), header.device.hex(), data)
            outcome = forwarder.forward_live(item, forward_wait)
            if outcome is not None and outcome.answer is not None:
                forwarder.wake()  # the link is up: send what waits behind it too
                return Response(outcome.answer, media_type=BUNDLE_MEDIA)
            if outcome is not None and outcome.refusal is not None:
                status, body = outcome.refusal
                return JSONResponse(body, status_code=status)
        held = store.answer_for(header.device)
        if held is not None:
            return Response(held, media_type=BUNDLE_MEDIA)
        return JSONResponse({"state": "carrying"}, status_code=202)

    return app


def build(data_dir: Path, relay_for: str, clock: Clock = SYSTEM, **options: float) -> tuple[FastAPI, Forwarder]:
    """The relay's app and its (not yet started) forwarder over ``data_dir``."""
    forward_wait = options.pop("forward_wait", FORWARD_WAIT_S)
    per_minute = int(options.pop("bundles_per_minute", BUNDLES_PER_MINUTE))
    max_queued = int(options.pop("max_queued_bytes", MAX_QUEUED_BYTES))
    upstream = Upstream(relay_for)  # a bad URL is refused before the data folder is touched
    store = RelayStore.for_data_dir(data_dir)
    forwarder = Forwarder(store, upstream, clock, **options)
    app = create_relay_app(
        store,
        forwarder,
        clock=clock,
        bundles_per_minute=per_minute,
        forward_wait=forward_wait,
        max_queued_bytes=max_queued,
    )
    return app, forwarder
