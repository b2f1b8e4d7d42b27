"""The session's sync without the internet, wired in one place (a mixin of ``Session``): this device's bundles
(``session.bundles``, bundles.py) and the bundles it carries for others (``session.carry``, carry.py), each made
when first used (sync/bundle.py is imported then); the LAN relay (``session.lan_relay``, lan_relay.py), on only
while Settings.lan_relay is; and what follows an online sync for them (the server's bundle key fetched, carried
requests relayed). Those modules take the session as an ``OfflineContext`` (offline_context.py), never import it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.domain.bundles import Bundles
    from desktop.domain.carry import Carry
    from desktop.domain.lan_relay import LanRelay

log = logging.getLogger("desktop.domain.session")  # the session's own log, as before the split


class OfflineSync:
    _bundles: Bundles | None
    _carry: Carry | None
    lan_relay: LanRelay | None
    lan_where: dict[str, object]

    def _offline_init(self) -> None:
        self._bundles = None
        self._carry = None
        self.lan_relay = None  # serving and advertising only while Settings.lan_relay is on
        self.lan_where = {}  # where it serves and announces (default: every interface)

    def set_lan_relay(self, on: bool) -> None:
        """The LAN relay on (serve and advertise, desktop/domain/lan_relay.py) or off (neither). The Settings
        screen saves ``lan_relay`` and calls this; ``lan_where``: LanRelay's host/interfaces (tests: loopback)."""
        if not on:
            if self.lan_relay is not None:
                self.lan_relay.stop()
            return
        from desktop.domain.lan_relay import LanRelay

        if self.lan_relay is None:
            self.lan_relay = LanRelay(self, **self.lan_where)  # type: ignore[arg-type]
        try:
            self.lan_relay.start()
        except OSError as exc:  # no network, the port taken: the app goes on without it
            log.warning("LAN relay not started: %s", type(exc).__name__)

    def _after_online_sync(self) -> None:
        """On the sync thread, after a sync that reached the server: the server's bundle key fetched once
        (PROTOCOL.md §13.3), then the bundles this person carries for others relayed (§13.4)."""
        try:
            self.bundles.fetch_server_keys()
        except Exception as exc:  # an older server without bundles, a cut: asked again after the next sync
            log.info("bundle key not fetched: %s", type(exc).__name__)
        try:
            if self.carry.relay():
                self.count_usage()
        except Exception as exc:  # carried requests wait for the next sync
            log.info("carried bundles not relayed: %s", type(exc).__name__)

    @property
    def bundles(self) -> Bundles:
        """This device's own sync bundles (desktop/domain/bundles.py)."""
        if self._bundles is None:
            from desktop.domain.bundles import Bundles

            self._bundles = Bundles(self)
        return self._bundles

    @property
    def carry(self) -> Carry:
        """Bundles carried for others (desktop/domain/carry.py)."""
        if self._carry is None:
            from desktop.domain.carry import Carry

            self._carry = Carry(self)
        return self._carry
