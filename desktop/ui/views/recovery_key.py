"""The recovery key after onboarding: Settings' "Recovery key" block (when it was last checked, "Check my recovery
key…", "Make a new recovery key…" with save and print) and Home's one gentle reminder.

Making a new key shows it first, asks for two of its groups back (as onboarding does), and only then puts it in
place (desktop/domain/recovery.py: server, this vault, the other devices), on a worker thread. Offline, the
dialog says so and nothing changed; the same key can be tried again.
"""

from __future__ import annotations

import html
import os
import random
from collections.abc import Callable
from datetime import timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase, QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.recovery import InvalidRecoveryKey, NewRecoveryKey, RotationProblem, confirm_groups, key_text
from desktop.domain.session import Session
from desktop.formatting import format_relative
from desktop.i18n import _
from desktop.ui import file_dialogs
from desktop.ui.announce import LiveLabel
from desktop.ui.common import ERROR_STYLE, button, explain, heading, line_edit, paragraph
from desktop.ui.direction import isolated
from desktop.ui.worker import Task, run_in_background

SUGGESTED_FILE = "osler-recovery-key.txt"

# Tests (and nothing else) set this to stand in for the OS's print dialog: (parent) -> a QPrinter or None.
print_answer: Callable[[QWidget], object | None] | None = None


def key_font(scale: float = 1.3) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setWeight(QFont.Weight.Bold)
    return font


def key_lines(text: str) -> str:
    """The key in two lines of groups (5 + 4), left to right in every UI language."""
    groups = text.split("-")
    return "\n".join(isolated(" ".join(part), rtl=False) for part in (groups[:5], groups[5:]))


def checked_text(checked_ms: int | None, now_ms: int) -> str:
    if checked_ms is None:
        return _("You have not checked your recovery key on this computer yet.")
    when = format_relative(timedelta(milliseconds=min(0, checked_ms - now_ms)))
    return _("Recovery key last checked: {when}.").format(when=when)


def key_file_text(text: str) -> str:
    return "\n".join(
        [
            _("Osler recovery key"),
            "",
            text,
            "",
            _(
                "With this key you can get back into your account on a new computer, and open Osler here if you "
                "forget your passphrase. Keep it somewhere safe, away from this computer. Anyone who has it can "
                "restore your account."
            ),
            "",
        ]
    )


def save_key(parent: QWidget, text: str, status: QLabel) -> None:
    """ "Save as text file…": the key and what it is for, owner-only, where the person chooses."""
    path = file_dialogs.save_file(parent, _("Save your recovery key"), SUGGESTED_FILE)
    if not path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key_file_text(text).encode("utf-8"))
    except OSError as exc:
        status.setText(_("The file could not be saved ({reason}).").format(reason=exc.strerror))
        return
    status.setText(_("Saved to {path}. Keep that file away from this computer.").format(path=path))


def print_key(parent: QWidget, text: str, status: QLabel) -> None:
    """ "Print…": the OS's print dialog, then one page with the key in large monospace and what it is for."""
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter

    if print_answer is not None:
        printer = print_answer(parent)
    else:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if QPrintDialog(printer, parent).exec() != QDialog.DialogCode.Accepted:
            printer = None
    if printer is None:
        return
    document = QTextDocument()
    paragraphs = key_file_text(text).strip().split("\n\n")
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs[2:])
    document.setHtml(
        f"<h2>{html.escape(paragraphs[0])}</h2>"
        f"<p style='font-family: monospace; font-size: 16pt; font-weight: bold'>{html.escape(text)}</p>"
        f"{body}"
    )
    document.print_(printer)
    status.setText(_("Sent to the printer."))


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


