"""Settings → Devices: the computers that use this account (name, "This device", fingerprint, added, last sync),
the account's safety number, "Add a device…" (desktop/ui/link_dialog.py) and "Revoke…" with a confirmation that
names the device. Every call to the server runs on a worker thread."""

from __future__ import annotations

from datetime import timedelta

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QVBoxLayout, QWidget

from desktop.domain.session import Session
from desktop.formatting import format_relative
from desktop.i18n import _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import (
    append_row,
    button,
    date_of_ms,
    explain,
    fit_columns,
    heading,
    mono_font,
    row_list,
    row_texts,
    select_row,
)
from desktop.ui.direction import ltr
from desktop.ui.layout import empty_state
from desktop.ui.worker import Task, run_in_background

DEVICE_ROLE = Qt.ItemDataRole.UserRole + 1  # the device's hex id, on the first column
THIS_ROLE = Qt.ItemDataRole.UserRole + 2  # True on this device's row


def last_sync_text(last_sync_ms: int | None, now_ms: int) -> str:
    if last_sync_ms is None:
        return _("Not yet")
    return format_relative(timedelta(milliseconds=min(0, last_sync_ms - now_ms)))


class DevicesPanel(QWidget):
    """The account's devices. ``load()`` asks the server; ``devices`` is the list last shown (DeviceInfo)."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.devices: list = []
        self._tasks: set[Task] = set()
        self.confirm: QMessageBox | None = None
        self.link_dialog = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading(_("Devices of this account"), 1.1))
        self.model = QStandardItemModel(0, 4, self)
        self.model.setHorizontalHeaderLabels([_("Device"), _("Fingerprint"), _("Added"), _("Last sync")])
        self.table = row_list(self.model, _("Devices of this account"), 90, 200)  # a few computers
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._selection_changed())
        layout.addWidget(self.table)
        empty_state(self.table, _("Choose “Show devices” to list the computers that use this account."))

        safety = QHBoxLayout()
        self.safety_caption = QLabel(_("Safety number of this account:"))
        self.safety_number = QLabel("")
        self.safety_number.setFont(mono_font())
        self.safety_number.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.safety_number.setAccessibleName(_("Safety number of this account"))
        self.safety_number.setAccessibleDescription(
            _("The people you write to see the same number for you; compare it in person to be sure")
        )
        self.safety_number.setWordWrap(True)
        safety.addWidget(self.safety_caption)
        safety.addWidget(self.safety_number, 1)
        layout.addLayout(safety)

        row = QHBoxLayout()
        self.load_button = button(_("Show &devices"), _("Show devices"), self.load)
        self.add_button = button(_("&Add a device…"), _("Add a device"), self.add_device)
        self.add_button.setAccessibleDescription(
            _("Shows a code to type, or a QR code to scan, on your other computer")
        )
        self.revoke_button = button(_("&Revoke…"), _("Revoke the selected device"), self.revoke)
        self.revoke_button.setAccessibleDescription(
            _("The device stops syncing and reads nothing sent from then on; this device cannot be revoked here")
        )
        self.revoke_button.setEnabled(False)
        for widget in (self.load_button, self.add_button, self.revoke_button):
            row.addWidget(widget)
        row.addStretch(1)
        layout.addLayout(row)
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Devices status"))
        layout.addWidget(self.status)
        if session.program.demo:  # the demo's fictional account: one computer, nothing to link
            self.add_button.setEnabled(False)

    # -- listing ------------------------------------------------------------------------------------------

    def _background(self, busy: str, fn, on_done) -> None:  # type: ignore[no-untyped-def]
        self.status.setText(busy)

        def done(result: object) -> None:
            self._tasks.discard(task)
            if shiboken6.isValid(self):  # the list may be gone (locked, language switched) when the answer comes
                self.status.setText("")
                on_done(result)

        def failed(exc: Exception) -> None:
            self._tasks.discard(task)
            if shiboken6.isValid(self):
                self.status.setText(explain(exc))

        task = run_in_background(fn, done, failed)
        self._tasks.add(task)

    def load(self) -> None:
        session = self.session
        self._background(
            _("Asking the server…"), lambda: (session.devices(), session.account_fingerprint()), self._show
        )

    def _show(self, result: tuple[list, str]) -> None:
        devices, safety = result
        self.devices = list(devices)
        self.safety_number.setText(ltr(safety))
        now = self.session.now_ms()
        self.model.removeRows(0, self.model.rowCount())
        for info in self.devices:
            name = info.name
            if info.this:
                name = _("{name} (this device)").format(name=name)
            if info.revoked:
                name = _("{name} (revoked)").format(name=name)
            cells = [
                QStandardItem(name),
                QStandardItem(ltr(info.fingerprint)),
                QStandardItem(date_of_ms(info.created_ms)),
                QStandardItem(_("Revoked") if info.revoked else last_sync_text(info.last_sync_ms, now)),
            ]
            cells[0].setData(info.device, DEVICE_ROLE)
            cells[0].setData(info.this, THIS_ROLE)
            cells[1].setFont(mono_font())
            append_row(self.model, cells)
        fit_columns(self.table)
        self._selection_changed()

    def rows(self) -> list[list[str]]:
        """What the list shows, row by row (tests and screen readers read the same)."""
        return row_texts(self.model)

    def select(self, row: int) -> None:
        select_row(self.table, row)

    def selected(self):  # type: ignore[no-untyped-def]
        rows = self.table.selectionModel().selectedRows()
        return self.devices[rows[0].row()] if rows and rows[0].row() < len(self.devices) else None

    def _selection_changed(self) -> None:
        info = self.selected()
        self.revoke_button.setEnabled(info is not None and not info.this and not info.revoked)
        if info is not None and info.this:
            self.revoke_button.setToolTip(_("This is the computer you are using: revoke it from another device."))
        else:
            self.revoke_button.setToolTip("")

    # -- adding -------------------------------------------------------------------------------------------

    def add_device(self) -> None:
        from desktop.ui.link_dialog import AddDeviceDialog

        self.link_dialog = AddDeviceDialog(self.session, self)
        self.link_dialog.linked.connect(lambda _name: self.load())
        self.link_dialog.open()

    # -- revoking -----------------------------------------------------------------------------------------

    def revoke(self) -> None:
        info = self.selected()
        if info is None:
            self.status.setText(_("Select a device first."))
            return
        if info.this:  # the button is disabled for it; a slip here would lock the person out
            self.status.setText(_("This is the computer you are using: revoke it from another device."))
            return
        name = info.name
        self.confirm = QMessageBox(
            QMessageBox.Icon.Warning,
            _("Revoke “{name}”?").format(name=name),
            _("Revoke “{name}”, added on {date}?").format(name=name, date=date_of_ms(info.created_ms)),
            QMessageBox.StandardButton.Cancel,
            self,
        )
        self.confirm.setInformativeText(
            _(
                "“{name}” stops syncing at once. It will read nothing sent from now on; your conversations move to "
                "new keys, which takes a moment. What it already received stays on it."
            ).format(name=name)
        )
        revoke = self.confirm.addButton(_("&Revoke “{name}”").format(name=name), QMessageBox.ButtonRole.DestructiveRole)
        revoke.setAccessibleName(_("Revoke “{name}”").format(name=name))
        self.confirm.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.confirm.setAccessibleName(_("Revoke “{name}”?").format(name=name))
        device = info.device

        def answered() -> None:
            if self.confirm is not None and self.confirm.clickedButton() is revoke:
                self._revoke_now(device, name)
            else:
                self.status.setText(_("Nothing was revoked."))

        self.confirm.finished.connect(answered)
        self.confirm.open()

    def _revoke_now(self, device: str, name: str) -> None:
        def done(_result: object) -> None:
            self.load()
            self.status.setText(_("“{name}” was revoked. Your conversations moved to new keys.").format(name=name))

        self._background(
            _("Revoking “{name}” and moving your conversations to new keys…").format(name=name),
            lambda: self.session.revoke_device(device),
            done,
        )
