"""The vault's SQLite schema, grown only by numbered migrations.

A new vault runs every migration from 1, so new and upgraded vaults take one code path. Each migration runs in
its own transaction together with its ``PRAGMA user_version`` bump: a migration killed half way leaves the vault
at the previous version, and the next unlock runs it again. Plaintext columns are only what queries need
(ids, kinds, timestamps, sizes, sync state); everything a person wrote lives in sealed ``BLOB`` columns.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

from desktop.vault.errors import VaultTooNew


def _v1_core(db: Database) -> None:
    """Profiles, messages and encrypted blobs."""
    db["meta"].create({"key": str, "value": bytes}, pk="key")
    db["profiles"].create({"id": str, "updated_at": int, "body": bytes}, pk="id", not_null={"updated_at", "body"})
    db["messages"].create(
        {"id": str, "thread_id": str, "author": str, "sent_at": int, "state": str, "body": bytes},
        pk="id",
        not_null={"thread_id", "author", "sent_at", "state", "body"},
    )
    db["messages"].create_index(["sent_at", "id"], index_name="messages_by_time")
    db["messages"].create_index(["thread_id", "sent_at"], index_name="messages_by_thread")
    db["blobs"].create(
        {"id": str, "size": int, "chunk_count": int, "created_at": int, "meta": bytes},
        pk="id",
        not_null={"size", "chunk_count", "created_at", "meta"},
    )
    db.execute(
        "CREATE TABLE blob_chunks (blob_id TEXT NOT NULL REFERENCES blobs(id) ON DELETE CASCADE,"
        " idx INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (blob_id, idx)) WITHOUT ROWID"
    )


def _v2_sync(db: Database) -> None:
    """Sync bookkeeping: every record that syncs (outbox and inbound) and one pull cursor per server.

    ``records.wire`` holds the whole wire record, sealed; ``state`` is ``outbox`` (waiting to be pushed, in
    ``rowid`` order), ``sent`` (the server acknowledged it), ``inbound`` (pulled) or ``rejected`` (the server
    refused it for good; ``note`` says why).
    """
    db["records"].create(
        {"id": str, "kind": str, "author": str, "hlc": int, "state": str, "size": int, "note": str, "wire": bytes},
        pk="id",
        not_null={"kind", "author", "hlc", "state", "size", "wire"},
    )
    db["records"].create_index(["state"], index_name="records_by_state")
    db["records"].create_index(["kind", "hlc"], index_name="records_by_kind")
    db["sync_cursors"].create({"server": str, "cursor": int}, pk="server", not_null={"cursor"})


def _v3_conversations(db: Database) -> None:
    """Conversations: each thread's members and epochs (sealed), review-queue marks on messages, drafts."""
    db["threads"].create({"id": str, "updated_at": int, "meta": bytes}, pk="id", not_null={"updated_at", "meta"})
    for column in ("flagged", "snoozed_until", "reviewed"):
        db.execute(f"ALTER TABLE messages ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")
    db["drafts"].create({"thread_id": str, "updated_at": int, "body": bytes}, pk="thread_id")


def _v4_keyed_blob_ids(db: Database, local_blob_id: Callable[[str], str]) -> None:
    """Blob rows were keyed by the caller's id, for attachments and library files the SHA-256 of their plaintext,
    in clear: a copy of the vault showed whether it held a known file. Re-key every row with the keyed hash
    (``cipher.BlobIdKey``); sealed metadata and chunks stay bound to the caller's id, so nothing is re-encrypted.
    """
    db.execute("PRAGMA defer_foreign_keys = ON")  # chunks follow their blob within this transaction
    for (old,) in db.execute("SELECT id FROM blobs").fetchall():
        new = local_blob_id(old)
        db.execute("UPDATE blobs SET id = ? WHERE id = ?", [new, old])
        db.execute("UPDATE blob_chunks SET blob_id = ? WHERE blob_id = ?", [new, old])


def _v5_circle_events(db: Database) -> None:
    """Circles (PROTOCOL.md §11): every verified event of a circle, found by circle, kind and ``ref`` (a topic or
    a project) in hybrid-time order, so a topic with 1,000 replies opens with one indexed query."""
    db["circle_events"].create(
        {"id": str, "circle": str, "kind": str, "ref": str, "author": str, "device": str, "hlc": int, "body": bytes},
        pk="id",
        not_null={"circle", "kind", "ref", "author", "device", "hlc", "body"},
    )
    db["circle_events"].create_index(["circle", "kind", "ref", "hlc"], index_name="circle_events_by_ref")


Migration = Callable[[Database, Callable[[str], str]], None]
MIGRATIONS: tuple[Migration, ...] = (
    lambda db, _key: _v1_core(db),
    lambda db, _key: _v2_sync(db),
    lambda db, _key: _v3_conversations(db),
    _v4_keyed_blob_ids,
    lambda db, _key: _v5_circle_events(db),
)
LATEST = len(MIGRATIONS)
KEYED_BLOB_IDS = 4  # from this version on, blob rows are keyed by a keyed hash of the caller's id


def version(db: Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: Database, path: Path, local_blob_id: Callable[[str], str], target: int = LATEST) -> int:
    """Bring ``db`` to ``target``, one transaction per step; returns the version it started from.
    ``local_blob_id`` is the keyed hash that names blob rows (it needs the unlocked data key)."""
    current = version(db)
    if current > LATEST:
        raise VaultTooNew(current, LATEST)
    for number in range(current + 1, target + 1):
        with db.atomic():
            MIGRATIONS[number - 1](db, local_blob_id)
            db.execute(f"PRAGMA user_version = {number:d}")
    if current < target:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # rewritten rows leave no old copy in the log either
    return current
