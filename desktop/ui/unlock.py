"""The unlock screen: passphrase (works offline), or "forgot passphrase" with the recovery key."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QStackedWidget

from desktop.domain.vault_access import Vault, VaultError
from desktop.i18n import _
from desktop.ui.common import Page, button, line_edit, password_field


class UnlockScreen(QStackedWidget):
    """Emits ``unlocked(vault, kdf_seconds)`` once the vault is open."""

    unlocked = Signal(object, float)

    def __init__(self, vault: Vault | None, problem: VaultError | None = None) -> None:
        super().__init__()
        self.vault = vault
        self.setAccessibleName(_("Unlock Osler"))
        self._build_unlock_page()
        self._build_recover_page()
        if problem is not None:
            self.unlock_page.show_error(problem.user_message())
            self.unlock_button.setEnabled(False)
            self.forgot_button.setEnabled(False)

    def _build_unlock_page(self) -> None:
        page = self.unlock_page = Page(_("Unlock Osler"), _("Enter your passphrase. Unlocking works offline."))
        self.passphrase = password_field(_("Passphrase"))
        form = QFormLayout()
        form.addRow(_("&Passphrase:"), self.passphrase)
        page.layout_.addLayout(form)
        self.unlock_button = button(_("&Unlock"), _("Unlock"), self._unlock)
        self.unlock_button.setDefault(True)
        self.passphrase.returnPressed.connect(self._unlock)
        self.forgot_button = button(_("&Forgot your passphrase?"), _("Forgot your passphrase?"), self._forgot)
        self.forgot_button.setFlat(True)
        page.layout_.addWidget(self.unlock_button)
        page.layout_.addWidget(self.forgot_button)
        page.finish_layout()
        self.addWidget(page)

    def _build_recover_page(self) -> None:
        page = self.recover_page = Page(
            _("Use your recovery key"),
            _("Type the recovery key you wrote down when you created your vault, then choose a new passphrase."),
        )
        self.recovery_input = line_edit(_("Recovery key"), "XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX")
        self.reset_passphrase = password_field(_("New passphrase"))
        self.reset_confirm = password_field(_("Repeat the passphrase"))
        form = QFormLayout()
        form.addRow(_("Recovery &key:"), self.recovery_input)
        form.addRow(_("&New passphrase:"), self.reset_passphrase)
        form.addRow(_("&Repeat it:"), self.reset_confirm)
        page.layout_.addLayout(form)
        self.recover_button = button(_("Unlock and &set passphrase"), _("Unlock and set passphrase"), self._recover)
        recovery_fields = (self.recovery_input, self.reset_passphrase, self.reset_confirm)
        for field in recovery_fields:  # Return goes to the next empty field, and submits once all are filled
            field.returnPressed.connect(lambda: self._recovery_return(recovery_fields))
        self.back_button = button(_("&Back"), _("Back"), lambda: self.setCurrentWidget(self.unlock_page))
        page.layout_.addWidget(self.recover_button)
        page.layout_.addWidget(self.back_button)
        page.finish_layout()
        self.addWidget(page)

    def reset(self) -> None:
        """Back to a blank unlock page (after locking)."""
        for field in (self.passphrase, self.recovery_input, self.reset_passphrase, self.reset_confirm):
            field.clear()
        self.unlock_page.show_error("")
        self.setCurrentWidget(self.unlock_page)
        self.passphrase.setFocus()

    def _unlock(self) -> None:
        vault, passphrase = self.vault, self.passphrase.text()
        if vault is None or not self.unlock_button.isEnabled() or not self.unlock_page.isEnabled():
            return
        self.unlock_page.run(_("Unlocking…"), lambda: vault.unlock(passphrase), self._done)

    def _forgot(self) -> None:
        self.setCurrentWidget(self.recover_page)
        self.recovery_input.setFocus()

    def _recovery_return(self, fields: tuple) -> None:  # type: ignore[type-arg]
        empty = next((field for field in fields if not field.text()), None)
        if empty is not None:
            empty.setFocus()
        else:
            self._recover()

    def _recover(self) -> None:
        if self.reset_passphrase.text() != self.reset_confirm.text():
            self.recover_page.show_error(_("The two passphrases differ. Type the same passphrase twice."))
            return
        vault, key, passphrase = self.vault, self.recovery_input.text(), self.reset_passphrase.text()
        if vault is None:
            return
        self.recover_page.run(_("Unlocking…"), lambda: vault.unlock_with_recovery(key, passphrase), self._done)

    def _done(self, timing: object) -> None:
        for field in (self.passphrase, self.recovery_input, self.reset_passphrase, self.reset_confirm):
            field.clear()
        self.unlocked.emit(self.vault, getattr(timing, "kdf_seconds", 0.0))
