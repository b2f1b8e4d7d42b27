"""The vault window: create a vault (and see the recovery key once), unlock it, recover it, lock it.

Every slow step (KDF calibration, Argon2id) runs on the thread pool; the window stays responsive and says what
it is doing. Errors show the vault's own translated sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import _, format_number, ngettext
from desktop.ui.worker import Task, run_in_background
from desktop.vault import KdfParams, Vault, VaultError, VaultNotFound


def _password_field(accessible_name: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAccessibleName(accessible_name)
    return field


def _button(text: str, accessible_name: str, slot: Callable[[], None]) -> QPushButton:
    button = QPushButton(text)
    button.setAccessibleName(accessible_name)
    button.clicked.connect(slot)
    return button


class _Page(QWidget):
    def __init__(self, title: str, intro: str) -> None:
        super().__init__()
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(32, 24, 32, 24)
        self.title = QLabel(title)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setAccessibleName(title)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.error.setAccessibleName(_("Error"))
        self.error.hide()
        self.status = QLabel()
        self.status.setAccessibleName(_("Status"))
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.intro)

    def finish_layout(self) -> None:
        self.layout_.addWidget(self.error)
        self.layout_.addWidget(self.status)
        self.layout_.addStretch(1)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))


class VaultWindow(QMainWindow):
    """Emits ``unlocked(vault)`` when the person is in, ``locked()`` when they lock."""

    unlocked = Signal(object)
    locked = Signal()

    def __init__(self, vault_dir: Path, kdf_params: KdfParams | None = None) -> None:
        super().__init__()
        self.vault_dir = vault_dir
        self.vault: Vault | None = None
        self._kdf_params = kdf_params
        self._tasks: set[Task] = set()
        self.setWindowTitle(_("Osler"))
        self.resize(560, 460)
        self.pages = QStackedWidget()
        self.setCentralWidget(self.pages)
        self._build_create_page()
        self._build_recovery_page()
        self._build_unlock_page()
        self._build_recover_page()
        self._build_open_page()
        QShortcut(QKeySequence("Ctrl+L"), self, activated=self.lock)
        try:
            self.vault = Vault.open(vault_dir)
        except VaultNotFound:
            self.pages.setCurrentWidget(self.create_page)
        except VaultError as exc:
            self.pages.setCurrentWidget(self.unlock_page)
            self.unlock_page.show_error(exc.user_message())
            self.unlock_button.setEnabled(False)
        else:
            self.pages.setCurrentWidget(self.unlock_page)

    # -- pages --------------------------------------------------------------------------------------------

    def _build_create_page(self) -> None:
        page = self.create_page = _Page(
            _("Create your vault"),
            _(
                "Osler keeps your messages, profile and study material encrypted on this computer. Choose a "
                "passphrase of at least 8 characters: a few unrelated words are easy to remember and hard to guess."
            ),
        )
        self.new_passphrase = _password_field(_("New passphrase"))
        self.confirm_passphrase = _password_field(_("Repeat the passphrase"))
        form = QFormLayout()
        form.addRow(_("&Passphrase:"), self.new_passphrase)
        form.addRow(_("&Repeat it:"), self.confirm_passphrase)
        page.layout_.addLayout(form)
        self.create_button = _button(_("&Create vault"), _("Create vault"), self._create)
        self.create_button.setDefault(True)
        self.confirm_passphrase.returnPressed.connect(self._create)
        page.layout_.addWidget(self.create_button)
        page.finish_layout()
        self.pages.addWidget(page)

    def _build_recovery_page(self) -> None:
        page = self.recovery_page = _Page(
            _("Write down your recovery key"),
            _(
                "If you forget your passphrase, this key is the only way back into your vault. Write it on paper "
                "and keep it somewhere safe. Osler will not show it again."
            ),
        )
        self.recovery_label = QLabel()
        self.recovery_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(mono.pointSizeF() * 1.3)
        mono.setWeight(QFont.Weight.Bold)
        self.recovery_label.setFont(mono)
        self.recovery_label.setAccessibleName(_("Recovery key"))
        page.layout_.addWidget(self.recovery_label)
        self.recovery_confirmed = QCheckBox(_("I have &written down my recovery key"))
        self.recovery_confirmed.setAccessibleName(_("I have written down my recovery key"))
        page.layout_.addWidget(self.recovery_confirmed)
        self.recovery_continue = _button(_("C&ontinue"), _("Continue"), self._recovery_done)
        self.recovery_continue.setEnabled(False)
        self.recovery_confirmed.toggled.connect(self.recovery_continue.setEnabled)
        page.layout_.addWidget(self.recovery_continue)
        page.finish_layout()
        self.pages.addWidget(page)

    def _build_unlock_page(self) -> None:
        page = self.unlock_page = _Page(_("Unlock Osler"), _("Enter your passphrase. Unlocking works offline."))
        self.passphrase = _password_field(_("Passphrase"))
        form = QFormLayout()
        form.addRow(_("&Passphrase:"), self.passphrase)
        page.layout_.addLayout(form)
        self.unlock_button = _button(_("&Unlock"), _("Unlock"), self._unlock)
        self.unlock_button.setDefault(True)
        self.passphrase.returnPressed.connect(self._unlock)
        self.forgot_button = _button(_("&Forgot your passphrase?"), _("Forgot your passphrase?"), self._forgot)
        self.forgot_button.setFlat(True)
        page.layout_.addWidget(self.unlock_button)
        page.layout_.addWidget(self.forgot_button)
        page.finish_layout()
        self.pages.addWidget(page)

    def _build_recover_page(self) -> None:
        page = self.recover_page = _Page(
            _("Use your recovery key"),
            _("Type the recovery key you wrote down when you created your vault, then choose a new passphrase."),
        )
        self.recovery_input = QLineEdit()
        self.recovery_input.setAccessibleName(_("Recovery key"))
        self.recovery_input.setPlaceholderText("XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX")
        self.reset_passphrase = _password_field(_("New passphrase"))
        self.reset_confirm = _password_field(_("Repeat the passphrase"))
        form = QFormLayout()
        form.addRow(_("Recovery &key:"), self.recovery_input)
        form.addRow(_("&New passphrase:"), self.reset_passphrase)
        form.addRow(_("&Repeat it:"), self.reset_confirm)
        page.layout_.addLayout(form)
        self.recover_button = _button(_("Unlock and &set passphrase"), _("Unlock and set passphrase"), self._recover)
        self.back_button = _button(_("&Back"), _("Back"), lambda: self.pages.setCurrentWidget(self.unlock_page))
        page.layout_.addWidget(self.recover_button)
        page.layout_.addWidget(self.back_button)
        page.finish_layout()
        self.pages.addWidget(page)

    def _build_open_page(self) -> None:
        page = self.open_page = _Page(_("Your vault is unlocked"), "")
        self.lock_button = _button(_("&Lock now"), _("Lock now"), self.lock)
        page.layout_.addWidget(self.lock_button)
        page.finish_layout()
        self.pages.addWidget(page)

    # -- actions ------------------------------------------------------------------------------------------

    def _run(self, page: _Page, busy_text: str, fn: Callable[[], Any], on_done: Callable[[Any], None]) -> None:
        page.show_error("")
        page.status.setText(busy_text)
        page.setEnabled(False)

        def finished(result: Any) -> None:
            self._tasks.discard(task)
            page.setEnabled(True)
            page.status.setText("")
            on_done(result)

        def failed(exc: Exception) -> None:
            self._tasks.discard(task)
            page.setEnabled(True)
            page.status.setText("")
            page.show_error(
                exc.user_message()
                if isinstance(exc, VaultError)
                else _("Something went wrong: {error}").format(error=type(exc).__name__)
            )

        task = run_in_background(fn, finished, failed)
        self._tasks.add(task)

    def _passphrases(self, page: _Page, first: QLineEdit, second: QLineEdit) -> str | None:
        if first.text() != second.text():
            page.show_error(_("The two passphrases differ. Type the same passphrase twice."))
            return None
        return first.text()

    def _create(self) -> None:
        passphrase = self._passphrases(self.create_page, self.new_passphrase, self.confirm_passphrase)
        if passphrase is None:
            return
        params = self._kdf_params

        def created(result: tuple[Vault, str]) -> None:
            self.vault, key = result
            self.new_passphrase.clear()
            self.confirm_passphrase.clear()
            self.recovery_label.setText(key)
            self.pages.setCurrentWidget(self.recovery_page)

        self._run(
            self.create_page,
            _("Protecting your vault… this takes a moment."),
            lambda: Vault.create(self.vault_dir, passphrase, params=params),
            created,
        )

    def _recovery_done(self) -> None:
        self.recovery_label.clear()
        self._show_open()

    def _unlock(self) -> None:
        vault, passphrase = self.vault, self.passphrase.text()
        if vault is None or not self.unlock_button.isEnabled():
            return
        self._run(self.unlock_page, _("Unlocking…"), lambda: vault.unlock(passphrase), lambda _t: self._show_open())

    def _forgot(self) -> None:
        self.pages.setCurrentWidget(self.recover_page)
        self.recovery_input.setFocus()

    def _recover(self) -> None:
        passphrase = self._passphrases(self.recover_page, self.reset_passphrase, self.reset_confirm)
        vault, key = self.vault, self.recovery_input.text()
        if passphrase is None or vault is None:
            return
        self._run(
            self.recover_page,
            _("Unlocking…"),
            lambda: vault.unlock_with_recovery(key, passphrase),
            lambda _r: self._show_open(),
        )

    def _show_open(self) -> None:
        for field in (self.passphrase, self.recovery_input, self.reset_passphrase, self.reset_confirm):
            field.clear()
        assert self.vault is not None
        count = self.vault.message_count()
        self.open_page.intro.setText(
            ngettext(
                "{count} message is stored in your vault. Press Ctrl+L to lock it at any time.",
                "{count} messages are stored in your vault. Press Ctrl+L to lock it at any time.",
                count,
            ).format(count=format_number(count))
        )
        self.pages.setCurrentWidget(self.open_page)
        self.unlocked.emit(self.vault)

    def lock(self) -> None:
        if self.vault is None or self.vault.is_locked:
            return
        self.vault.lock()
        self.open_page.intro.clear()
        self.pages.setCurrentWidget(self.unlock_page)
        self.passphrase.setFocus()
        self.locked.emit()

    def closeEvent(self, event: Any) -> None:
        if self.vault is not None:
            self.vault.close()
        super().closeEvent(event)
