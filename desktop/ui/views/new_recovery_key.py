"""Settings → Recovery key → "Make a new recovery key…": the new key shown (saved, printed), two of its groups
typed back, then put in place on a worker thread (desktop/domain/recovery.py). Offline, it says so, nothing
changed, and the same key can be tried again."""

from __future__ import annotations

import random

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDialog, QFormLayout, QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from desktop.domain.recovery import NewRecoveryKey, RotationProblem, confirm_groups
from desktop.domain.session import Session
from desktop.i18n import _
from desktop.ui.announce import LiveLabel
from desktop.ui.common import ERROR_STYLE, button, explain, heading, line_edit, paragraph
from desktop.ui.views.recovery_key_file import key_font, key_lines, print_key, save_key
from desktop.ui.worker import Task, run_in_background


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
