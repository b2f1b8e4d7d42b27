"""The bottom of Messages: the message box, the attachment and edit buttons, reply templates, the status line and
Send."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPlainTextEdit, QVBoxLayout, QWidget

from desktop.domain import review
from desktop.domain.session import Session
from desktop.formatting import format_bytes
from desktop.i18n import _
from desktop.ui import file_dialogs
from desktop.ui.announce import LiveLabel
from desktop.ui.common import ERROR_STYLE, button
from desktop.ui.direction import follow_text_direction
from desktop.ui.layout import ElidedLabel, FlowLayout
from desktop.ui.theme import primary
from desktop.ui.views.voice_note import VoiceRecorder


class ComposeBox(QWidget):
    """Writes one message (kept as a draft while typed) with an optional attachment. The actions that need the
    open conversation are signals the Messages view answers."""

    send_wanted = Signal()
    draft_due = Signal()  # typing paused: keep the draft
    download_wanted = Signal()
    save_wanted = Signal()
    edit_wanted = Signal()
    delete_wanted = Signal()

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.pending_attachment: Path | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.compose = QPlainTextEdit()
        self.compose.setAccessibleName(_("Message to send"))
        follow_text_direction(self.compose)  # Arabic typed in an English UI reads from the right, and the reverse
        self.compose.setPlaceholderText(
            _("Write a message. It is kept as a draft and sent when a connection is there.")
        )
        self.compose.setMaximumHeight(110)
        self.compose.setTabChangesFocus(True)
        self.compose.setAccessibleDescription(_("Ctrl+Enter sends; Tab moves on"))
        layout.addWidget(self.compose)
        files = FlowLayout()  # wraps at 200 % instead of widening the window
        self.attach_button = button(_("&Attach a file…"), _("Attach a file"), self._choose_attachment)
        self.attached = ElidedLabel()  # a long file name is elided, whole in the tooltip; on its own line
        self.attached.setAccessibleName(_("Attached file"))
        self.voice_button = button(_("Voice &note…"), _("Show the voice note recorder"), self._toggle_recorder)
        self.recorder = VoiceRecorder()  # hidden until asked for: the Messages view sends what it records
        self.recorder.hide()
        self.download_button = button(_("Do&wnload attachment"), _("Download attachment"), self.download_wanted.emit)
        self.save_button = button(_("Save attachment &as…"), _("Save attachment as"), self.save_wanted.emit)
        self.edit_button = button(_("&Edit"), _("Edit message"), self.edit_wanted.emit)
        self.delete_button = button(_("De&lete"), _("Delete message"), self.delete_wanted.emit)
        layout.addWidget(self.attached)
        for widget in (
            self.attach_button,
            self.voice_button,
            self.download_button,
            self.save_button,
            self.edit_button,
            self.delete_button,
        ):
            files.addWidget(widget)
        layout.addLayout(files)
        layout.addWidget(self.recorder)
        row = QHBoxLayout()
        self.templates = QComboBox()
        self.templates.setAccessibleName(_("Reply templates"))
        self.templates.activated.connect(self._insert_template)
        self.save_template = button(_("Save as &template"), _("Save as template"), self._save_template)
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Messages status"))
        self.send_button = primary(button(_("&Send"), _("Send"), self.send_wanted.emit))
        self.send_button.setToolTip(_("Send (Ctrl+Enter)"))
        row.addWidget(self.templates)
        row.addWidget(self.save_template)
        row.addWidget(self.status, 1)
        row.addWidget(self.send_button)
        layout.addLayout(row)
        self.compose.installEventFilter(self)  # Ctrl+Enter sends: the box's own key, whatever else is focused
        self.draft_timer = QTimer(self)
        self.draft_timer.setSingleShot(True)
        self.draft_timer.setInterval(600)
        self.draft_timer.timeout.connect(self.draft_due)
        self.compose.textChanged.connect(self.draft_timer.start)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.compose and isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress:
            ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
            if ctrl and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.send_wanted.emit()
                return True
        return super().eventFilter(watched, event)

    # -- status line ----------------------------------------------------------------------------------------

    def say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    # -- text -----------------------------------------------------------------------------------------------

    def text(self) -> str:
        return self.compose.toPlainText()

    def set_text(self, text: str) -> None:
        """Replace the text without treating it as typing (no draft save)."""
        self.compose.blockSignals(True)
        self.compose.setPlainText(text)
        self.compose.blockSignals(False)

    def set_enabled(self, enabled: bool) -> None:
        self.compose.setEnabled(enabled)
        self.send_button.setEnabled(enabled)

    def clear(self) -> None:
        self.templates.clear()
        self.set_text("")

    # -- attachments ----------------------------------------------------------------------------------------

    def set_attachment(self, path: Path | None) -> None:
        self.pending_attachment = path
        self.attached.setText(
            _("{name} ({size}) will be sent with the message").format(
                name=path.name, size=format_bytes(path.stat().st_size)
            )
            if path
            else ""
        )

    def _toggle_recorder(self) -> None:
        self.recorder.setVisible(not self.recorder.isVisible())
        if self.recorder.isVisible():
            self.recorder.record_button.setFocus()

    def _choose_attachment(self) -> None:
        name = file_dialogs.open_file(self, _("Attach a file"))
        if name:
            self.set_attachment(Path(name))

    # -- templates ------------------------------------------------------------------------------------------

    def refresh_templates(self) -> None:
        self.templates.blockSignals(True)
        self.templates.clear()
        self.templates.addItem(_("Insert a template…"), "")
        for template in review.templates(self.session.vault):
            self.templates.addItem(template["title"], template["text"])
        self.templates.blockSignals(False)

    def focus_templates(self) -> None:
        self.templates.setFocus()
        self.templates.showPopup()

    def _insert_template(self, index: int) -> None:
        text = self.templates.itemData(index)
        if text:
            self.compose.insertPlainText(text)
            self.compose.setFocus()
        self.templates.setCurrentIndex(0)

    def _save_template(self) -> None:
        text = self.compose.toPlainText().strip()
        if not text:
            self.say(_("Write the template's text in the message box first."))
            return
        title = text.splitlines()[0][:40]
        review.save_template(self.session.vault, title, text)
        self.refresh_templates()
        self.say(_("Saved as template “{title}”.").format(title=title))
