"""The OS's word on the network (Qt's ``QNetworkInformation``), for the sync scheduler: when the link comes
back, sync at once instead of waiting out the back-off. Where the OS cannot say (no backend, or a backend
that does not know), ``available`` is False. The scheduler probes the server while offline either way (an OS
that says "online" may be behind a captive portal), so this only makes the return quicker."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class LinkWatch(QObject):
    """Emits ``changed(online)`` when the OS's reachability changes (GUI thread)."""

    changed = Signal(bool)

    def __init__(self) -> None:
        super().__init__()
        self.available = False
        try:
            from PySide6.QtNetwork import QNetworkInformation
        except ImportError:  # a Qt built without networking
            return
        self._reachability = QNetworkInformation.Reachability
        feature = QNetworkInformation.Feature.Reachability
        if not QNetworkInformation.loadBackendByFeatures(feature) or QNetworkInformation.instance() is None:
            log.info("the OS does not report network reachability: the probe alone finds the link")
            return
        info = QNetworkInformation.instance()
        self.available = info.reachability() != self._reachability.Unknown
        info.reachabilityChanged.connect(self.reachability_changed)

    def reachability_changed(self, reachability: object) -> None:
        """Online is reaching the internet (or at least the site, for a programme's server on the LAN);
        Unknown says nothing, and changes nothing."""
        if reachability == self._reachability.Unknown:
            return
        self.available = True
        self.changed.emit(reachability in (self._reachability.Online, self._reachability.Site))
