"""The LAN relay (PROTOCOL.md §13.5): a classmate's Osler on the same network carries this device's sealed
request bundle to the programme's server and hands back the answer it fetched.

Off unless the person turns it on (``Settings.lan_relay``). When on, this Osler:

- advertises ``_osler-relay._tcp.local.`` by zeroconf (mDNS) with TXT ``p=<programme id>``, ``v=1``,
  ``f=<this device's fingerprint>`` (and ``r=edge`` for an edge relay), and browses for the others; only peers
  of the same programme are listed;
- serves ``POST /v1/bundles`` over plain HTTP (a stdlib threading server: nothing it handles is readable, the
  bundle is sealed and signed end to end), checking every request before it keeps a byte: Content-Length at most
  ``MAX_BUNDLE_BYTES`` (413 before reading), the bundle media type (415), a request bundle's header (400), of
  this programme (422). A device the person refused gets 403. Otherwise ``session.carry`` takes it; when this
  Osler is online it relays at once (bounded by ``RELAY_WAIT_S``) so the answer comes back in the same exchange:
  200 with the newest answer held for that device, else 202 ``{"state": "carrying"}``. Errors are the JSON shape
  of §8 (``{"detail", "code"}``), never a 500.

The device side is ``hand_to(peer)``: make a request bundle, POST it, import the answer when one comes back. The
same path talks to an edge relay (``osler-server serve --relay-for``): a ``relay_address`` setting, or an edge
found by zeroconf (``r=edge``). No Qt here: the UI holds a ``LanRelay`` and calls ``peers()`` / ``hand_to``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from desktop.domain.lan_discovery import Discovery, Peer
from desktop.domain.sync_adapter import default_device_name
from desktop.i18n import _
from sync.lan_service import ALL_INTERFACES

if TYPE_CHECKING:
    from desktop.domain.bundles import Applied
    from desktop.domain.offline_context import OfflineContext

log = logging.getLogger(__name__)
BUNDLE_MEDIA = "application/vnd.osler.bundle"  # sync.bundle.BUNDLE_MEDIA (imported lazily there)
MAX_BUNDLE_BYTES = 64 << 20  # sync.bundle.MAX_BUNDLE_BYTES
RELAY_WAIT_S = 20.0  # how long a carrier holds a POST while it relays the request at once
HAND_TIMEOUT_S = 60.0  # the device side: a LAN carrier answers within RELAY_WAIT_S plus the transfer
READ_TIMEOUT_S = 30.0  # the carrier's socket timeout while a request arrives
MAX_RECEIVING = 4  # bodies received at once (each up to 64 MiB in memory); more: 503 busy
MAX_CARRIED_BYTES = 1 << 30  # requests kept waiting, in all; more: 507 (anyone on the LAN may post)


def device_fingerprint(device: bytes) -> str:
    """A device id as carriers show it (``sync.bundle.Header.fingerprint``: a carried request's header and the
    TXT ``f`` of an advertisement read the same): its first 8 bytes as 4 groups of 4 upper-case hex digits."""
    digits = device[:8].hex().upper()
    return " ".join(digits[i : i + 4] for i in range(0, 16, 4))


def peer_at(address: str) -> Peer | None:
    """The ``relay_address`` setting ("http://clinic-pc:8080") as a peer, or None when it is not an address."""
    parts = urlsplit(address.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return Peer(parts.hostname, "", parts.hostname, port, edge=True, scheme=parts.scheme)


class LanRelayError(Exception):
    """A hand-over that did not work: ``message`` is a translated sentence for the person, ``code`` the reason."""

    def __init__(self, message: str, code: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


# -- the device side -------------------------------------------------------------------------------------------


def post_bundle(url: str, data: bytes, timeout: float = HAND_TIMEOUT_S) -> bytes | None:
    """POST a request bundle to a carrier or an edge relay at ``url``: the answer bundle (200), or None when it
    took the request and holds no answer yet (202). Anything else raises ``LanRelayError`` with a sentence. LAN
    bytes are not counted against the data saver's internet budget."""
    import requests

    try:
        response = requests.post(
            f"{url.rstrip('/')}/v1/bundles", data=data, headers={"Content-Type": BUNDLE_MEDIA}, timeout=timeout
        )
    except requests.RequestException:
        message = _("That Osler could not be reached. Check that you are on the same network.")
        raise LanRelayError(message, "offline") from None
    if response.status_code == 202:
        return None
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if response.status_code == 200 and media == BUNDLE_MEDIA:
        return response.content
    try:
        code = str(response.json().get("code", ""))
    except ValueError:
        code = ""
    if response.status_code == 403:
        raise LanRelayError(_("This classmate has chosen not to carry for this device."), code or "refused", 403)
    if response.status_code == 413:
        raise LanRelayError(_("The bundle is too large for this relay."), code or "too-large", 413)
    if response.status_code in (503, 507):
        message = _("That Osler is busy or carries as much as it can. Try again later, or hand it to someone else.")
        raise LanRelayError(message, code or "busy", response.status_code)
    if code == "bundle-programme":
        raise LanRelayError(_("That Osler belongs to another programme."), code, response.status_code)
    raise LanRelayError(
        _("That Osler did not accept the bundle. Try again, or carry it on a USB stick."), code, response.status_code
    )


