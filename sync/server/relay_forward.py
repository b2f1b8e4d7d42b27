"""The edge relay's way upstream (PROTOCOL.md §13.6): POSTing request bundles to the origin and the forwarder
thread that sends what the relay holds whenever the clinic's link is up.

``Upstream.post`` sorts what the origin said into an answer (held for the device), a refusal for good (passed back,
the request dropped) or "try again later" (no link, a timeout, 429, 5xx, a body that is not the matching answer).
``Forwarder.run_once`` is one pass: queued requests in arrival order, then each device's newest answered request
again when its refresh is due; ``start`` runs passes on a thread. Decisions use the injected clock.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from dataclasses import dataclass

import requests

from sync import __version__
from sync.bundle import BUNDLE_MEDIA, BundleError, Header, read_header
from sync.clock import SYSTEM, Clock, now_ms
from sync.server.relay_store import Queued, RelayStore

log = logging.getLogger("osler.relay")

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 120.0  # the origin answering a large bundle (up to 64 MiB of pushes and blob pieces)
LIVE_FORWARDS = 4  # forwards for waiting devices at once
INTERVAL_S = 30.0  # the forwarder's wake-up period
REFRESH_S = 300.0  # each device's answer is asked for again at most this often
# A refresh re-sends a whole request (its pushes and uploads again, all idempotent at the origin) for the sake of its
# pull: only requests up to REFRESH_MAX_BYTES, and hourly for a device not seen for a day.
REFRESH_MAX_BYTES = 256 << 10
ACTIVE_S = 86_400
IDLE_REFRESH_S = 3_600
KEEP_DEVICE_S = 30 * 86_400  # a device not seen for this long is forgotten (held answer, refresh request)
_TRANSIENT = {408, 425, 429}  # and every 5xx: the origin (or the way to it) is busy or down, try again later


def normalise_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"--relay-for needs an http:// or https:// URL, not {url!r}")
    return url


@dataclass(frozen=True)
class Outcome:
    """What became of one POST upstream: ``answer`` (200), ``refusal`` (the origin said no for good: its status
    and JSON body), or neither (unreachable, busy, or no valid answer: try again later)."""

    answer: bytes | None = None
    refusal: tuple[int, dict] | None = None


UNREACHABLE = Outcome()


class Upstream:
    """POSTs request bundles to the origin. One ``requests`` session per thread."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
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
                timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
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
        self._live = concurrent.futures.ThreadPoolExecutor(LIVE_FORWARDS, thread_name_prefix="osler-relay-live")

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

    def forward_live(self, item: Queued, wait: float) -> Outcome | None:
        """``forward`` for a device waiting on the line: its outcome within ``wait`` seconds, else None while the
        forward goes on (its answer is then held for the device's next visit)."""
        try:
            return self._live.submit(self.forward, item).result(timeout=wait)
        except concurrent.futures.TimeoutError:
            log.info("the origin is slow: request %s… goes on without its device", item.request[:8])
            return None

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
            self.store.forget_before(now - int(self.keep_device * 1000))
            due = self.store.to_refresh(
                before_ms=now - int(self.refresh * 1000),
                idle_before_ms=now - int(max(self.refresh, IDLE_REFRESH_S) * 1000),
                active_since_ms=now - int(ACTIVE_S * 1000),
                max_size=REFRESH_MAX_BYTES,
            )
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
        self._live.shutdown(wait=False, cancel_futures=True)
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=CONNECT_TIMEOUT_S + READ_TIMEOUT_S + 5)
            self._thread = None
