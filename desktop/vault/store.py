"""The vault: one folder holding ``vault.key`` (how to get the data key) and ``vault.db`` (SQLite, WAL,
``synchronous=FULL``, sealed fields). The only way the rest of Osler reads or writes local data.

Lifecycle: ``Vault.create()`` returns an unlocked vault and the recovery key to show once (or none, when the person
already has one for their account); ``Vault.open()``
validates the files and returns a locked vault; ``unlock()`` works offline; ``lock()`` closes the database and
drops every key and decrypted cache this object holds.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from desktop.vault import kdf, keyfile, recovery, schema
from desktop.vault.blobs import BlobStore
from desktop.vault.cipher import BlobIdKey, ChunkCipher, FieldCipher
from desktop.vault.circle_events import CircleEventStore
from desktop.vault.errors import (
    VaultCorrupt,
    VaultDamaged,
    VaultExists,
    VaultIntegrityError,
    VaultLocked,
    VaultNotFound,
    WeakPassphrase,
)
from desktop.vault.faults import crash_point
from desktop.vault.fsutil import OWNER_ONLY_FILE, fsync_dir, make_private_dir, remove_stale_temp_files
from desktop.vault.keyfile import KeyFile
from desktop.vault.messages import MessageStore
from desktop.vault.records import RecordStore
from desktop.vault.recovery_slot import PUBLICS_ROW, RecoverySlot, publics_for_new_vault, seal_publics
from desktop.vault.threads import ThreadStore

KEY_FILE = "vault.key"
DB_FILE = "vault.db"
DB_CREATING = "vault.db.new"
MIN_PASSPHRASE_CHARS = 8


@dataclass(frozen=True)
class UnlockTiming:
    kdf_seconds: float
    open_seconds: float


class _Keys:
    """What an unlocked vault holds in memory; dropped whole on lock."""

    def __init__(self, data_key: bytes) -> None:
        self.data_key = data_key  # to re-seal the recovery slot (recovery_slot.py)
        self.fields = FieldCipher(data_key)
        self.chunks = ChunkCipher(data_key)
        self.blob_ids = BlobIdKey(data_key)
        self.blob_row = self.blob_ids.local  # how blob rows are keyed; see _attach


class Vault(RecoverySlot):
    def __init__(self, folder: Path, header: KeyFile) -> None:
        self.folder = folder
        self._header = header
        self._lock = _GuardedLock(self.folder / DB_FILE)
        self._db: Database | None = None
        self._keys: _Keys | None = None
        self.blobs = BlobStore(self)
        self.records = RecordStore(self)
        self.messages = MessageStore(self)
        self.threads = ThreadStore(self)
        self.circle_events = CircleEventStore(self)

    # -- creating and opening ------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        folder: Path,
        passphrase: str,
        *,
        params: kdf.KdfParams | None = None,
        schema_version: int = schema.LATEST,
        recovery_public: bytes | tuple[bytes, bytes] | None = None,
        key_version: int = keyfile.VERSION,
    ) -> tuple[Vault, str | None]:
        """Make a new vault in ``folder``; returns it unlocked with the recovery key text to show once.

        ``recovery_public``: ``None`` makes a new recovery key (its text is returned, its public halves kept);
        the ``(auth_public, box_public)`` pair of the person's existing key (a restore, or a linked device that
        already knows it) seals the slot to that key and returns no text. A bare ``box_public`` does the same,
        but ``recovery_publics()`` stays ``None`` until ``reseal_recovery`` names both halves.

        ``params`` defaults to a calibration on this machine (about 0.75 s). ``schema_version`` below the latest
        makes a vault as an older Osler would have, for migration tests; the next ``unlock()`` upgrades it;
        ``key_version=1`` likewise writes the key file as Osler did before recovery slots were sealed.

        Crash-safe: the database is built under a temporary name, the key file is written atomically, and only
        then is the database renamed into place; ``open()`` finishes a rename that a crash interrupted.
        """
        folder = Path(folder)
        _check_new_passphrase(passphrase)
        if (folder / KEY_FILE).exists() or (folder / DB_FILE).exists():
            raise VaultExists(folder)
        params = params or kdf.calibrate()
        if params.weakness():
            raise ValueError(f"KDF parameters below the floor: {params.weakness()}")
        if params.excess():
            raise ValueError(f"KDF parameters above the ceiling: {params.excess()}")
        auth_public, box_public, text = publics_for_new_vault(recovery_public)
        make_private_dir(folder)
        data_key = os.urandom(kdf.KEY_BYTES)
        if key_version == 1:
            raw = recovery.generate()
            header = KeyFile.new_v1(passphrase, raw, data_key, params)
            auth_public, text = None, recovery.format_key(raw)
        else:
            header = KeyFile.new(passphrase, box_public, data_key, params)

        building = folder / DB_CREATING
        with contextlib.suppress(FileNotFoundError):
            building.unlink()
        os.close(os.open(building, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE))
        vault = cls(folder, header)
        keys = _Keys(data_key)
        db = vault._connect(building)
        try:
            schema.migrate(db, building, keys.blob_ids.local, target=schema_version)
            with db.atomic():
                db["meta"].insert_all(
                    [
                        {"key": "vault_id", "value": header.vault_id.encode()},
                        {"key": "key_check", "value": keys.fields.seal("meta", "key_check", "value", b"ok")},
                    ]
                )
                if auth_public is not None:
                    db["meta"].insert({"key": PUBLICS_ROW, "value": seal_publics(keys.fields, auth_public, box_public)})
        finally:
            db.close()
        header.save(folder / KEY_FILE)
        os.replace(building, folder / DB_FILE)
        fsync_dir(folder)
        vault._attach(keys)
        return vault, text

    @classmethod
    def open(cls, folder: Path) -> Vault:
        """Validate the vault files in ``folder`` and return the vault, locked. Never creates anything."""
        folder = Path(folder)
        key_path, db_path = folder / KEY_FILE, folder / DB_FILE
        if not key_path.exists():
            if db_path.exists():
                raise VaultCorrupt(folder, f"the key file {KEY_FILE} is missing")
            raise VaultNotFound(folder)
        if not db_path.exists() and (folder / DB_CREATING).exists():
            os.replace(folder / DB_CREATING, db_path)  # finish a creation cut after its key file landed
            fsync_dir(folder)
        if not db_path.exists():
            raise VaultCorrupt(folder, f"the database {DB_FILE} is missing")
        remove_stale_temp_files(folder, KEY_FILE)
        return cls(folder, KeyFile.load(key_path))

    # -- keys ---------------------------------------------------------------------------------------------

    @property
    def is_locked(self) -> bool:
        return self._keys is None

    @property
    def vault_id(self) -> str:
        return self._header.vault_id

    @property
    def kdf_params(self) -> kdf.KdfParams:
        return self._header.params

    def unlock(self, passphrase: str) -> UnlockTiming:
        """Unlock offline. A wrong passphrase raises ``WrongPassphrase`` and touches nothing on disk."""
        with self._lock:
            self.lock()
            started = time.perf_counter()
            header = KeyFile.load(self.folder / KEY_FILE)
            data_key = header.unwrap_with_passphrase(passphrase)
            derived = time.perf_counter()
            self._header = header
            self._open_database(_Keys(data_key))
            return UnlockTiming(derived - started, time.perf_counter() - derived)

    def unlock_with_recovery(self, recovery_text: str, new_passphrase: str) -> None:
        """ "Forgot passphrase": the recovery key unlocks and a new passphrase replaces the old one. Opens both
        slot versions (keyfile.py); the slot is kept as it is."""
        _check_new_passphrase(new_passphrase)
        key = recovery.parse_key(recovery_text)
        with self._lock:
            self.lock()
            header = KeyFile.load(self.folder / KEY_FILE)
            data_key = header.unwrap_with_recovery(key)
            self._open_database(_Keys(data_key))
            self._header = header.with_passphrase(new_passphrase, data_key, header.params)
            self._header.save(self.folder / KEY_FILE)

    def change_passphrase(self, old: str, new: str) -> None:
        """Re-wrap the data key under ``new``. Killed at any instant, the vault opens with ``old`` or ``new``."""
        _check_new_passphrase(new)
        with self._lock:
            header = KeyFile.load(self.folder / KEY_FILE)
            data_key = header.unwrap_with_passphrase(old)
            self._header = header.with_passphrase(new, data_key, header.params)
            self._header.save(self.folder / KEY_FILE)

    def lock(self) -> None:
        """Close the database and drop the keys and every decrypted cache."""
        with self._lock:
            self._keys = None
            self.messages.forget()
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = None

    def close(self) -> None:
        self.lock()

    # -- database -----------------------------------------------------------------------------------------

    def _connect(self, path: Path) -> Database:
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, check_same_thread=False)
            db = Database(conn, execute_plugins=False)
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA secure_delete=ON")  # what is deleted or rewritten leaves no old bytes behind
        except sqlite3.DatabaseError as exc:
            raise VaultCorrupt(path, f"the database cannot be read ({exc})") from None
        if mode != "wal":
            db.close()
            raise VaultCorrupt(path, "the database refused write-ahead logging")
        return db

    def _open_database(self, keys: _Keys) -> None:
        path = self.folder / DB_FILE
        _check_sqlite_file(path)
        db = self._connect(path)
        try:
            _check_integrity(db, path)
            if schema.version(db) >= 1:
                rows = {r["key"]: r["value"] for r in db.query("SELECT key, value FROM meta")}
                if rows.get("vault_id") != self._header.vault_id.encode():
                    raise VaultCorrupt(path, "the database belongs to a different vault")
                try:
                    keys.fields.open("meta", "key_check", "value", rows.get("key_check", b""))
                except VaultIntegrityError:
                    raise VaultCorrupt(path, "the database does not match the key file") from None
            else:
                raise VaultCorrupt(path, "the database is empty")
            schema.migrate(db, path, keys.blob_ids.local)
        except sqlite3.DatabaseError as exc:
            _close_leaving_no_trace(db, path)
            raise VaultDamaged(path, f"the database cannot be read ({exc})") from None
        except BaseException:
            _close_leaving_no_trace(db, path)
            raise
        self._db = db
        self._attach(keys)

    def _attach(self, keys: _Keys) -> None:
        if self._db is None:
            self._db = self._connect(self.folder / DB_FILE)
        if schema.version(self._db) < schema.KEYED_BLOB_IDS:  # a vault made as an older Osler made it (tests)
            keys.blob_row = _same_id
        self._keys = keys

    def _session(self) -> tuple[Database, _Keys]:
        if self._keys is None or self._db is None:
            raise VaultLocked()
        return self._db, self._keys

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Make every vault write inside the block one local transaction: all of them land, or (an exception, a
        crash, a power cut) none does. Blocks nest: an inner one joins the outer transaction as a savepoint, so an
        exception caught inside undoes only the inner block's writes. Other threads wait for the block to end,
        so nothing they write slips into it."""
        with self._lock:
            db, _keys = self._session()
            outermost = not db.conn.in_transaction
            with db.atomic():
                yield
                if outermost:
                    crash_point("vault:commit")

    # -- small secrets (device keys, tokens) ---------------------------------------------------------------------

    def put_secret(self, name: str, value: bytes) -> None:
        """Keep a small secret (a device's private key) sealed in the vault."""
        with self._lock:
            db, keys = self._session()
            sealed = keys.fields.seal("meta", f"secret:{name}", "value", value)
            with db.atomic():
                db["meta"].upsert({"key": f"secret:{name}", "value": sealed}, pk="key")

    def delete_secret(self, name: str) -> None:
        with self._lock:
            db, _keys = self._session()
            with db.atomic():
                db.execute("DELETE FROM meta WHERE key = ?", [f"secret:{name}"])

    def get_secret(self, name: str) -> bytes | None:
        with self._lock:
            db, keys = self._session()
            row = db.execute("SELECT value FROM meta WHERE key = ?", [f"secret:{name}"]).fetchone()
            return None if row is None else keys.fields.open("meta", f"secret:{name}", "value", row[0])

    # -- profiles ------------------------------------------------------------------------------------------

    def put_profile(self, account_id: str, fields: dict[str, Any], updated_at: int) -> None:
        with self._lock:
            db, keys = self._session()
            sealed = keys.fields.seal("profiles", account_id, "body", _json(fields))
            with db.atomic():
                db["profiles"].upsert({"id": account_id, "updated_at": updated_at, "body": sealed}, pk="id")

    def get_profile(self, account_id: str) -> dict[str, Any] | None:
        with self._lock:
            db, keys = self._session()
            row = db.execute("SELECT body FROM profiles WHERE id = ?", [account_id]).fetchone()
            if row is None:
                return None
            return json.loads(keys.fields.open("profiles", account_id, "body", row[0]))

    @property
    def cached_plaintexts(self) -> int:
        """How many decrypted items this object holds in memory (0 once locked)."""
        return self.messages.cached


