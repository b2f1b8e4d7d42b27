"""Settings → Sync without the internet → Classmates on this network: the relay switch (off unless the person
turns it on, explained in one sentence), the classmates' Oslers found on this network with their device
fingerprints, "Hand my outbox to…", and the address of a clinic's relay. The domain is desktop/domain/lan_relay.py
(``session.lan_relay`` while the switch is on, ``session.set_lan_relay``, ``lan_relay.hand_to``); turning it on
and handing over run on a worker thread."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from desktop.domain import lan_relay
from desktop.i18n import _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import button, heading, line_edit, paragraph
from desktop.ui.direction import ltr
from desktop.ui.layout import FlowLayout, empty_state
from desktop.ui.views.carry_text import applied_sentence, refusal_sentence
from desktop.ui.worker import Task, run_in_background

PEER_ROLE = Qt.ItemDataRole.UserRole + 1


def peer_text(peer: Any) -> str:
    """A carrier in the list: "Baraka Otieno (device 3F2A 9C1B 77D0 12AE)", "A clinic's relay at clinic-pc"."""
    fingerprint = ltr(peer.fingerprint)
    if peer.edge and not peer.fingerprint:
        return _("A clinic's relay at {address}").format(address=ltr(peer.url))
    if peer.edge:
        return _("A clinic's relay (device {fingerprint})").format(fingerprint=fingerprint)
    if peer.name:
        return _("{person} (device {fingerprint})").format(person=peer.name, fingerprint=fingerprint)
    return _("A classmate's Osler (device {fingerprint})").format(fingerprint=fingerprint)


class LanRelayPanel(QWidget):
    """``applied`` carries the sentence of what an answer brought back did."""

    applied = Signal(str)

    def __init__(self, session: Any, budget: Callable[[], int] | None = None) -> None:
        super().__init__()
        self.session = session
        self.budget = budget  # the size chosen above for a file to carry: a hand-over keeps to it too
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
        address_label = QLabel(_("Clinic rela&y address:"))
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
        settings = session.settings
        self.switch.setChecked(settings.lan_relay)
        self.address.setText(settings.relay_address)
        self.switch.toggled.connect(self._switch)
        if settings.lan_relay:
            self.timer.start()
        self.refresh()

    def _empty_text(self) -> str:
        if not self.switch.isChecked():
            return _("Turn the switch on to look for classmates on this network.")
        return _("No classmate's Osler found on this network yet.")

    def _switch(self, on: bool) -> None:
        """Saved, then the relay started or stopped off the GUI thread (it opens a port and announces itself)."""
        self.session.settings_store.update(lambda s: replace(s, lan_relay=on))
        self.switch.setEnabled(False)
        self.status.setText(_("Looking for classmates on this network…") if on else "")

        def done(_value: object) -> None:
            self._tasks.discard(task)
            if not shiboken6.isValid(self):
                return
            self.switch.setEnabled(True)
            if on:
                self.status.setText(_("On: classmates of your programme on this network can find this computer."))
                self.timer.start()
            else:
                self.status.setText(_("Off: this computer is not shown on the network and carries nothing."))
                self.timer.stop()
            self.refresh()

        def failed(exc: Exception) -> None:
            self._tasks.discard(task)
            if not shiboken6.isValid(self):
                return
            self.session.settings_store.update(lambda s: replace(s, lan_relay=False))
            self.switch.blockSignals(True)
            self.switch.setChecked(False)
            self.switch.blockSignals(False)
            self.switch.setEnabled(True)
            self.timer.stop()
            self.status.setText(
                _("The relay on this network could not start ({reason}). Check that Wi-Fi is on.").format(
                    reason=type(exc).__name__
                )
            )
            self.refresh()

        task = run_in_background(lambda: self.session.set_lan_relay(on), done, failed)
        self._tasks.add(task)

    def _found(self) -> list:
        """Carriers found on this network while the switch is on, and the clinic relay's address if set."""
        relay = getattr(self.session, "lan_relay", None)
        if relay is not None and relay.running:
            return list(relay.peers())
        setting = lan_relay.peer_at(self.session.settings.relay_address or "")
        return [setting] if setting is not None else []

    def refresh(self) -> None:
        peers = self._found()
        chosen = self.selected()
        if [p.url for p in peers] != [p.url for p in self.peers] or not peers:
            self.peers = peers
            self.list.clear()
            for peer in peers:
                item = QListWidgetItem(peer_text(peer))
                item.setData(PEER_ROLE, peer.url)
                self.list.addItem(item)
            for row, peer in enumerate(peers):
                if chosen is not None and peer.url == chosen.url:
                    self.list.setCurrentRow(row)
        self.list.viewport().update()
        self._enable()

    def selected(self) -> Any:
        row = self.list.currentRow()
        return self.peers[row] if 0 <= row < len(self.peers) else None

    def _enable(self) -> None:
        self.hand_button.setEnabled(self.selected() is not None and not self._tasks)

    def _save_address(self) -> None:
        address = self.address.text().strip()
        if address == self.session.settings.relay_address:
            return
        if address and lan_relay.peer_at(address) is None:
            self.status.setText(_("That is not a relay address: write it as http://clinic-pc:8080."))
            return
        self.session.settings_store.update(lambda s: replace(s, relay_address=address))
        self.status.setText(
            _("Saved: files you carry go to the clinic's relay when the internet is out of reach.")
            if address
            else _("No clinic relay.")
        )
        self.refresh()

    def hand(self) -> None:
        peer, session = self.selected(), self.session
        if peer is None:
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

        budget = self.budget() if self.budget is not None else None
        task = run_in_background(lambda: lan_relay.hand_to(session, peer, budget), done, failed)
        self._tasks.add(task)
        self._enable()
