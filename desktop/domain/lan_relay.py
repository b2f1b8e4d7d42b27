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
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from desktop.i18n import _

if TYPE_CHECKING:
    from desktop.domain.bundles import Applied
    from desktop.domain.session import Session

log = logging.getLogger(__name__)
SERVICE_TYPE = "_osler-relay._tcp.local."
TXT_VERSION = "1"
BUNDLE_MEDIA = "application/vnd.osler.bundle"  # sync.bundle.BUNDLE_MEDIA (imported lazily there)
MAX_BUNDLE_BYTES = 64 << 20  # sync.bundle.MAX_BUNDLE_BYTES
RELAY_WAIT_S = 20.0  # how long a carrier holds a POST while it relays the request at once
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - a LAN relay serves the LAN, and only once the person turned it on
HAND_TIMEOUT_S = 60.0  # the device side: a LAN carrier answers within RELAY_WAIT_S plus the transfer


@dataclass(frozen=True)
class Peer:
    """An Osler that carries bundles: a classmate found on the LAN, or an edge relay (``edge``)."""

    name: str
    fingerprint: str  # the carrier's device fingerprint ("3F2A 9C1B 77D0 12AE"); "" for a relay address
    address: str  # an IP address or host name
    port: int
    edge: bool = False

    @property
    def url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.port}"


def peer_at(address: str) -> Peer | None:
    """The ``relay_address`` setting ("http://clinic-pc:8080") as a peer, or None when it is not an address."""
    parts = urlsplit(address.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return Peer(name=parts.hostname, fingerprint="", address=parts.hostname, port=port, edge=True)


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
        if any(item.device == device and item.state == "refused" for item in self.carry.items()):
            return _error(403, "refused", "the person carrying refused this device")
        try:
            self.carry.take(data)
        except BundleRefused as exc:
            if exc.code == "refused":
                return _error(403, "refused", "the person carrying refused this device")
            return _error(422, exc.code or "invalid", "this carrier does not take that bundle")
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
        data = self.rfile.read(length)
        if len(data) != length:
            return self._refuse(400, "bad-encoding", "the body ended before its Content-Length")
        try:
            self._send(*self.server.carrier.handle(data))
        except Exception as exc:  # never a 500 with a trace: the person's log says what, not the content
            log.warning("LAN relay could not handle a bundle: %s", type(exc).__name__)
            self._send(*_error(503, "unavailable", "this carrier could not keep the bundle; try again"))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], carrier: Carrier) -> None:
        self.carrier = carrier
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


# -- discovery -------------------------------------------------------------------------------------------------


def _text(properties: dict[bytes, bytes | None], key: str) -> str:
    value = properties.get(key.encode())
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


