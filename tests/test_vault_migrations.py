"""Every earlier schema version upgrades to the latest on unlock, keeping what it held; a failed step leaves
the vault at its old version with its data intact."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from desktop.vault import KdfParams, StoredMessage, Vault, VaultCorrupt
from desktop.vault import schema as vault_schema
from tests.conftest import PASSPHRASE


def _schema_version(vault_dir: Path) -> int:
    conn = sqlite3.connect(vault_dir / "vault.db")
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def _seed(vault: Vault) -> None:
    """What every version since 1 could store: messages, a profile, a blob."""
    vault.messages.put_many(
        [StoredMessage(f"m{i}", "thread", "acct", 1000 + i, "received", f"message {i}") for i in range(25)]
    )
    vault.put_profile("acct", {"name": "Kwame"}, updated_at=1)
    data = b"lecture notes" * 1000
    vault.blobs.begin("notes", len(data), hashlib.sha256(data).hexdigest(), name="notes.txt")
    vault.blobs.put_chunk("notes", 0, data)


@pytest.mark.parametrize("start", range(1, vault_schema.LATEST))
def test_every_earlier_version_upgrades_on_unlock(vault_dir: Path, start: int):
    vault, _ = Vault.create(vault_dir, PASSPHRASE, params=KdfParams.floor(), schema_version=start)
    _seed(vault)
    vault.close()
    assert _schema_version(vault_dir) == start

    upgraded = Vault.open(vault_dir)
    upgraded.unlock(PASSPHRASE)
    assert _schema_version(vault_dir) == vault_schema.LATEST
    assert [m.body for m in upgraded.messages.newest(2)] == ["message 24", "message 23"]
    assert upgraded.get_profile("acct") == {"name": "Kwame"}
    assert upgraded.blobs.read_all("notes") == b"lecture notes" * 1000
    upgraded.close()


def test_fresh_vault_is_at_the_latest_version(vault: Vault, vault_dir: Path):
    assert _schema_version(vault_dir) == vault_schema.LATEST


def test_failed_migration_rolls_back_and_keeps_the_data(vault_dir: Path):
    vault, _ = Vault.create(vault_dir, PASSPHRASE, params=KdfParams.floor(), schema_version=1)
    _seed(vault)
    vault.close()
    conn = sqlite3.connect(vault_dir / "vault.db")
    conn.execute("CREATE TABLE sync_cursors (x)")  # makes step 2 fail half way, after it created `records`
    conn.commit()
    conn.close()
    with pytest.raises(VaultCorrupt):
        Vault.open(vault_dir).unlock(PASSPHRASE)
    assert _schema_version(vault_dir) == 1
    conn = sqlite3.connect(vault_dir / "vault.db")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert "records" not in tables and "messages" in tables


def test_vault_from_a_newer_osler_is_refused(vault: Vault, vault_dir: Path):
    vault.close()
    conn = sqlite3.connect(vault_dir / "vault.db")
    conn.execute(f"PRAGMA user_version = {vault_schema.LATEST + 1}")
    conn.close()
    from desktop.vault import VaultTooNew

    with pytest.raises(VaultTooNew) as caught:
        Vault.open(vault_dir).unlock(PASSPHRASE)
    assert "newer version" in caught.value.user_message()