# -- the carrier side ------------------------------------------------------------------------------------------


class Carrier:
    """What the HTTP side does with a request it received: ``session.carry`` behind the spec's answers."""

    def __init__(
        self,
        carry: Any,  # desktop.domain.carry.Carry: take, items, answer_for, mark_handed_back, relay
        programme: str,
        relay_now: Callable[[], object] | None = None,
        wait_s: float = RELAY_WAIT_S,
    ) -> None:
        self.carry, self.programme, self.relay_now, self.wait_s = carry, programme, relay_now, wait_s
        self._guard = threading.Lock()
        self._relaying: threading.Thread | None = None

    def handle(self, data: bytes) -> tuple[int, str, bytes]:
        """(status, media type, body) for a request bundle's bytes."""
        from desktop.domain.bundles import BundleRefused
        from sync import bundle

        try:
            header = bundle.read_header(data)
        except bundle.BundleError as exc:
            status, code = {"too-large": (413, "too-large"), "newer-version": (422, "newer-version")}.get(
                exc.code, (400, "bad-encoding")
            )
            return _error(status, code, "the body is not a whole request bundle")
        if header.kind != "request":
            return _error(422, "invalid", "only request bundles are carried")
        if len(data) != header.size:
            return _error(400, "bad-encoding", "the bundle is cut short or has bytes after its end")
        if header.programme != self.programme:
            return _error(422, "bundle-programme", "this carrier relays for another programme")
        device = header.device.hex()
        items = self.carry.items()
        if any(item.device == device and item.state == "refused" for item in items):
            return _error(403, "refused", "the person carrying refused this device")
        waiting = sum(item.size for item in items if item.state in ("waiting", "over-budget"))
        if waiting + len(data) > MAX_CARRIED_BYTES:
            return _error(507, "relay-full", "this carrier holds as much as it will carry; try another")
        try:
            self.carry.take(data)
        except BundleRefused as exc:
            status, code = {
                "refused": (403, "refused"),
                "too-large": (413, "too-large"),
                "damaged": (400, "bad-encoding"),
                "other-programme": (422, "bundle-programme"),
            }.get(exc.code, (422, "invalid"))
            return _error(status, code, "this carrier does not take that bundle")
        if self.relay_now is not None:
            self._relay_bounded()
        answer = self.carry.answer_for(header.device)
        if answer is None:
            return 202, "application/json", json.dumps({"state": "carrying"}).encode()
        with contextlib.suppress(bundle.BundleError):
            self.carry.mark_handed_back(bundle.read_header(answer).request.hex())
        return 200, BUNDLE_MEDIA, answer

    def _relay_bounded(self) -> None:
        """Relay what is carried now (a relay already running may have started before this request was taken:
        it is waited for, then one more runs), waiting at most ``wait_s`` in all; a slow one goes on by itself."""
        deadline = time.monotonic() + self.wait_s
        for _round in range(2):
            with self._guard:
                running = self._relaying
                if running is None or not running.is_alive():
                    running = self._relaying = threading.Thread(
                        target=self._relay_quietly, name="osler-lan-relay", daemon=True
                    )
                    running.start()
                    fresh = True
                else:
                    fresh = False
            running.join(max(0.0, deadline - time.monotonic()))
            if fresh or running.is_alive():
                return

    def _relay_quietly(self) -> None:
        try:
            self.relay_now()  # type: ignore[misc]
        except Exception as exc:  # offline, a server refusal: the request waits for the next sync
            log.info("LAN relay could not relay at once: %s", type(exc).__name__)


def _error(status: int, code: str, detail: str) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps({"detail": detail, "code": code}).encode()


class _Handler(BaseHTTPRequestHandler):
    server_version = "osler-lan-relay"
    timeout = READ_TIMEOUT_S  # a sender quiet this long is dropped: it holds no thread for ever
    sys_version = ""
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("lan relay: %s", format % args)

    def _send(self, status: int, media: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _refuse(self, status: int, code: str, detail: str) -> None:
        self.close_connection = True  # the body (if any) was not read
        self._send(*_error(status, code, detail))

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/v1/health":
            self._send(200, "application/json", json.dumps({"status": "ok", "relay": "lan"}).encode())
        else:
            self._refuse(404, "not-found", "no such thing")

    def do_POST(self) -> None:
        if self.path.split("?")[0] != "/v1/bundles":
            return self._refuse(404, "not-found", "no such thing")
        if self.headers.get("Transfer-Encoding"):
            return self._refuse(411, "length-required", "send the bundle with a Content-Length")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._refuse(411, "length-required", "send the bundle with a Content-Length")
        if length < 0:
            return self._refuse(400, "bad-encoding", "a negative Content-Length")
        if length > MAX_BUNDLE_BYTES:
            return self._refuse(413, "too-large", f"a bundle is at most {MAX_BUNDLE_BYTES} bytes")
        media = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media != BUNDLE_MEDIA:
            return self._refuse(415, "bad-encoding", f"send a bundle as {BUNDLE_MEDIA}")
        if not self.server.slots.acquire(blocking=False):  # each body is held whole: a few at a time
            return self._refuse(503, "busy", "this carrier is receiving other bundles; try again in a moment")
        try:
            try:
                data = self.rfile.read(length)
            except OSError:  # the sender went quiet for READ_TIMEOUT_S, or left
                return self._refuse(400, "bad-encoding", "the body did not arrive")
            if len(data) != length:
                return self._refuse(400, "bad-encoding", "the body ended before its Content-Length")
            try:
                answer = self.server.carrier.handle(data)
            except Exception as exc:  # never a 500 with a trace: the person's log says what, not the content
                log.warning("LAN relay could not handle a bundle: %s", type(exc).__name__)
                answer = _error(503, "relay-unavailable", "this carrier could not keep the bundle; try again")
            self._send(*answer)
        finally:
            self.server.slots.release()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], carrier: Carrier) -> None:
        self.carrier = carrier
        self.slots = threading.BoundedSemaphore(MAX_RECEIVING)
        super().__init__(address, _Handler)


