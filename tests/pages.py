"""Page objects: tests speak of what a person does ("unlock with ..."), not of widget internals."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.ui.vault_window import VaultWindow


class VaultWindowPage:
    def __init__(self, qtbot, window: VaultWindow) -> None:
        self.qtbot, self.window = qtbot, window

    @property
    def current(self):
        return self.window.pages.currentWidget()

    def error(self) -> str:
        page = self.current
        return "" if page.error.isHidden() else page.error.text()

    def _type(self, field, text: str) -> None:
        field.clear()
        self.qtbot.keyClicks(field, text)

    def _wait_idle(self, page) -> None:
        self.qtbot.waitUntil(lambda: page.isEnabled(), timeout=20_000)

    def create(self, passphrase: str, repeat: str | None = None) -> None:
        w = self.window
        self._type(w.new_passphrase, passphrase)
        self._type(w.confirm_passphrase, passphrase if repeat is None else repeat)
        self.qtbot.keyClick(w.confirm_passphrase, Qt.Key.Key_Return)
        self._wait_idle(w.create_page)

    def recovery_key_shown(self) -> str:
        return self.window.recovery_label.text()

    def confirm_recovery_key_written(self) -> None:
        w = self.window
        assert not w.recovery_continue.isEnabled()
        self.qtbot.keyClick(w.recovery_confirmed, Qt.Key.Key_Space)
        assert w.recovery_continue.isEnabled()
        self.qtbot.keyClick(w.recovery_continue, Qt.Key.Key_Space)

    def unlock(self, passphrase: str) -> None:
        w = self.window
        self._type(w.passphrase, passphrase)
        self.qtbot.keyClick(w.passphrase, Qt.Key.Key_Return)
        self._wait_idle(w.unlock_page)

    def lock_with_keyboard(self) -> None:
        self.qtbot.keyClick(self.window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)

    def recover(self, recovery_key: str, new_passphrase: str) -> None:
        w = self.window
        self.qtbot.mouseClick(w.forgot_button, Qt.MouseButton.LeftButton)
        self._type(w.recovery_input, recovery_key)
        self._type(w.reset_passphrase, new_passphrase)
        self._type(w.reset_confirm, new_passphrase)
        self.qtbot.mouseClick(w.recover_button, Qt.MouseButton.LeftButton)
        self._wait_idle(w.recover_page)
