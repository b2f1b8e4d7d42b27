"""Sync status a person can trust: online or offline, when the last sync succeeded, what is still queued,
progress while syncing, "Sync now", and the last error in plain words with what to do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from desktop.formatting import format_bytes, format_number, format_percent, format_relative
from desktop.i18n import _, ngettext
from desktop.ui.announce import announce
from desktop.ui.common import button, error_label
from sync.client.errors import (
    AuthFailed,
    DeviceRevoked,
    IncompatibleServer,
    InsecureServerURL,
    InviteInvalid,
    Offline,
    ServerBusy,
    SyncError,
    WrongServer,
)
from sync.clock import SYSTEM, Clock

if TYPE_CHECKING:
    from sync.client.scheduler import SyncStatus


def sync_error_sentence(error: SyncError) -> str:
    """What happened and what to do, in the person's language."""
    from sync.client.transport import RecordsRefused

    sentences: list[tuple[type[SyncError], str]] = [
        (
            Offline,
            _(
                "Offline: the server could not be reached. Your work is saved and will be sent when a "
                "connection returns."
            ),
        ),
        (ServerBusy, _("The server is busy. Osler will try again shortly.")),
        (InsecureServerURL, _("The server address uses plain http, which is not safe. Use the https address.")),
        (WrongServer, _("That address does not lead to an Osler server. Check the address your programme gave you.")),
        (IncompatibleServer, _("The server runs a different version of Osler. Update Osler to keep syncing.")),
        (
            DeviceRevoked,
            _("This device was removed from your programme. Ask your programme for a new invite to reconnect it."),
        ),
        (AuthFailed, _("The server did not accept this device's sign-in. Ask your programme for help.")),
        (InviteInvalid, _("That invite code is unknown or was already used. Ask your programme for a new one.")),
        (RecordsRefused, _("The server refused some items; they are kept on this computer and marked as not sent.")),
    ]
    for kind, sentence in sentences:
        if isinstance(error, kind):
            return sentence
    return _("Syncing failed ({reason}). Osler will try again.").format(reason=error.code)


class SyncBridge(QObject):
    """Carries the scheduler's callbacks (sync thread) to the GUI thread as signals."""

    status = Signal(object)
    changed = Signal(object)

    def on_status(self, status: SyncStatus) -> None:
        self.status.emit(status)

    def on_change(self, kinds: set[str]) -> None:
        self.changed.emit(kinds)