class _GuardedLock:
    """The vault's re-entrant lock, which also names damage SQLite finds while the vault is open: a
    ``sqlite3.DatabaseError`` as such ("database disk image is malformed", "file is not a database") leaves
    every vault method as ``VaultDamaged``. Its subclasses (a constraint, a locked file, a full disk) are not
    damage and pass through."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.RLock()
        self._path = path

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> _GuardedLock:
        self._lock.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _tb: object) -> None:
        self._lock.release()
        if kind is sqlite3.DatabaseError:
            raise VaultDamaged(self._path, f"the database cannot be read ({error})") from None


def _check_integrity(db: Database, path: Path) -> None:
    """Refuse a damaged database at unlock instead of showing part of it.

    ``PRAGMA integrity_check``, not ``quick_check``: a flipped bit inside an index entry passes ``quick_check``
    (it skips comparing indexes with their tables) yet hides rows from every query that uses the index, as the
    outbox's did. The full check reads the file once and costs ~15 ms for a 10,000-message vault (see
    tests/benchmarks/bench_vault.py)."""
    rows = db.execute("PRAGMA integrity_check(3)").fetchall()
    if [tuple(r) for r in rows] != [("ok",)]:
        found = "; ".join(str(r[0]) for r in rows)[:300]
        raise VaultDamaged(path, f"the integrity check failed: {found}")


def _check_sqlite_file(path: Path) -> None:
    """Refuse a file that cannot be a whole SQLite database before SQLite touches it."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise VaultCorrupt(path, f"the database cannot be read ({exc.strerror})") from None
    if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
        raise VaultCorrupt(path, "the database is not an SQLite file")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    page_count = int.from_bytes(header[28:32], "big")
    # A checkpoint copies pages from the write-ahead log in page order, page 1 (with the new page count) first:
    # killed half way, the file is shorter than its header says while the log still holds the rest, and SQLite
    # finishes the checkpoint on open. Only without a log is a short file truncated (integrity_check sees more).
    wal = path.with_name(path.name + "-wal")
    log_holds_pages = wal.exists() and wal.stat().st_size > 0
    short = page_count and size < page_count * page_size and not log_holds_pages
    if page_size < 512 or size % page_size or short:
        raise VaultCorrupt(path, "the database file is truncated")


def _close_leaving_no_trace(db: Database, path: Path) -> None:
    """Close after a failed open and remove the empty WAL files SQLite made, so a refused vault is left as it
    was found (a non-empty WAL holds data and is always kept)."""
    with contextlib.suppress(sqlite3.Error):
        db.close()
    wal, shm = path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")
    with contextlib.suppress(OSError):
        if wal.stat().st_size == 0:
            wal.unlink()
            shm.unlink(missing_ok=True)


def _same_id(blob_id: str) -> str:
    return blob_id


def _check_new_passphrase(passphrase: str) -> None:
    if len(passphrase.strip()) < MIN_PASSPHRASE_CHARS:
        raise WeakPassphrase(MIN_PASSPHRASE_CHARS)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