class NewKeyDialog(QDialog):
    """Show a new key, have two groups typed back, then put it in place. Pages: ``show``, ``confirm``, ``done``."""

    def __init__(self, session: Session, parent: QWidget | None = None, rng: random.Random | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.made: NewRecoveryKey | None = session.new_recovery_key()
        count = len(self.made.groups)
        self.positions = tuple(sorted((rng or random.SystemRandom()).sample(range(count), 2)))
        self._task: Task | None = None
        self.applied = False
        self.setWindowTitle(_("Make a new recovery key"))
        self.setAccessibleName(_("Make a new recovery key"))
        layout = QVBoxLayout(self)
        self.pages = QStackedWidget()
        layout.addWidget(self.pages)
        self.pages.addWidget(self._show_page())
        self.pages.addWidget(self._confirm_page())
        self.pages.addWidget(self._done_page())
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(_("Status"))
        layout.addWidget(self.status)

    def showEvent(self, event: object) -> None:
        super().showEvent(event)
        self._go(self.pages.currentIndex())

    # -- page 1: the key ------------------------------------------------------------------------------------------

    def _show_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(heading(_("Your new recovery key"), 1.2))
        layout.addWidget(
            paragraph(
                _(
                    "Write it down and keep it somewhere safe, away from this computer. Your current key keeps "
                    "working until you have confirmed this one."
                )
            )
        )
        assert self.made is not None
        self.key_label = QLabel(key_lines(self.made.text))
        self.key_label.setFont(key_font())
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.setAccessibleName(_("Recovery key"))
        self.key_label.setAccessibleDescription(self.made.text)
        layout.addWidget(self.key_label)
        keep = QHBoxLayout()
        self.save_button = button(_("&Save as text file…"), _("Save as text file"), self.save)
        self.print_button = button(_("&Print…"), _("Print"), self.print_key)
        keep.addWidget(self.save_button)
        keep.addWidget(self.print_button)
        keep.addStretch(1)
        layout.addLayout(keep)
        self.written = QCheckBox(_("I have &written down my recovery key"))
        self.written.setAccessibleName(_("I have written down my recovery key"))
        layout.addWidget(self.written)
        row = QHBoxLayout()
        self.continue_button = button(_("C&ontinue"), _("Continue"), lambda: self._go(1))
        self.continue_button.setEnabled(False)
        self.written.toggled.connect(self.continue_button.setEnabled)
        self.cancel_button = button(_("Cancel"), _("Cancel"), self.reject)
        row.addStretch(1)
        row.addWidget(self.continue_button)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        return page

    def save(self) -> None:
        assert self.made is not None
        save_key(self, self.made.text, self.status)

    def print_key(self) -> None:
        assert self.made is not None
        print_key(self, self.made.text, self.status)

    # -- page 2: two groups back ----------------------------------------------------------------------------------

    def _confirm_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        first, second = (i + 1 for i in self.positions)
        layout.addWidget(heading(_("Check your recovery key"), 1.2))
        layout.addWidget(
            paragraph(
                _("Type group {first} and group {second} of the key you wrote down.").format(first=first, second=second)
            )
        )
        self.group_first = line_edit(_("Group {number}").format(number=first), "XXXX")
        self.group_second = line_edit(_("Group {number}").format(number=second), "XXXX")
        form = QFormLayout()
        form.addRow(_("Group {number}:").format(number=first), self.group_first)
        form.addRow(_("Group {number}:").format(number=second), self.group_second)
        layout.addLayout(form)
        self.group_second.returnPressed.connect(self.confirm)
        row = QHBoxLayout()
        self.back_button = button(_("&Back"), _("Back"), lambda: self._go(0))
        self.confirm_button = button(_("C&onfirm"), _("Confirm"), self.confirm)
        self.confirm_button.setDefault(True)
        self.cancel_confirm = button(_("Cancel"), _("Cancel"), self.reject)
        row.addWidget(self.back_button)
        row.addStretch(1)
        row.addWidget(self.confirm_button)
        row.addWidget(self.cancel_confirm)
        layout.addLayout(row)
        return page

    def confirm(self) -> None:
        assert self.made is not None
        if self._task is not None:
            return
        if not confirm_groups(self.made, self.positions, self.group_first.text(), self.group_second.text()):
            self._error(_("Those groups do not match the key shown. Check what you wrote down."))
            return
        self._busy(True)
        self.status.setStyleSheet("")
        self.status.setText(_("Putting your new recovery key in place…"))
        made, session = self.made, self.session
        self._task = run_in_background(lambda: session.apply_recovery_key(made), self._applied, self._failed)

    def _applied(self, _result: object) -> None:
        self._task = None
        self.applied = True
        self.made = None  # shown, confirmed, in place: not kept any longer
        self.status.setText("")
        self._go(2)

    def _failed(self, exc: Exception) -> None:
        self._task = None
        self._busy(False)
        self._error(str(exc) if isinstance(exc, RotationProblem) else explain(exc))
        self.confirm_button.setText(_("Try &again"))
        self.confirm_button.setAccessibleName(_("Try again"))

    # -- page 3: done ---------------------------------------------------------------------------------------------

    def _done_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(heading(_("Your new recovery key is in place"), 1.2))
        self.done_text = paragraph(
            _("Your old recovery key no longer works. Your other devices switch to the new key when they next sync.")
        )
        layout.addWidget(self.done_text)
        row = QHBoxLayout()
        row.addStretch(1)
        self.done_button = button(_("&Close"), _("Close"), self.accept)
        row.addWidget(self.done_button)
        layout.addLayout(row)
        return page

    # -- helpers --------------------------------------------------------------------------------------------------

    def _go(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        self.status.setText("")
        focus = {0: self.written, 1: self.group_first, 2: self.done_button}[index]
        focus.setFocus()

    def _busy(self, busy: bool) -> None:
        for widget in (self.confirm_button, self.back_button, self.cancel_confirm, self.group_first, self.group_second):
            widget.setEnabled(not busy)

    def _error(self, text: str) -> None:
        self.status.setStyleSheet(ERROR_STYLE)
        self.status.setText(text)

    def reject(self) -> None:
        if self._task is not None:  # being put in place: wait for the answer, never leave it half known
            return
        self.made = None
        super().reject()


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