class SyncStatusBar(QWidget):
    sync_now = Signal()
    carry_wanted = Signal()  # "Without internet…": Settings → Sync without the internet

    def __init__(self) -> None:
        super().__init__()
        self.clock: Clock = SYSTEM  # the session's, set by the app: "last sync 5 min ago" is told against it
        # what waits in the outbox now, set by the app while a session runs: a status computed on the sync thread
        # a moment before a message was written must not say "Everything sent" after it
        self.queued_now: Callable[[], int] | None = None
        self.setAccessibleName(_("Sync status"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        self.state = QLabel()
        self.state.setAccessibleName(_("Connection"))
        self.last_sync = QLabel()
        self.last_sync.setAccessibleName(_("Last sync"))
        self.queued = QLabel()
        self.queued.setAccessibleName(_("Waiting to be sent"))
        self.progress = QProgressBar()
        self.progress.setAccessibleName(_("Sync progress"))
        self.progress.setRange(0, 0)
        self.progress.setMinimumWidth(self.fontMetrics().averageCharWidth() * 24)
        self.progress.setMaximumWidth(self.fontMetrics().averageCharWidth() * 48)
        self.progress.hide()
        self.error = error_label(_("Sync problem"))
        self.sync_button = button(_("&Sync now"), _("Sync now"), self.sync_now.emit)
        self.sync_button.setToolTip(_("Sync now (F5)"))
        self.carry_button = button(_("&Without internet…"), _("Sync without the internet"), self.carry_wanted.emit)
        self.carry_button.setToolTip(_("Export a file for someone to carry, or import one"))
        self.carry_button.hide()  # shown while offline
        for widget in (self.state, self.last_sync, self.queued, self.progress):
            layout.addWidget(widget)
        layout.addWidget(self.error, 1)
        layout.addWidget(self.carry_button)
        layout.addWidget(self.sync_button)
        self.status: SyncStatus | None = None
        self._refresh = QTimer(self)
        self._refresh.setInterval(30_000)
        self._refresh.timeout.connect(self._render)
        self._refresh.start()
        self._render()

    def retranslate(self) -> None:
        """The bar outlives the main screen: after a language switch its words are set again."""
        for widget, name in (
            (self, _("Sync status")),
            (self.state, _("Connection")),
            (self.last_sync, _("Last sync")),
            (self.queued, _("Waiting to be sent")),
            (self.progress, _("Sync progress")),
            (self.error, _("Sync problem")),
            (self.sync_button, _("Sync now")),
            (self.carry_button, _("Sync without the internet")),
        ):
            widget.setAccessibleName(name)
        self.sync_button.setText(_("&Sync now"))
        self.sync_button.setToolTip(_("Sync now (F5)"))
        self.carry_button.setText(_("&Without internet…"))
        self.carry_button.setToolTip(_("Export a file for someone to carry, or import one"))
        self._render()

    def show_status(self, status: SyncStatus) -> None:
        was = self.status.online if self.status is not None else None
        self.status = status
        self._render()
        if status.online is not None and status.online != was and not status.syncing:
            announce(self, self.state.text())  # going offline or coming back is said, not only shown

    def _render_progress(self, s: SyncStatus) -> None:
        """Items and bytes, with a real percentage whenever the total is known: an attachment by its bytes, a
        sync by its records (the server says how many still wait)."""
        p = s.progress
        moving_blob = p is not None and p.blob_total > 0
        if p is None or not (s.syncing or moving_blob):
            self.progress.hide()
            return
        fraction = p.fraction
        if moving_blob:
            text = _("Attachment: {done} of {total}").format(
                done=format_bytes(p.blob_done), total=format_bytes(p.blob_total)
            )
        elif p.items_total:
            text = _("{done} of {total} items, {bytes}").format(
                done=format_number(p.records_up + p.records_down),
                total=format_number(p.items_total),
                bytes=format_bytes(p.bytes_up + p.bytes_down),
            )
        else:
            text = _("{up} sent, {down} received, {bytes}").format(
                up=format_number(p.records_up),
                down=format_number(p.records_down),
                bytes=format_bytes(p.bytes_up + p.bytes_down),
            )
        if fraction is None:
            self.progress.setRange(0, 0)  # a total not known yet: the bar moves without a figure
            self.progress.setFormat(text)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(fraction * 1000))
            self.progress.setFormat(_("{percent} · {what}").format(percent=format_percent(fraction), what=text))
        self.progress.setToolTip(self.progress.format())
        self.progress.setAccessibleDescription(self.progress.format())
        self.progress.setTextVisible(True)
        self.progress.show()

    def _render(self) -> None:
        s = self.status
        if s is None:
            self.state.setText(_("Not synced yet"))
            self.last_sync.setText(_("Never synced"))
            self.queued.setText("")
            return
        if s.syncing and s.back_online:
            self.state.setText(
                ngettext(
                    "Back online: sending {count} message", "Back online: sending {count} messages", s.queued
                ).format(count=s.queued)
                if s.queued
                else _("Back online: syncing…")
            )
        elif s.syncing:
            self.state.setText(_("Syncing…"))
        elif s.online is None:
            self.state.setText(_("Not synced yet"))
        elif isinstance(s.last_error, DeviceRevoked | AuthFailed):
            self.state.setText(_("Disconnected"))  # the server answers, but no longer to this device
        else:
            self.state.setText(_("Online") if s.online else _("Offline"))
        if s.last_success is None:
            self.last_sync.setText(_("Never synced"))
        else:
            ago = format_relative(timedelta(seconds=min(0.0, s.last_success - self.clock.time())))
            self.last_sync.setText(_("Last sync {when}").format(when=ago))
        queued = s.queued
        if self.queued_now is not None:
            try:
                queued = self.queued_now()
            except Exception:  # the vault was locked under us: the status's own figure will do
                queued = s.queued
        self.queued.setText(
            ngettext("{count} item waiting to be sent", "{count} items waiting to be sent", queued).format(count=queued)
            if queued
            else _("Everything sent")
        )
        self._render_progress(s)
        if s.last_error is not None:
            self.error.setText(sync_error_sentence(s.last_error))
            self.error.show()
        else:
            self.error.hide()
        self.sync_button.setEnabled(not s.syncing)
        self.carry_button.setVisible(s.online is False and not s.syncing)