class RelayServer:
    """The carrier's HTTP side on ``host`` (all interfaces by default; tests: 127.0.0.1) and a free port."""

    def __init__(self, carrier: Carrier, host: str = ALL_INTERFACES, port: int = 0) -> None:
        self._server = _Server((host, port), carrier)
        self.host, self.port = host, self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="osler-lan-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# -- the whole, as the session holds it ------------------------------------------------------------------------


class LanRelay:
    """The LAN relay of one unlocked session. ``start()`` serves and advertises (when the person turned it on),
    ``stop()`` ends both; ``peers()`` lists carriers of the same programme; ``hand_to(peer)`` hands this device's
    outbox to one and imports the answer it gives back. ``host`` / ``interfaces``: where to serve and announce
    (all interfaces by default; tests: loopback)."""

    def __init__(
        self,
        session: OfflineContext,
        *,
        host: str = ALL_INTERFACES,
        port: int = 0,
        interfaces: list[str] | None = None,
        on_change: Callable[[], None] | None = None,
        wait_s: float = RELAY_WAIT_S,
    ) -> None:
        self.session, self.host, self.port, self.interfaces = session, host, port, interfaces
        self.on_change, self.wait_s = on_change, wait_s
        self.server: RelayServer | None = None
        self.discovery: Discovery | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self.server is not None

    def programme(self) -> str:
        from desktop.domain.content_packs import programme_id

        return programme_id(self.session.program)

    def start(self) -> None:
        """Serve and advertise; a second start does nothing."""
        with self._lock:
            if self.server is not None:
                return
            session = self.session
            carrier = Carrier(session.carry, self.programme(), relay_now=session.carry.relay, wait_s=self.wait_s)
            self.server = RelayServer(carrier, self.host, self.port)
            try:
                self.discovery = Discovery(
                    self.programme(),
                    device_fingerprint(session.program.credentials.device),
                    _device_name(session),
                    interfaces=self.interfaces,
                    on_change=self._peers_changed,
                )
                self.discovery.advertise(self.host, self.server.port)
            except Exception:
                self.server.stop()
                self.server = None
                raise

    def _peers_changed(self) -> None:
        listener = self.on_change  # set by the UI at any time; called on zeroconf's thread
        if listener is not None:
            listener()

    def stop(self) -> None:
        """Stop advertising and serving (what was taken stays carried)."""
        with self._lock:
            server, discovery = self.server, self.discovery
            self.server = self.discovery = None
        if discovery is not None:
            discovery.close()
        if server is not None:
            server.stop()

    def peers(self) -> list[Peer]:
        """Carriers of this programme found on the LAN, and the ``relay_address`` setting's edge relay."""
        found = self.discovery.peers() if self.discovery is not None else []
        setting = peer_at(self.session.settings.relay_address)
        if setting is None:
            return found
        return [setting] + [p for p in found if (p.address, p.port) != (setting.address, setting.port)]

    def hand_to(self, peer: Peer, budget: int | None = None) -> Applied | None:
        """Hand this device's request bundle to ``peer``: the answer it gave back, applied (as a sync), or None
        when it took the request to carry and holds no answer yet. ``LanRelayError`` / ``BundleRefused`` with a
        sentence when it did not work. ``budget``: the bundle's (default ``sync.bundle.DEFAULT_BUDGET``)."""
        return hand_to(self.session, peer, budget)


def hand_to(
    session: OfflineContext, peer: Peer, budget: int | None = None, timeout: float = HAND_TIMEOUT_S
) -> Applied | None:
    """The device side, without a running relay: works with the LAN relay off (asking is not listening)."""
    data = session.bundles.make_request() if budget is None else session.bundles.make_request(budget)
    answer = post_bundle(peer.url, data, timeout)
    if answer is None:
        return None
    return session.bundles.import_answer(answer)


def _device_name(session: OfflineContext) -> str:
    """What classmates see in the list: this person's card name, else the computer's."""
    try:
        card = session.my_card()
    except Exception:  # a locked vault: the computer's name
        card = None
    return card.name if card is not None and card.name else default_device_name()
