"""The recovery key after onboarding: Settings' "Recovery key" block (when it was last checked, "Check my recovery
key…", "Make a new recovery key…" with save and print) and Home's one gentle reminder.

"Make a new recovery key…" is its own dialog (new_recovery_key.py), built on the helpers here (the key in
groups, saved as a text file, printed).
"""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.recovery import InvalidRecoveryKey, key_text
from desktop.domain.session import Session
from desktop.formatting import format_relative
from desktop.i18n import _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import ERROR_STYLE, button, heading, line_edit, paragraph
from desktop.ui.views.new_recovery_key import NewKeyDialog
from desktop.ui.views.recovery_key_file import key_font, print_key, save_key


def checked_text(checked_ms: int | None, now_ms: int) -> str:
    if checked_ms is None:
        return _("You have not checked your recovery key on this computer yet.")
    when = format_relative(timedelta(milliseconds=min(0, checked_ms - now_ms)))
    return _("Recovery key last checked: {when}.").format(when=when)


class RecoveryKeyPanel(QWidget):
    """Settings → Recovery key."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.dialog: QDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading(_("Recovery key"), 1.1))
        layout.addWidget(
            paragraph(
                _(
                    "Your recovery key gets you back into your account on a new computer if this one is lost, and "
                    "opens Osler here if you forget your passphrase."
                )
            )
        )
        self.checked = QLabel()
        self.checked.setWordWrap(True)
        self.checked.setAccessibleName(_("When you last checked your recovery key"))
        layout.addWidget(self.checked)
        row = QHBoxLayout()
        self.check_button = button(_("C&heck my recovery key…"), _("Check my recovery key"), self.open_check)
        self.new_button = button(_("Make a new recovery &key…"), _("Make a new recovery key"), self.open_new_key)
        self.new_button.setAccessibleDescription(_("Your current key stops working once the new one is in place"))
        row.addWidget(self.check_button)
        row.addWidget(self.new_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.refresh()

    def refresh(self) -> None:
        self.checked.setText(checked_text(self.session.recovery_checked_ms(), self.session.now_ms()))

    def showEvent(self, event: object) -> None:
        self.refresh()
        super().showEvent(event)

    def open_check(self) -> None:
        self.dialog = CheckKeyDialog(self.session, self)
        self.dialog.finished.connect(lambda _r: self.refresh())
        self.dialog.open()

    def open_new_key(self) -> None:

        self.dialog = NewKeyDialog(self.session, self)
        self.dialog.finished.connect(lambda _r: self.refresh())
        self.dialog.open()


class CheckKeyDialog(QDialog):
    """Type the key: says whether it is the current one; changes nothing (a right one counts as checked)."""

    checked = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle(_("Check your recovery key"))
        self.setAccessibleName(_("Check your recovery key"))
        layout = QVBoxLayout(self)
        layout.addWidget(paragraph(_("Type the recovery key you wrote down. Nothing is changed.")))
        self.key = line_edit(_("Recovery key"), "XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX")
        self.key.setFont(key_font(1.0))
        form = QFormLayout()
        form.addRow(_("Recovery &key:"), self.key)
        layout.addLayout(form)
        self.result = LiveLabel()
        self.result.setWordWrap(True)
        self.result.setAccessibleName(_("Result"))
        layout.addWidget(self.result)
        again = QHBoxLayout()  # a key checked right may be saved or printed again
        self.save_button = button(_("&Save as text file…"), _("Save as text file"), self.save)
        self.print_button = button(_("&Print…"), _("Print"), self.print_key)
        again.addWidget(self.save_button)
        again.addWidget(self.print_button)
        again.addStretch(1)
        layout.addLayout(again)
        self._right: str | None = None
        self._show_again(None)
        row = QHBoxLayout()
        self.check_button = button(_("C&heck"), _("Check"), self.check)
        self.check_button.setDefault(True)
        self.close_button = button(_("&Close"), _("Close"), self.accept)
        row.addStretch(1)
        row.addWidget(self.check_button)
        row.addWidget(self.close_button)
        layout.addLayout(row)
        self.key.returnPressed.connect(self.check)

    def showEvent(self, event: object) -> None:
        super().showEvent(event)
        self.key.setFocus()

    def check(self) -> None:
        self._show_again(None)
        try:
            right = self.session.check_recovery_key(self.key.text())
        except InvalidRecoveryKey as exc:
            self._say(exc.user_message(), ok=False)
            return
        if right:
            self._say(_("That is your recovery key. Keep it safe."), ok=True)
            self._show_again(key_text(self.key.text()))
            self.checked.emit()
        else:
            self._say(
                _(
                    "That is not your current recovery key. If you made a new key, type the newest one; if you "
                    "cannot find it, make a new key now while you still can."
                ),
                ok=False,
            )

    def _say(self, text: str, ok: bool) -> None:
        self.result.setStyleSheet("" if ok else ERROR_STYLE)
        self.result.setText(text)

    def _show_again(self, text: str | None) -> None:
        self._right = text
        self.save_button.setVisible(text is not None)
        self.print_button.setVisible(text is not None)

    def save(self) -> None:
        if self._right is not None:
            save_key(self, self._right, self.result)

    def print_key(self) -> None:
        if self._right is not None:
            print_key(self, self._right, self.result)

    def done(self, result: int) -> None:
        self._show_again(None)  # the typed key is not kept once the dialog closes
        self.key.clear()
        super().done(result)


class RecoveryReminder(QFrame):
    """Home's one gentle reminder, 30 days after the key was last shown or checked; gone for good once the
    person dismisses it or checks the key."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.dialog: CheckKeyDialog | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(_("Recovery key reminder"))
        layout = QVBoxLayout(self)
        self.text = paragraph(
            _(
                "It has been a while since you looked at your recovery key. Is it still where you put it? "
                "Checking it takes a minute, and it is your way back in if this computer is lost."
            )
        )
        layout.addWidget(self.text)
        row = QHBoxLayout()
        self.check_button = button(_("Check my recovery &key…"), _("Check my recovery key"), self.open_check)
        self.dismiss_button = button(_("&Don't remind me again"), _("Don't remind me again"), self.dismiss)
        row.addWidget(self.check_button)
        row.addWidget(self.dismiss_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.refresh()

    def refresh(self) -> None:
        self.setVisible(self.session.recovery_reminder_due())

    def open_check(self) -> None:
        self.dialog = CheckKeyDialog(self.session, self)
        self.dialog.finished.connect(lambda _r: self.refresh())
        self.dialog.open()

    def dismiss(self) -> None:
        self.session.dismiss_recovery_reminder()
        self.refresh()
