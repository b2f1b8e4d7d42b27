"""A copy of the vault does not tell whether it holds a known file: blob rows are keyed by a keyed hash, never
by the SHA-256 of the plaintext, in new vaults and in vaults upgraded from the schema that stored it in clear."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from desktop.vault import KdfParams, Vault
from desktop.vault import schema as vault_schema
from tests.conftest import PASSPHRASE

SCAN = b"%PDF-1.4 chest x-ray report, right lower lobe consolidation\n" * 3000  # a "known file", > 2 chunks


def _every_byte(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())


def _traces(folder: Path, data: bytes) -> list[str]:
    """Where the file's plaintext SHA-256 can be read off the vault folder (database, log, key file)."""
    digest = hashlib.sha256(data)
    everything = _every_byte(folder)
    found = []
    for name, needle in [
        ("hex", digest.hexdigest().encode()),
        ("HEX", digest.hexdigest().upper().encode()),
        ("raw", digest.digest()),
    ]:
        if needle in everything:
            found.append(name)
    return found


def test_a_stored_attachment_leaves_no_plaintext_hash_in_the_vault_files(vault: Vault, vault_dir: Path, tmp_path):
    info = vault.blobs.put_bytes(SCAN, "xray-report.pdf", "application/pdf")
    source = tmp_path / "discharge.txt"
    source.write_bytes(b"discharge summary\n" * 5000)
    imported = vault.blobs.import_file(source)
    assert info.id == hashlib.sha256(SCAN).hexdigest(), "callers still name a blob by its hash"
    assert vault.blobs.read_all(info.id) == SCAN and vault.blobs.read_all(imported.id) == source.read_bytes()
    assert _traces(vault_dir, SCAN) == [], "while open (database and write-ahead log)"
    assert _traces(vault_dir, source.read_bytes()) == []
    vault.close()
    assert _traces(vault_dir, SCAN) == [], "after closing"
    reopened = Vault.open(vault_dir)
    reopened.unlock(PASSPHRASE)
    assert reopened.blobs.read_all(info.id) == SCAN
    reopened.blobs.delete(info.id)
    reopened.close()


def test_an_older_vault_is_rekeyed_on_unlock_and_the_clear_hashes_are_gone(vault_dir: Path):
    vault, _ = Vault.create(vault_dir, PASSPHRASE, params=KdfParams.floor(), schema_version=3)
    sha = vault.blobs.put_bytes(SCAN, "xray-report.pdf").id  # schema 3 keyed rows by this hash, in clear
    vault.close()
    assert "hex" in _traces(vault_dir, SCAN), "the defect: an older vault shows which file it holds"

    upgraded = Vault.open(vault_dir)
    upgraded.unlock(PASSPHRASE)
    conn = sqlite3.connect(vault_dir / "vault.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == vault_schema.LATEST
    conn.close()
    assert upgraded.blobs.info(sha).complete and upgraded.blobs.read_all(sha) == SCAN
    assert _traces(vault_dir, SCAN) == [], "re-keyed rows leave no old copy in the database or its log"
    upgraded.close()
    assert _traces(vault_dir, SCAN) == []
