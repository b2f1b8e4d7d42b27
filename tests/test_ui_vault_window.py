"""The vault window driven as a person would, offscreen: create, note the key, lock, unlock, recover."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractButton, QLineEdit

from desktop import i18n
from desktop.ui.vault_window import VaultWindow
from desktop.vault import KdfParams, Vault
from tests.conftest import PASSPHRASE
from tests.pages import VaultWindowPage


@pytest.fixture
def page(qtbot, vault_dir: Path) -> VaultWindowPage:
    window = VaultWindow(vault_dir, kdf_params=KdfParams.floor())
    qtbot.addWidget(window)
    window.show()
    return VaultWindowPage(qtbot, window)


def test_first_run_create_then_lock_and_unlock(page: VaultWindowPage, vault_dir: Path):
    w = page.window
    assert page.current is w.create_page
    page.create(PASSPHRASE, repeat=PASSPHRASE + "x")
    assert "differ" in page.error() and not vault_dir.exists()
    page.create("short", repeat="short")
    assert "at least 8" in page.error() and not (vault_dir / "vault.key").exists()

    page.create(PASSPHRASE)
    assert page.current is w.recovery_page
    key = page.recovery_key_shown()
    assert len(key) == 44 and key.count("-") == 8
    page.confirm_recovery_key_written()
    assert page.current is w.open_page and page.recovery_key_shown() == ""

    page.lock_with_keyboard()
    assert page.current is w.unlock_page and w.vault.is_locked
    page.unlock("not my passphrase")
    assert "does not unlock" in page.error() and w.vault.is_locked
    page.unlock(PASSPHRASE)
    assert page.current is w.open_page and not w.vault.is_locked
    assert w.passphrase.text() == ""


def test_forgotten_passphrase_with_recovery_key(qtbot, vault_dir: Path):
    vault, key = Vault.create(vault_dir, PASSPHRASE, params=KdfParams.floor())
    vault.close()
    window = VaultWindow(vault_dir)
    qtbot.addWidget(window)
    window.show()
    page = VaultWindowPage(qtbot, window)
    assert page.current is window.unlock_page
    page.recover(key[:-1] + ("0" if key[-1] != "0" else "1"), "my new passphrase")
    assert "typing mistake" in page.error()
    page.recover(key, "my new passphrase")
    assert page.current is window.open_page
    window.lock()
    page.unlock("my new passphrase")
    assert page.current is window.open_page


def test_damaged_vault_is_reported_in_the_window(qtbot, vault_dir: Path):
    vault, _ = Vault.create(vault_dir, PASSPHRASE, params=KdfParams.floor())
    vault.close()
    (vault_dir / "vault.key").write_text("{not json")
    window = VaultWindow(vault_dir)
    qtbot.addWidget(window)
    window.show()
    page = VaultWindowPage(qtbot, window)
    assert "damaged" in page.error() and not window.unlock_button.isEnabled()
    assert (vault_dir / "vault.key").read_text() == "{not json"


def test_every_control_has_an_accessible_name(page: VaultWindowPage):
    controls = page.window.findChildren(QAbstractButton) + page.window.findChildren(QLineEdit)
    assert controls
    assert [c for c in controls if not c.accessibleName()] == []


def test_window_speaks_french(qtbot, vault_dir: Path):
    i18n.set_locale("fr")
    window = VaultWindow(vault_dir, kdf_params=KdfParams.floor())
    qtbot.addWidget(window)
    assert window.create_page.title.text() == "Créez votre coffre"
