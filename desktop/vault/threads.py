"""Conversation threads and drafts in the vault: members, epochs and titles sealed; only ids and times plain."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.vault.store import Vault


class ThreadStore:
    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def put(self, thread_id: str, meta: dict[str, Any], updated_at: int | None = None) -> None:
        with self._vault._lock:
            db, keys = self._vault._session()
            sealed = keys.fields.seal("threads", thread_id, "meta", json.dumps(meta).encode())
            stamp = int(time.time() * 1000) if updated_at is None else updated_at
            with db.atomic():
                db.execute(
                    "INSERT INTO threads (id, updated_at, meta) VALUES (?, ?, ?) ON CONFLICT(id)"
                    " DO UPDATE SET updated_at = max(updated_at, excluded.updated_at), meta = excluded.meta",
                    [thread_id, stamp, sealed],
                )

    def get(self, thread_id: str) -> dict[str, Any] | None:
        with self._vault._lock:
            db, keys = self._vault._session()
            row = db.execute("SELECT meta FROM threads WHERE id = ?", [thread_id]).fetchone()
            return None if row is None else json.loads(keys.fields.open("threads", thread_id, "meta", row[0]))

    def all(self) -> list[tuple[str, dict[str, Any], int]]:
        """(id, meta, updated_at) of every thread, most recently active first."""
        with self._vault._lock:
            db, keys = self._vault._session()
            rows = db.execute("SELECT id, meta, updated_at FROM threads ORDER BY updated_at DESC").fetchall()
            return [(i, json.loads(keys.fields.open("threads", i, "meta", m)), u) for i, m, u in rows]

    def put_draft(self, thread_id: str, text: str) -> None:
        """Keep what is being written in a thread (an empty text removes the draft)."""
        with self._vault._lock:
            db, keys = self._vault._session()
            with db.atomic():
                if not text:
                    db.execute("DELETE FROM drafts WHERE thread_id = ?", [thread_id])
                    return
                sealed = keys.fields.seal("drafts", thread_id, "body", text.encode())
                db.execute(
                    "INSERT OR REPLACE INTO drafts (thread_id, updated_at, body) VALUES (?, ?, ?)",
                    [thread_id, int(time.time() * 1000), sealed],
                )

    def draft(self, thread_id: str) -> str:
        with self._vault._lock:
            db, keys = self._vault._session()
            row = db.execute("SELECT body FROM drafts WHERE thread_id = ?", [thread_id]).fetchone()
            return "" if row is None else keys.fields.open("drafts", thread_id, "body", row[0]).decode()
