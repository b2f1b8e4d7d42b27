"""The zeroconf (mDNS, DNS-SD) announcement of a carrier of sync bundles on a LAN (PROTOCOL.md §13.5), built in
one place for the desktop's LAN relay (desktop/domain/lan_discovery.py) and the edge relay's ``--advertise``
(sync/server/relay_advertise.py).

Service type ``_osler-relay._tcp.local.``; TXT ``p=<programme id>``, ``v=1``, ``f=<device fingerprint>`` (empty
for a relay) and ``r=edge`` for an edge relay. python-zeroconf is optional: imported only when an announcement
is built.
"""

from __future__ import annotations

import socket
from typing import Any

SERVICE_TYPE = "_osler-relay._tcp.local."
TXT_VERSION = "1"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - a carrier serving the LAN, once its person or operator turned it on


def announced_addresses(host: str) -> list[str]:
    """The IPv4 addresses to announce for a carrier bound to ``host``: that one, or this machine's LAN addresses
    (loopback when it has none)."""
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


def service_info(
    label: str, suffix: str, host: str, port: int, programme: str, fingerprint: str, edge: bool, server: str
) -> Any:
    """The zeroconf ``ServiceInfo`` of a carrier: instance ``"<label> <suffix>"`` (a browser shows the label
    alone), the addresses of ``host``, and the TXT record above."""
    from zeroconf import ServiceInfo

    properties = {"p": programme, "v": TXT_VERSION, "f": fingerprint}
    if edge:
        properties["r"] = "edge"
    return ServiceInfo(
        SERVICE_TYPE,
        f"{label} {suffix}.{SERVICE_TYPE}",
        addresses=[socket.inet_aton(a) for a in announced_addresses(host)],
        port=port,
        properties=properties,
        server=server,
    )
