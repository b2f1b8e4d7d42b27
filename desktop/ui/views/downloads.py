"""The Downloads panel on the Library page: the download manager's queue (desktop/domain/downloads.py) with
each file's bytes and why it waits; Pause, Resume, Up, Down, Cancel, "Download anyway" (past the data budget)
and "Only on an unmetered connection". The manager works on its own thread; its changes reach this panel through
a queued signal, redrawn at most five times a second. ``MeteredWatch`` gives the manager the OS's word on
whether the connection is metered (Qt's ``QNetworkInformation``), "unknown" where the backend cannot tell."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QAbstractItemView, QCheckBox, QTableView, QVBoxLayout, QWidget

from desktop.domain import downloads as dl
from desktop.domain.session import Session
from desktop.formatting import format_bytes
from desktop.i18n import _, ngettext
from desktop.ui.announce import LiveLabel
from desktop.ui.common import button
from desktop.ui.layout import FlowLayout

log = logging.getLogger(__name__)
Index = QModelIndex | QPersistentModelIndex


def status_text(entry: dl.Entry, moving: bool) -> str:
    if moving:
        return _("Downloading")
    if entry.state == dl.OVER_BUDGET:
        return _("Waiting: over your data budget")
    if entry.state == dl.PAUSED:
        return _("Paused")
    if entry.state == dl.DONE:
        return _("Finished")
    if entry.state == dl.FAILED:
        return _("Stopped: the server's copy is damaged. Try again later.")
    return {
        dl.WAIT_UNMETERED: _("Waiting for an unmetered connection"),
        dl.WAIT_UNKNOWN_METERED: _("Waiting: your system cannot tell whether this connection is metered"),
        dl.WAIT_OFFLINE: _("Waiting for the connection"),
    }.get(entry.waiting, _("Queued"))


class MeteredWatch(QObject):
    """The OS's word on the connection's cost: "unmetered", "metered", or "unknown" (no backend, or one that
    cannot tell: treated as metered by the download manager). Read from any thread; changed on the GUI thread."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.state = "unknown"
        try:
            from PySide6.QtNetwork import QNetworkInformation
        except ImportError:  # a Qt built without networking
            return
        feature = QNetworkInformation.Feature.Metered
        if not QNetworkInformation.loadBackendByFeatures(feature) or QNetworkInformation.instance() is None:
            log.info("the OS does not say whether the connection is metered")
            return
        info = QNetworkInformation.instance()
        if not info.supports(feature):
            return
        self._metered(info.isMetered())
        info.isMeteredChanged.connect(self._metered)

    def _metered(self, metered: bool) -> None:
        self.state = "metered" if metered else "unmetered"
        self.changed.emit()


class DownloadsModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.entries: list[dl.Entry] = []
        self.moving: str | None = None

    def set_entries(self, entries: list[dl.Entry], moving: str | None) -> None:
        self.beginResetModel()
        self.entries, self.moving = entries, moving
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else 3

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        return (_("Title"), _("Downloaded"), _("Status"))[section]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self.entries[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return entry
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return None
        done = _("{done} of {total}").format(done=format_bytes(entry.done), total=format_bytes(entry.size))
        return (entry.title, done, status_text(entry, entry.sha256 == self.moving))[index.column()]


class DownloadsPanel(QWidget):
    """The queue, its controls, and a line saying how many downloads wait."""

    changed = Signal()  # from the manager's thread; connected queued to the redraw
    finished = Signal()  # a download finished: the Library redraws its "On this computer"

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.downloads = session.downloads
        self.setAccessibleName(_("Downloads"))
        self.model = DownloadsModel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary = LiveLabel()
        self.summary.setAccessibleName(_("Downloads status"))
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName(_("Downloads"))
        self.table.setTabKeyNavigation(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMinimumHeight(60)
        layout.addWidget(self.table, 1)
        controls = QWidget()
        row = FlowLayout(controls)  # wraps on a narrow window or with large text
        self.pause_button = button(_("&Pause"), _("Pause the download"), self._act(self.downloads.pause))
        self.resume_button = button(_("&Resume"), _("Resume the download"), self._act(self.downloads.resume))
        self.up_button = button(_("Move &up"), _("Download sooner"), self._act(lambda s: self.downloads.move(s, True)))
        self.down_button = button(
            _("Move do&wn"), _("Download later"), self._act(lambda s: self.downloads.move(s, False))
        )
        self.cancel_button = button(_("&Cancel"), _("Cancel the download"), self._act(self.downloads.cancel))
        self.anyway_button = button(
            _("Download &anyway"), _("Download anyway, past the data budget"), self._act(self.downloads.download_anyway)
        )
        self.unmetered = QCheckBox(_("Only on an &unmetered connection"))
        self.unmetered.setAccessibleName(_("Only on an unmetered connection"))
        self.unmetered.toggled.connect(self._unmetered_toggled)
        for widget in (self.pause_button, self.resume_button, self.up_button, self.down_button, self.cancel_button):
            row.addWidget(widget)
        row.addWidget(self.anyway_button)
        row.addWidget(self.unmetered)
        layout.addWidget(controls)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self.refresh)
        self.changed.connect(self._timer.start, Qt.ConnectionType.QueuedConnection)
        self.downloads.on_change = self.changed.emit
        self.metered = MeteredWatch()
        self.downloads.network = lambda: self.metered.state
        self.metered.changed.connect(self.downloads.wake)
        self.table.selectionModel().currentRowChanged.connect(lambda *_a: self._update_buttons())
        self._done: set[str] = set()
        self.refresh()

    def _act(self, action: Any) -> Any:
        def run() -> None:
            entry = self.selected()
            if entry is not None:
                action(entry.sha256)
                self.refresh()

        return run

    def selected(self) -> dl.Entry | None:
        index = self.table.currentIndex()
        return self.model.data(index, Qt.ItemDataRole.UserRole) if index.isValid() else None

    def select(self, sha: str) -> None:
        for row, entry in enumerate(self.model.entries):
            if entry.sha256 == sha:
                self.table.setCurrentIndex(self.model.index(row, 0))
                return

    def refresh(self) -> None:
        if self.session.vault.is_locked:
            return
        chosen = self.selected()
        entries, moving = self.downloads.entries(), self.downloads.current()
        self.model.set_entries(entries, moving)
        if chosen is not None:
            self.select(chosen.sha256)
        waiting = sum(1 for e in entries if e.state in (dl.QUEUED, dl.PAUSED, dl.OVER_BUDGET))
        over = sum(1 for e in entries if e.state == dl.OVER_BUDGET)
        text = ngettext("{n} download waiting", "{n} downloads waiting", waiting).format(n=waiting) if waiting else ""
        if over:
            text += " " + ngettext(
                "{n} would go past your monthly data budget: choose it and “Download anyway”.",
                "{n} would go past your monthly data budget: choose one and “Download anyway”.",
                over,
            ).format(n=over)
        if self.metered.state == "unknown" and any(e.unmetered_only for e in entries if e.state == dl.QUEUED):
            text += " " + _(
                "Your system cannot tell whether this connection is metered, so Osler treats it as metered."
            )
        self.summary.setText(text.strip())
        done = {e.sha256 for e in entries if e.state == dl.DONE}
        if done - self._done:
            self.finished.emit()
        self._done = done
        self._update_buttons()

    def _update_buttons(self) -> None:
        entry = self.selected()
        active = entry is not None and entry.state != dl.DONE
        self.pause_button.setEnabled(active and entry.state in (dl.QUEUED, dl.OVER_BUDGET))  # type: ignore[union-attr]
        self.resume_button.setEnabled(active and entry.state in (dl.PAUSED, dl.FAILED))  # type: ignore[union-attr]
        self.up_button.setEnabled(entry is not None)
        self.down_button.setEnabled(entry is not None)
        self.cancel_button.setEnabled(entry is not None)
        self.anyway_button.setVisible(entry is not None and entry.state == dl.OVER_BUDGET)
        self.unmetered.setEnabled(active)
        self.unmetered.blockSignals(True)
        self.unmetered.setChecked(entry is not None and entry.unmetered_only)
        self.unmetered.blockSignals(False)

    def _unmetered_toggled(self, on: bool) -> None:
        entry = self.selected()
        if entry is not None:
            self.downloads.set_unmetered_only(entry.sha256, on)
            self.downloads.wake()
            self.refresh()
