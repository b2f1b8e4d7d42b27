"""The edge relay: ``osler-server serve --relay-for URL`` on a clinic's machine (PROTOCOL.md §13.6).

It stores and forwards sealed request bundles for devices of one programme and holds the origin's answers for them,
so a device on the clinic's network gets its answer at LAN speed whether or not the clinic's own link is up. It
reads only the clear header (kind, programme, device, request id, sizes); it cannot open a bundle, and it never
makes a record or a cursor: every answer it hands out is one the origin made and sealed to the device.

- ``POST /v1/bundles``: a request bundle of this programme. When the origin is reachable the relay forwards it at
  once (bounded by ``forward_timeout``) and answers with the origin's answer (or passes on the origin's refusal);
  otherwise it keeps it and answers 200 with the newest answer it holds for that device, or 202 ``carrying``.
- ``GET /v1/health``: ``{"status": "ok", "relay_for": URL, "protocol": ..., ...}`` with the queue's counts.
- A forwarder thread wakes every ``interval`` seconds; while the origin answers it sends the queued requests in
  arrival order, then sends each device's newest answered request again (at most every ``refresh`` seconds) so a
  fresh answer waits for the student's next visit.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import requests
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync import PROTOCOL_VERSION, __version__
from sync.bundle import BUNDLE_MEDIA, MAX_BUNDLE_BYTES, BundleError, Header, programme_id, read_header
from sync.clock import SYSTEM, Clock, now_ms
from sync.protocol import ProtocolError
from sync.server.relay_store import Queued, RelayStore
from sync.server.security import RateLimiter

log = logging.getLogger("osler.relay")

FORWARD_TIMEOUT_S = 20.0  # how long a device's POST waits for the origin before the relay keeps the request
CONNECT_TIMEOUT_S = 5.0
INTERVAL_S = 30.0  # the forwarder's wake-up period
REFRESH_S = 300.0  # each device's answer is asked for again at most this often
KEEP_DEVICE_S = 30 * 86_400  # a device not seen for this long is no longer refreshed
BUNDLES_PER_MINUTE = 120
_TRANSIENT = {408, 425, 429}  # and every 5xx: the origin (or the way to it) is busy or down, try again later


def normalise_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"--relay-for needs an http:// or https:// URL, not {url!r}")
    return url


def _error(status: int, code: str, detail: str, **extra: object) -> JSONResponse:
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    return JSONResponse({"detail": detail, "code": code, **extra}, status_code=status, headers=headers)


_BUNDLE_ERRORS = {  # BundleError code -> (status, wire code)
    "too-large": (413, "too-large"),
    "newer-version": (422, "newer-version"),
}


@dataclass(frozen=True)
class Outcome:
    """What became of one POST upstream: ``answer`` (200), ``refusal`` (the origin said no for good: its status
    and JSON body), or neither (unreachable, busy, or no valid answer: try again later)."""

    answer: bytes | None = None
    refusal: tuple[int, dict] | None = None


UNREACHABLE = Outcome()


class Upstream:
    """POSTs request bundles to the origin. One ``requests`` session per thread."""

    def __init__(self, url: str, forward_timeout: float = FORWARD_TIMEOUT_S) -> None:
        self.url = normalise_url(url)
        self.forward_timeout = forward_timeout
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers["User-Agent"] = f"osler-relay/{__version__}"
        return session

    def post(self, data: bytes, request: Header) -> Outcome:
        try:
            response = self._session().post(
                f"{self.url}/v1/bundles",
                data=data,
                headers={"Content-Type": BUNDLE_MEDIA},
                timeout=(CONNECT_TIMEOUT_S, self.forward_timeout),
            )
        except requests.RequestException as exc:
            log.info("origin unreachable: %s", type(exc).__name__)
            return UNREACHABLE
        if response.status_code == 200:
            try:
                answer = read_header(response.content)
            except BundleError as exc:
                log.warning("the origin's answer is not a bundle (%s): kept the request", exc.code)
                return UNREACHABLE
            if answer.kind != "answer" or answer.request != request.request or answer.device != request.device:
                log.warning("the origin answered another request: kept the request")
                return UNREACHABLE
            return Outcome(answer=response.content)
        if response.status_code in _TRANSIENT or response.status_code >= 500:
            log.info("origin busy: %d", response.status_code)
            return UNREACHABLE
        try:
            body = response.json()
            if not isinstance(body, dict) or not isinstance(body.get("code"), str):
                raise ValueError
        except ValueError:
            body = {"detail": f"the programme server refused the bundle ({response.status_code})", "code": "refused"}
        return Outcome(refusal=(response.status_code, {"detail": str(body.get("detail", "")), "code": body["code"]}))

    def reachable(self) -> bool:
        try:
            return self._session().get(f"{self.url}/v1/health", timeout=(CONNECT_TIMEOUT_S, 10)).status_code == 200
        except requests.RequestException:
            return False


@dataclass
class Stats:
    forwarded: int = 0  # POSTs upstream that brought an answer (queued, live and refreshes)
    refreshed: int = 0
    refused: int = 0
    last_contact_ms: int | None = None


class Forwarder:
    """Sends what the relay holds to the origin. ``run_once`` is one pass; ``start`` runs passes on a thread every
    ``interval`` seconds (sooner after ``wake``). Decisions use ``clock``; each request is sent by one caller at a
    time, and a queued request once."""

    def __init__(
        self,
        store: RelayStore,
        upstream: Upstream,
        clock: Clock = SYSTEM,
        *,
        interval: float = INTERVAL_S,
        refresh: float = REFRESH_S,
        keep_device: float = KEEP_DEVICE_S,
    ) -> None:
        self.store, self.upstream, self.clock = store, upstream, clock
        self.interval, self.refresh, self.keep_device = interval, refresh, keep_device
        self.up: bool | None = None  # None: not known yet
        self.stats = Stats()
        self._inflight: set[str] = set()
        self._inflight_lock = threading.Lock()
        self._pass_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # one request

    def forward(self, item: Queued, *, refresh: bool = False) -> Outcome | None:
        """POST ``item`` upstream and record the outcome; None when another caller is sending it right now, or (not
        a refresh) when it is no longer queued."""
        with self._inflight_lock:
            if item.digest in self._inflight:
                return None
            self._inflight.add(item.digest)
        try:
            if not refresh and self.store.state(item.digest) != "queued":
                return None
            header = read_header(item.data)
            outcome = self.upstream.post(item.data, header)
            now = now_ms(self.clock)
            if outcome.answer is not None:
                self.up = True
                self.stats.last_contact_ms = now
                self.stats.forwarded += 1
                self.stats.refreshed += refresh
                self.store.answered(item.digest, outcome.answer, read_header(outcome.answer).created_ms, now)
                log.info("answer for device %s… (request %s…)", item.device[:8], item.request[:8])
            elif outcome.refusal is not None:
                self.up = True
                self.stats.last_contact_ms = now
                self.stats.refused += 1
                self.store.refused(item.digest)
                log.info("the origin refused request %s…: %s", item.request[:8], outcome.refusal[1]["code"])
            else:
                self.up = False
            return outcome
        finally:
            with self._inflight_lock:
                self._inflight.discard(item.digest)

    # passes

    def run_once(self) -> int:
        """One pass: queued requests in arrival order, then the refreshes that are due; stops at the first sign the
        origin is unreachable. Returns how many answers it brought."""
        with self._pass_lock:
            brought = 0
            for item in self.store.queued():
                outcome = self.forward(item)
                if outcome is None:
                    continue
                if outcome.answer is None and outcome.refusal is None:
                    return brought
                brought += outcome.answer is not None
            now = now_ms(self.clock)
            due = self.store.to_refresh(now - int(self.refresh * 1000), now - int(self.keep_device * 1000))
            if not due and self.up is not True:
                self.up = self.upstream.reachable()
                if self.up:
                    self.stats.last_contact_ms = now
            for item in due:
                outcome = self.forward(item, refresh=True)
                if outcome is None:
                    continue
                if outcome.answer is None and outcome.refusal is None:
                    return brought
                brought += outcome.answer is not None
            return brought

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_once()
            except Exception:  # a pass must never end the thread: log what kind of failure, try again later
                log.exception("forwarder pass failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> Forwarder:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="osler-relay-forwarder", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=CONNECT_TIMEOUT_S + FORWARD_TIMEOUT_S + 5)
            self._thread = None


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
) -> FastAPI:
    relay_for = forwarder.upstream.url
    programme = programme_id(relay_for)
    limiter = RateLimiter(bundles_per_minute, clock)
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
        data = await _read_body(request)
        if data is None:
            return _error(413, "too-large", f"a bundle is at most {MAX_BUNDLE_BYTES} bytes")
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
        digest, _new = store.add(
            data,
            request=header.request,
            device=header.device,
            created_ms=header.created_ms,
            records=header.records,
            blob_bytes=header.blob_bytes,
            now_ms=now_ms(clock),
        )
        if forwarder.up is not False:
            outcome = forwarder.forward(Queued(digest, header.request.hex(), header.device.hex(), data))
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
    forward_timeout = options.pop("forward_timeout", FORWARD_TIMEOUT_S)
    per_minute = int(options.pop("bundles_per_minute", BUNDLES_PER_MINUTE))
    store = RelayStore.for_data_dir(data_dir)
    forwarder = Forwarder(store, Upstream(relay_for, forward_timeout), clock, **options)
    return create_relay_app(store, forwarder, clock=clock, bundles_per_minute=per_minute), forwarder
