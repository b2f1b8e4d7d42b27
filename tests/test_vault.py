"""The vault as its owner meets it: create, unlock, lock, recovery, passphrase change, bad files."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import sys
from pathlib import Path

import pytest

from desktop import i18n
from desktop.vault import (
    ExcessiveKdfParameters,
    InvalidRecoveryKey,
    KdfParams,
    StoredMessage,
    Vault,
    VaultCorrupt,
    VaultExists,
    VaultLocked,
    VaultNotFound,
    WeakKdfParameters,
    WeakPassphrase,
    WrongPassphrase,
)
from tests.conftest import PASSPHRASE, snapshot


def _messages(n: int, thread: str = "t1") -> list[StoredMessage]:
    return [
        StoredMessage(f"m{i:05d}", thread, "acct-a", 1_700_000_000_000 + i, "received", f"body {i} ✓") for i in range(n)
    ]


def test_messages_and_profiles_survive_lock_and_reopen(vault: Vault, vault_dir: Path):
    vault.messages.put_many(_messages(120))
    vault.messages.put(StoredMessage("x1", "t2", "acct-b", 1_800_000_000_000, "queued", "مرحبا — newest"))
    vault.put_profile("acct-a", {"name": "Amina", "specialty": "Paediatrics"}, updated_at=5)
    vault.lock()

    reopened = Vault.open(vault_dir)
    reopened.unlock(PASSPHRASE)
    newest = reopened.messages.newest(3)
    assert [m.id for m in newest] == ["x1", "m00119", "m00118"]
    assert newest[0].body == "مرحبا — newest"
    assert [m.id for m in reopened.messages.newest(10, thread_id="t2")] == ["x1"]
    assert [m.body for m in reopened.messages.iter_all(batch=7)] == [f"body {i} ✓" for i in range(120)] + [
        "مرحبا — newest"
    ]
    assert reopened.get_profile("acct-a") == {"name": "Amina", "specialty": "Paediatrics"}
    assert reopened.get_profile("nobody") is None
    reopened.messages.set_state("x1", "sent")
    assert reopened.messages.get("x1").state == "sent"
    reopened.close()


def test_nothing_readable_is_stored_in_plaintext(vault: Vault, vault_dir: Path):
    secret = "patient presented with haemoptysis CANARY-4711"
    vault.messages.put(StoredMessage("m1", "t1", "acct-a", 1, "queued", secret))
    vault.put_profile("acct-a", {"bio": "CANARY-PROFILE-0815"}, updated_at=1)
    vault.lock()
    raw = b"".join(p.read_bytes() for p in vault_dir.iterdir())
    assert b"CANARY-4711" not in raw and b"CANARY-PROFILE-0815" not in raw
    assert PASSPHRASE.encode() not in raw


def test_wrong_passphrase_is_refused_and_changes_nothing(created, vault_dir: Path):
    vault, _ = created
    vault.messages.put_many(_messages(3))
    vault.lock()
    before = snapshot(vault_dir)
    reopened = Vault.open(vault_dir)
    with pytest.raises(WrongPassphrase) as caught:
        reopened.unlock("correct horse battery stapler")
    assert "passphrase does not unlock" in caught.value.user_message()
    assert reopened.is_locked
    assert snapshot(vault_dir) == before
    reopened.unlock(PASSPHRASE)
    assert len(reopened.messages.newest(10)) == 3
    reopened.close()


def test_lock_drops_keys_and_decrypted_cache(vault: Vault):
    vault.messages.put_many(_messages(20))
    assert len(vault.messages.newest(20)) == 20
    assert vault.cached_plaintexts > 0
    vault.lock()
    assert vault.is_locked and vault.cached_plaintexts == 0
    for call in (lambda: vault.messages.newest(1), lambda: vault.messages.put_many(_messages(1)), vault.messages.count):
        with pytest.raises(VaultLocked):
            call()


def test_recovery_key_unlocks_and_sets_a_new_passphrase(created, vault_dir: Path):
    vault, recovery_key = created
    vault.messages.put_many(_messages(2))
    vault.lock()
    assert len(recovery_key.replace("-", "")) == 36 and recovery_key.count("-") == 8

    reopened = Vault.open(vault_dir)
    reopened.unlock_with_recovery(recovery_key.lower().replace("-", " "), "a brand new passphrase")
    assert len(reopened.messages.newest(5)) == 2
    reopened.lock()
    with pytest.raises(WrongPassphrase):
        reopened.unlock(PASSPHRASE)
    reopened.unlock("a brand new passphrase")
    reopened.close()


def test_recovery_key_typos_are_told_apart_from_foreign_keys(created, vault_dir: Path, tmp_path: Path):
    vault, recovery_key = created
    vault.lock()
    before = snapshot(vault_dir)
    typo = ("X" if recovery_key[0] != "X" else "Y") + recovery_key[1:]
    with pytest.raises(InvalidRecoveryKey) as caught:
        Vault.open(vault_dir).unlock_with_recovery(typo, "another passphrase")
    assert caught.value.typo
    other, other_key = Vault.create(tmp_path / "other", PASSPHRASE, params=KdfParams.floor())
    other.close()
    with pytest.raises(InvalidRecoveryKey) as caught:
        Vault.open(vault_dir).unlock_with_recovery(other_key, "another passphrase")
    assert not caught.value.typo
    assert snapshot(vault_dir) == before


def test_change_passphrase(created, vault_dir: Path):
    vault, _ = created
    vault.messages.put_many(_messages(1))
    before = snapshot(vault_dir)
    with pytest.raises(WrongPassphrase):
        vault.change_passphrase("not the passphrase", "whatever new one")
    assert snapshot(vault_dir) == before
    vault.change_passphrase(PASSPHRASE, "the second passphrase")
    vault.lock()
    reopened = Vault.open(vault_dir)
    with pytest.raises(WrongPassphrase):
        reopened.unlock(PASSPHRASE)
    reopened.unlock("the second passphrase")
    assert reopened.messages.count() == 1
    reopened.close()


def test_short_passphrases_are_refused(vault_dir: Path):
    with pytest.raises(WeakPassphrase):
        Vault.create(vault_dir, "  short ", params=KdfParams.floor())
    assert not vault_dir.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_vault_files_are_owner_only(vault: Vault, vault_dir: Path):
    vault.messages.put_many(_messages(1))
    assert stat.S_IMODE(vault_dir.stat().st_mode) == 0o700
    for path in vault_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_missing_vault_is_reported_and_nothing_is_created(tmp_path: Path):
    with pytest.raises(VaultNotFound):
        Vault.open(tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()


def test_missing_database_is_reported_never_replaced(created, vault_dir: Path):
    vault, _ = created
    vault.close()
    (vault_dir / "vault.db").unlink()
    with pytest.raises(VaultCorrupt) as caught:
        Vault.open(vault_dir)
    assert "vault.db" in caught.value.user_message()
    assert not (vault_dir / "vault.db").exists()
    with pytest.raises(VaultExists):
        Vault.create(vault_dir, PASSPHRASE, params=KdfParams.floor())


def test_missing_key_file_is_reported(created, vault_dir: Path):
    created[0].close()
    (vault_dir / "vault.key").unlink()
    with pytest.raises(VaultCorrupt, match=r"vault\.key"):
        Vault.open(vault_dir)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_database_is_reported_and_left_as_is(created, vault_dir: Path, damage: str):
    vault, _ = created
    vault.messages.put_many(_messages(200))
    vault.close()
    for leftover in ("vault.db-wal", "vault.db-shm"):
        assert not (vault_dir / leftover).exists()
    db = vault_dir / "vault.db"
    data = db.read_bytes()
    db.write_bytes({"garbage": os.urandom(len(data)), "truncated": data[:1000], "empty": b""}[damage])
    before = snapshot(vault_dir)
    reopened = Vault.open(vault_dir)
    with pytest.raises(VaultCorrupt):
        reopened.unlock(PASSPHRASE)
    assert reopened.is_locked
    assert snapshot(vault_dir) == before


@pytest.mark.parametrize("cut", [0, 10, 200])
def test_corrupt_key_file_is_reported(created, vault_dir: Path, cut: int):
    created[0].close()
    key = vault_dir / "vault.key"
    key.write_bytes(key.read_bytes()[:cut])
    with pytest.raises(VaultCorrupt, match="key file"):
        Vault.open(vault_dir)


def test_database_of_another_vault_is_refused(created, vault_dir: Path, tmp_path: Path):
    created[0].close()
    other, _ = Vault.create(tmp_path / "other", PASSPHRASE, params=KdfParams.floor())
    other.close()
    (vault_dir / "vault.db").write_bytes((tmp_path / "other" / "vault.db").read_bytes())
    with pytest.raises(VaultCorrupt, match="different vault"):
        Vault.open(vault_dir).unlock(PASSPHRASE)


@pytest.mark.parametrize(
    ("name", "value"), [("memory_kib", 32 * 1024), ("iterations", 2), ("lanes", 1), ("memory_kib", 1)]
)
def test_weak_kdf_header_is_refused_before_use(created, vault_dir: Path, name: str, value: int):
    created[0].close()
    key = vault_dir / "vault.key"
    doc = json.loads(key.read_text())
    doc["kdf"][name] = value
    key.write_text(json.dumps(doc))
    with pytest.raises(WeakKdfParameters) as caught:
        Vault.open(vault_dir)
    assert name.split("_")[0] in str(caught.value)


def test_raising_kdf_parameters_in_the_header_breaks_the_binding(created, vault_dir: Path):
    created[0].close()
    key = vault_dir / "vault.key"
    doc = json.loads(key.read_text())
    doc["kdf"]["iterations"] += 1
    key.write_text(json.dumps(doc))
    with pytest.raises(WrongPassphrase):
        Vault.open(vault_dir).unlock(PASSPHRASE)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"memory_kib": 4 * 1024 * 1024, "iterations": 64}, "memory"),  # minutes per unlock, more RAM than most have
        ({"memory_kib": 1 << 40}, "memory"),
        ({"memory_kib": 1024 * 1024 + 1}, "memory"),
        ({"iterations": 64}, "iterations"),
        ({"iterations": 11}, "iterations"),
        ({"lanes": 17}, "lanes"),
    ],
)
def test_costly_kdf_parameters_are_refused_before_the_kdf_runs(created, vault_dir: Path, changes, named):
    """A key file may not ask for more than 1 GiB, 10 passes, 16 lanes: refused at open(), which never runs
    the KDF (this test would otherwise take minutes), with a sentence saying what to do."""
    created[0].close()
    key = vault_dir / "vault.key"
    doc = json.loads(key.read_text())
    doc["kdf"].update(changes)
    key.write_text(json.dumps(doc))
    with pytest.raises(ExcessiveKdfParameters) as caught:
        Vault.open(vault_dir)
    assert named in str(caught.value) and "backup" in caught.value.user_message()
    assert isinstance(caught.value, VaultCorrupt)


def test_the_kdf_ceiling_itself_is_accepted_and_creation_refuses_more(created, vault_dir: Path, tmp_path: Path):
    created[0].close()
    key = vault_dir / "vault.key"
    doc = json.loads(key.read_text())
    doc["kdf"].update({"memory_kib": 1024 * 1024, "iterations": 10, "lanes": 16})
    key.write_text(json.dumps(doc))
    assert Vault.open(vault_dir).kdf_params == KdfParams(1024 * 1024, 10, 16)  # opened; not unlocked (~15 s)
    with pytest.raises(ValueError, match="ceiling"):
        Vault.create(tmp_path / "other", PASSPHRASE, params=KdfParams(64 * 1024, 11, 4))


def test_interrupted_creation_is_finished_on_open(created, vault_dir: Path):
    """Creation writes the key file, then renames the database into place; a cut between the two heals."""
    vault, _ = created
    vault.messages.put_many(_messages(4))
    vault.close()
    os.replace(vault_dir / "vault.db", vault_dir / "vault.db.new")
    reopened = Vault.open(vault_dir)
    reopened.unlock(PASSPHRASE)
    assert reopened.messages.count() == 4
    reopened.close()


def test_database_runs_wal_with_full_sync(vault: Vault, vault_dir: Path):
    vault.messages.put_many(_messages(1))
    conn = sqlite3.connect(vault_dir / "vault.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert vault._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_errors_speak_the_users_language(created, vault_dir: Path):
    created[0].close()
    i18n.set_locale("fr")
    with pytest.raises(WrongPassphrase) as caught:
        Vault.open(vault_dir).unlock("definitely not it")
    assert "phrase secrète" in caught.value.user_message()


def test_default_creation_calibrates_at_or_above_the_floor(vault_dir: Path):
    vault, _ = Vault.create(vault_dir, PASSPHRASE)
    vault.close()
    doc = json.loads((vault_dir / "vault.key").read_text())["kdf"]
    floor = KdfParams.floor()
    assert doc["memory_kib"] >= floor.memory_kib and doc["iterations"] >= floor.iterations
    assert doc["lanes"] >= floor.lanes
    Vault.open(vault_dir).unlock(PASSPHRASE)
