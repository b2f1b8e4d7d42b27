"""``osler-server serve --relay-for URL --advertise``: announce the edge relay on the clinic's LAN with zeroconf
(mDNS, DNS-SD), as the desktop's LAN relay discovery expects it (PROTOCOL.md §13.5, desktop/domain/lan_discovery.py):
service type ``_osler-relay._tcp.local.``, TXT ``p=<programme id>``, ``v=1``, ``f=`` (a relay has no device
fingerprint) and ``r=edge``. python-zeroconf is optional for a server install: imported here only.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from sync.lan_service import SERVICE_TYPE, service_info

log = logging.getLogger("osler.relay")


class AdvertiseError(Exception):
    pass


class Advertisement:
    """The relay's mDNS announcement, until ``close``. ``interfaces``: zeroconf's (None: all; tests: loopback)."""

    def __init__(
        self, programme: str, host: str, port: int, name: str | None = None, interfaces: list[str] | None = None
    ) -> None:
        try:
            from zeroconf import InterfaceChoice, IPVersion, Zeroconf
        except ImportError:
            raise AdvertiseError("--advertise needs python-zeroconf: pip install zeroconf") from None
        label = " ".join((name or f"Osler relay {socket.gethostname()}").replace(".", " ").split())[:40]
        self._zc: Any = Zeroconf(
            interfaces=interfaces if interfaces is not None else InterfaceChoice.All, ip_version=IPVersion.V4Only
        )
        # "<name> <suffix>": the desktop shows the name alone; a relay has no device fingerprint
        self.info: Any = service_info(
            label, programme[:8], host, port, programme, "", True, f"osler-relay-{programme[:8]}.local."
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
