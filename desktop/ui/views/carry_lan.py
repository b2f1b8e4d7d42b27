"""Settings → Sync without the internet → Classmates on this network: the relay switch (off unless the person
turns it on), the classmates' Oslers found on this network with their device fingerprints, "Hand my outbox to…",
and the address of a clinic's relay. The domain is desktop/domain/lan_relay.py, reached as ``session.lan_relay``
through the small interface below; handing over runs on a worker thread."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from desktop.i18n import _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import button, heading, line_edit, paragraph
from desktop.ui.direction import ltr
from desktop.ui.layout import FlowLayout, empty_state
from desktop.ui.views.carry_text import applied_sentence, refusal_sentence
from desktop.ui.worker import Task, run_in_background

PEER_ROLE = Qt.ItemDataRole.UserRole + 1


class Peer(Protocol):
    fingerprint: str  # "3F2A 9C1B 77D0 12AE"
    name: str | None  # the person, when their card is known here
    edge: bool  # a clinic's relay (TXT r=edge) rather than a classmate


class LanRelayApi(Protocol):
    """What this panel needs of desktop/domain/lan_relay.py."""

    def enabled(self) -> bool: ...
    def set_enabled(self, on: bool) -> None: ...
    def peers(self) -> Sequence[Peer]: ...
    def hand_to(self, peer: Any) -> Any: ...  # Applied | None (None: the classmate carries it, no answer yet)
    def relay_address(self) -> str: ...
    def set_relay_address(self, address: str) -> None: ...


def lan_api(session: Any) -> LanRelayApi | None:
    return getattr(session, "lan_relay", None)


def peer_text(peer: Any) -> str:
    fingerprint = ltr(peer.fingerprint)
    if getattr(peer, "edge", False):
        return _("A clinic's relay (device {fingerprint})").format(fingerprint=fingerprint)
    if peer.name:
        return _("{person} (device {fingerprint})").format(person=peer.name, fingerprint=fingerprint)
    return _("A classmate's Osler (device {fingerprint})").format(fingerprint=fingerprint)


class LanRelayPanel(QWidget):
    """``applied`` carries the sentence of what an answer brought back did."""

    applied = Signal(str)

    def __init__(self, session: Any) -> None:
        super().__init__()
        self.session = session
        self.api = lan_api(session)
        self.peers: list = []
        self._tasks: set[Task] = set()
        self.setAccessibleName(_("Classmates on this network"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading(_("Classmates on this network"), 1.0))
        self.switch = QCheckBox(_("Find classmates' Oslers on this &network and carry for them"))
        self.switch.setAccessibleName(_("Relay on this network"))
        explanation = _(
            "When on, Oslers of your programme on this Wi-Fi can see this computer's device fingerprint and hand "
            "it sealed files to carry; nobody can read what is carried."
        )
        self.switch.setAccessibleDescription(explanation)
        layout.addWidget(self.switch)
        layout.addWidget(paragraph(explanation))
        self.list = QListWidget()
        self.list.setAccessibleName(_("Classmates found on this network"))
        self.list.setMinimumHeight(60)
        self.list.setMaximumHeight(120)
        self.list.currentRowChanged.connect(lambda _row: self._enable())
        layout.addWidget(self.list)
        empty_state(self.list, self._empty_text)
        row = FlowLayout()
        self.hand_button = button(_("&Hand my outbox to…"), _("Hand my outbox to the selected classmate"), self.hand)
        self.hand_button.setAccessibleDescription(
            _("Sends them a sealed file of what you wrote and brings back what they fetched for you")
        )
        row.addWidget(self.hand_button)
        layout.addLayout(row)
        address_row = QHBoxLayout()
        address_label = QLabel(_("Clinic &relay address:"))
        self.address = line_edit(_("Clinic relay address"), "http://clinic-pc:8080")
        address_label.setBuddy(self.address)
        self.address.editingFinished.connect(self._save_address)
        address_row.addWidget(address_label)
        address_row.addWidget(self.address, 1)
        layout.addLayout(address_row)
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Network relay status"))
        layout.addWidget(self.status)
        self.timer = QTimer(self)
        self.timer.setInterval(3000)
        self.timer.timeout.connect(self.refresh)
        if self.api is not None:
            self.switch.setChecked(self.api.enabled())
            self.address.setText(self.api.relay_address())
        self.switch.toggled.connect(self._switch)
        self._switch_shown()

    def _empty_text(self) -> str:
        if self.api is None:
            return _("This Osler cannot look for classmates on the network.")
        if not self.switch.isChecked():
            return _("Turn the switch on to look for classmates on this network.")
        return _("No classmate's Osler found on this network yet.")

    def _switch(self, on: bool) -> None:
        if self.api is not None:
            self.api.set_enabled(on)
        self._switch_shown()

    def _switch_shown(self) -> None:
        on = self.switch.isChecked() and self.api is not None
        self.switch.setEnabled(self.api is not None)
        self.address.setEnabled(self.api is not None)
        if on:
            self.timer.start()
        else:
            self.timer.stop()
        self.refresh()

    def refresh(self) -> None:
        on = self.api is not None and self.switch.isChecked()
        peers = list(self.api.peers()) if on and self.api is not None else []
        chosen = self.selected()
        if [p.fingerprint for p in peers] != [p.fingerprint for p in self.peers] or not peers:
            self.peers = peers
            self.list.clear()
            for peer in peers:
                item = QListWidgetItem(peer_text(peer))
                item.setData(PEER_ROLE, peer.fingerprint)
                self.list.addItem(item)
            for row, peer in enumerate(peers):
                if chosen is not None and peer.fingerprint == chosen.fingerprint:
                    self.list.setCurrentRow(row)
        self.list.viewport().update()
        self._enable()

    def selected(self) -> Any:
        row = self.list.currentRow()
        return self.peers[row] if 0 <= row < len(self.peers) else None

    def _enable(self) -> None:
        self.hand_button.setEnabled(self.selected() is not None and not self._tasks)

    def _save_address(self) -> None:
        if self.api is not None:
            self.api.set_relay_address(self.address.text().strip())

    def hand(self) -> None:
        peer, api = self.selected(), self.api
        if peer is None or api is None:
            self.status.setText(_("Select a classmate in the list first."))
            return
        name = peer_text(peer)
        self.status.setText(_("Handing your outbox to {who}…").format(who=name))

        def done(result: object) -> None:
            self._tasks.discard(task)
            if not shiboken6.isValid(self):
                return
            self._enable()
            if result is None:
                self.status.setText(
                    _("{who} carries your outbox. Hand it again later to collect the answer.").format(who=name)
                )
            else:
                sentence = applied_sentence(result)
                self.status.setText(sentence)
                self.applied.emit(sentence)

        def failed(exc: Exception) -> None:
            self._tasks.discard(task)
            if shiboken6.isValid(self):
                self._enable()
                self.status.setText(refusal_sentence(exc))

        task = run_in_background(lambda: api.hand_to(peer), done, failed)
        self._tasks.add(task)
        self._enable()