class Discovery:
    """Advertise this carrier and list the others of the same programme (python-zeroconf). ``interfaces``:
    the zeroconf interfaces (None: all; tests: ["127.0.0.1"]). ``on_change`` is called (on zeroconf's thread)
    when the list of peers changes."""

    def __init__(
        self,
        programme: str,
        fingerprint: str,
        name: str,
        *,
        interfaces: list[str] | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        from zeroconf import InterfaceChoice, IPVersion, ServiceBrowser, Zeroconf

        self.programme, self.fingerprint, self.name, self.on_change = programme, fingerprint, name, on_change
        self._peers: dict[str, Peer] = {}
        self._lock = threading.Lock()
        self._info = None
        self._zc = Zeroconf(
            interfaces=interfaces if interfaces is not None else InterfaceChoice.All, ip_version=IPVersion.V4Only
        )
        self._browser = ServiceBrowser(self._zc, SERVICE_TYPE, handlers=[self._changed])

    def advertise(self, address: str, port: int, edge: bool = False) -> None:
        """Announce this carrier (in the background: mDNS probing takes a second or two)."""
        from zeroconf import ServiceInfo

        host = self.fingerprint.replace(" ", "").lower() or "osler"
        properties = {"p": self.programme, "v": TXT_VERSION, "f": self.fingerprint}
        if edge:
            properties["r"] = "edge"
        self._info = ServiceInfo(
            SERVICE_TYPE,
            f"{_instance(self.name)} {host[:8]}.{SERVICE_TYPE}",
            addresses=[socket.inet_aton(a) for a in _addresses(address)],
            port=port,
            properties=properties,
            server=f"osler-{host}.local.",
        )
        info = self._info
        threading.Thread(target=self._register, args=(info,), name="osler-lan-advertise", daemon=True).start()

    def _register(self, info: Any) -> None:
        try:
            self._zc.register_service(info, allow_name_change=True)
        except Exception as exc:  # closed meanwhile, or no network: nothing advertised
            log.info("LAN relay not advertised: %s", type(exc).__name__)

    def _changed(self, zeroconf: Any, service_type: str, name: str, state_change: Any) -> None:
        from zeroconf import ServiceStateChange

        if state_change is ServiceStateChange.Removed:
            with self._lock:
                gone = self._peers.pop(name, None)
            if gone is not None and self.on_change is not None:
                self.on_change()
            return
        # resolving asks the network: not on zeroconf's own thread
        threading.Thread(target=self._resolve, args=(name,), name="osler-lan-resolve", daemon=True).start()

    def _resolve(self, name: str) -> None:
        try:
            info = self._zc.get_service_info(SERVICE_TYPE, name, timeout=3000)
        except Exception:  # closed meanwhile
            return
        if info is None:
            return
        props = info.properties or {}
        fingerprint = _text(props, "f")
        if _text(props, "p") != self.programme or _text(props, "v") != TXT_VERSION:
            return  # another programme's carrier, or a version this Osler does not speak: never shown or used
        if fingerprint == self.fingerprint:
            return  # this Osler itself
        addresses = info.parsed_addresses()
        if not addresses or not info.port:
            return
        label = name[: -len(SERVICE_TYPE) - 1] if name.endswith("." + SERVICE_TYPE) else name
        peer = Peer(
            name=label.rsplit(" ", 1)[0] if " " in label else label,
            fingerprint=fingerprint,
            address=addresses[0],
            port=info.port,
            edge=_text(props, "r") == "edge",
        )
        with self._lock:
            changed = self._peers.get(name) != peer
            self._peers[name] = peer
        if changed and self.on_change is not None:
            self.on_change()

    def peers(self) -> list[Peer]:
        with self._lock:
            return sorted(self._peers.values(), key=lambda p: (not p.edge, p.name.lower(), p.fingerprint))

    def close(self) -> None:
        try:
            self._browser.cancel()
            if self._info is not None:
                self._zc.unregister_service(self._info)
        except Exception as exc:  # already closed
            log.debug("zeroconf close: %s", type(exc).__name__)
        finally:
            self._zc.close()


def _instance(name: str) -> str:
    """A service instance label: at most 50 bytes, no dots (they would split the DNS name)."""
    label = " ".join(name.replace(".", " ").split()) or "Osler"
    while len(label.encode()) > 50:
        label = label[:-1]
    return label


def _addresses(host: str) -> list[str]:
    """The IPv4 addresses to announce for a server bound to ``host``: that one, or this machine's."""
    if host not in (ALL_INTERFACES, ""):
        return [host]
    import ifaddr  # zeroconf's own dependency

    found = [
        str(ip.ip)
        for adapter in ifaddr.get_adapters()
        for ip in adapter.ips
        if isinstance(ip.ip, str) and not ip.ip.startswith("127.")
    ]
    return found or ["127.0.0.1"]


# -- the whole, as the session holds it ------------------------------------------------------------------------


class LanRelay:
    """The LAN relay of one unlocked session. ``start()`` serves and advertises (when the person turned it on),
    ``stop()`` ends both; ``peers()`` lists carriers of the same programme; ``hand_to(peer)`` hands this device's
    outbox to one and imports the answer it gives back. ``host`` / ``interfaces``: where to serve and announce
    (all interfaces by default; tests: loopback)."""

    def __init__(
        self,
        session: Session,
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
                    session.this_device_fingerprint(),
                    _device_name(session),
                    interfaces=self.interfaces,
                    on_change=self.on_change,
                )
                self.discovery.advertise(self.host, self.server.port)
            except Exception:
                self.server.stop()
                self.server = None
                raise

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
        setting = peer_at(getattr(self.session.settings, "relay_address", "") or "")
        return ([setting] if setting is not None else []) + found

    def hand_to(self, peer: Peer) -> Applied | None:
        """Hand this device's request bundle to ``peer``: the answer it gave back, applied (as a sync), or None
        when it took the request to carry and holds no answer yet. ``LanRelayError`` / ``BundleRefused`` with a
        sentence when it did not work."""
        return hand_to(self.session, peer)


def hand_to(session: Session, peer: Peer, timeout: float = HAND_TIMEOUT_S) -> Applied | None:
    """The device side, without a running relay: works with the LAN relay off (asking is not listening)."""
    data = session.bundles.make_request()
    answer = post_bundle(peer.url, data, timeout)
    if answer is None:
        return None
    return session.bundles.import_answer(answer)


def _device_name(session: Session) -> str:
    """What classmates see in the list: this person's card name, else the computer's."""
    from desktop.domain.session import default_device_name

    try:
        card = session.my_card()
    except Exception:  # a locked vault: the computer's name
        card = None
    return card.name if card is not None and card.name else default_device_name()
