"""``osler-server serve --relay-for URL --advertise``: announce the edge relay on the clinic's LAN with zeroconf
(mDNS, DNS-SD), as the desktop's LAN relay discovery expects it (PROTOCOL.md §13.5, desktop/domain/lan_discovery.py):
service type ``_osler-relay._tcp.local.``, TXT ``p=<programme id>``, ``v=1``, ``f=`` (a relay has no device
fingerprint) and ``r=edge``. python-zeroconf is optional for a server install: imported here only.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

log = logging.getLogger("osler.relay")
SERVICE_TYPE = "_osler-relay._tcp.local."
TXT_VERSION = "1"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - the address a relay serving the LAN listens on


class AdvertiseError(Exception):
    pass


def _addresses(host: str) -> list[str]:
    """The IPv4 addresses to announce for a relay bound to ``host``: that one, or this machine's LAN addresses."""
    if host not in (ALL_INTERFACES, ""):
        return [socket.gethostbyname(host)]
    import ifaddr  # zeroconf's own dependency

    found = [
        str(ip.ip)
        for adapter in ifaddr.get_adapters()
        for ip in adapter.ips
        if isinstance(ip.ip, str) and not ip.ip.startswith("127.")
    ]
    return found or ["127.0.0.1"]


class Advertisement:
    """The relay's mDNS announcement, until ``close``. ``interfaces``: zeroconf's (None: all; tests: loopback)."""

    def __init__(
        self, programme: str, host: str, port: int, name: str | None = None, interfaces: list[str] | None = None
    ) -> None:
        try:
            from zeroconf import InterfaceChoice, IPVersion, ServiceInfo, Zeroconf
        except ImportError:
            raise AdvertiseError("--advertise needs python-zeroconf: pip install zeroconf") from None
        label = " ".join((name or f"Osler relay {socket.gethostname()}").replace(".", " ").split())[:40]
        self._zc: Any = Zeroconf(
            interfaces=interfaces if interfaces is not None else InterfaceChoice.All, ip_version=IPVersion.V4Only
        )
        self.info: Any = ServiceInfo(
            SERVICE_TYPE,
            f"{label} {programme[:8]}.{SERVICE_TYPE}",  # "<name> <suffix>": the desktop shows the name alone
            addresses=[socket.inet_aton(a) for a in _addresses(host)],
            port=port,
            properties={"p": programme, "v": TXT_VERSION, "f": "", "r": "edge"},
            server=f"osler-relay-{programme[:8]}.local.",
        )
        try:
            self._zc.register_service(self.info, allow_name_change=True)
        except Exception as exc:
            self._zc.close()
            raise AdvertiseError(f"could not announce the relay on the LAN: {type(exc).__name__}") from None
        log.info("announced on the LAN as %r (zeroconf %s)", self.info.name, SERVICE_TYPE)

    def close(self) -> None:
        try:
            self._zc.unregister_service(self.info)
        except Exception as exc:  # closed meanwhile, or no network
            log.debug("zeroconf close: %s", type(exc).__name__)
        finally:
            self._zc.close()
