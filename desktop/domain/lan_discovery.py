"""Finding LAN relays (PROTOCOL.md §13.5) with zeroconf (mDNS): advertise this Osler as a carrier of its programme
and list the other carriers of the same programme on the network. Used by ``lan_relay.LanRelay`` only while the
person has turned the LAN relay on; python-zeroconf is imported here and in sync/lan_service.py (the
announcement, shared with the edge relay) and nowhere else.

Service type ``_osler-relay._tcp.local.``; TXT ``p=<programme id>``, ``v=1``, ``f=<device fingerprint>`` and
``r=edge`` for an edge relay. A carrier of another programme, or of another TXT version, is never listed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sync.lan_service import SERVICE_TYPE, TXT_VERSION, service_info

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Peer:
    """An Osler that carries bundles: a classmate found on the LAN, or an edge relay (``edge``)."""

    name: str
    fingerprint: str  # the carrier's device fingerprint ("3F2A 9C1B 77D0 12AE"); "" for a relay address
    address: str  # an IP address or host name
    port: int
    edge: bool = False
    scheme: str = "http"  # found on the LAN: http; a relay address may say https

    @property
    def url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{host}:{self.port}"


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
        self._registering: threading.Thread | None = None
        self._zc = Zeroconf(
            interfaces=interfaces if interfaces is not None else InterfaceChoice.All, ip_version=IPVersion.V4Only
        )
        self._browser = ServiceBrowser(self._zc, SERVICE_TYPE, handlers=[self._changed])

    def advertise(self, address: str, port: int, edge: bool = False) -> None:
        """Announce this carrier (in the background: mDNS probing takes a second or two)."""
        host = self.fingerprint.replace(" ", "").lower() or "osler"
        self._info = service_info(
            _instance(self.name),
            host[:8],
            address,
            port,
            self.programme,
            self.fingerprint,
            edge,
            f"osler-{host}.local.",
        )
        self._registering = threading.Thread(
            target=self._register, args=(self._info,), name="osler-lan-advertise", daemon=True
        )
        self._registering.start()

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
        if self._registering is not None:  # probing takes ~1.5 s: ended before the goodbye, never cut mid-way
            self._registering.join(timeout=5)
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
