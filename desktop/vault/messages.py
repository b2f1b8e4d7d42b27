"""Messages in the vault: sealed bodies, plaintext only what lists need (thread, author, time, state), and a
small cache of decrypted bodies that ``Vault.lock()`` empties."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.vault.store import Vault

MESSAGE_STATES = frozenset({"draft", "queued", "sent", "delivered", "read", "received"})
_CACHE_ENTRIES = 1024


@dataclass(frozen=True)
class StoredMessage:
    id: str
    thread_id: str
    author: str
    sent_at: int  # milliseconds since the epoch, UTC
    state: str
    body: str
    flagged: bool = False
    snoozed_until: int = 0  # ms; 0 = not snoozed
    reviewed: bool = False


class MessageStore:
    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._cache: OrderedDict[str, tuple[bytes, str]] = OrderedDict()

    @property
    def cached(self) -> int:
        return len(self._cache)

    def forget(self) -> None:
        """Drop every decrypted body (on lock)."""
        self._cache.clear()

    def put(self, message: StoredMessage) -> None:
        self.put_many([message])

    def put_many(self, messages: Iterable[StoredMessage]) -> int:
        """Insert or replace messages in one transaction; returns how many were written."""
        with self._vault._lock:
            db, keys = self._vault._session()
            rows = []
            for m in messages:
                if m.state not in MESSAGE_STATES:
                    raise ValueError(f"unknown message state {m.state!r}")
                sealed = keys.fields.seal("messages", m.id, "body", m.body.encode("utf-8"))
                rows.append((m.id, m.thread_id, m.author, int(m.sent_at), m.state, sealed))
                self._remember(m.id, sealed, m.body)
            with db.atomic():
                db.conn.executemany(
                    "INSERT INTO messages (id, thread_id, author, sent_at, state, body) VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(id) DO UPDATE SET thread_id = excluded.thread_id, author = excluded.author,"
                    " sent_at = excluded.sent_at, state = excluded.state, body = excluded.body",
                    rows,
                )
            return len(rows)

    def set_state(self, message_id: str, state: str) -> None:
        if state not in MESSAGE_STATES:
            raise ValueError(f"unknown message state {state!r}")
        with self._vault._lock:
            db, _keys = self._vault._session()
            with db.atomic():
                db.execute("UPDATE messages SET state = ? WHERE id = ?", [state, message_id])

    def mark(
        self,
        message_id: str,
        *,
        flagged: bool | None = None,
        snoozed_until: int | None = None,
        reviewed: bool | None = None,
    ) -> None:
        """Review-queue marks: flag, snooze until a time (ms), reviewed."""
        changes = {"flagged": flagged, "snoozed_until": snoozed_until, "reviewed": reviewed}
        updates = {k: int(v) for k, v in changes.items() if v is not None}
        if not updates:
            return
        with self._vault._lock:
            db, _keys = self._vault._session()
            with db.atomic():
                assignments = ", ".join(f"{column} = ?" for column in updates)
                db.execute(f"UPDATE messages SET {assignments} WHERE id = ?", [*updates.values(), message_id])  # noqa: S608

    def in_thread(self, thread_id: str) -> list[StoredMessage]:
        """A conversation, oldest first."""
        return self._select("WHERE thread_id = ? ORDER BY sent_at, rowid", [thread_id])

    def with_state(self, state: str) -> list[StoredMessage]:
        return self._select("WHERE state = ? ORDER BY sent_at, id", [state])

    def get(self, message_id: str) -> StoredMessage | None:
        rows = self._select("WHERE id = ?", [message_id])
        return rows[0] if rows else None

    def newest(self, limit: int = 50, thread_id: str | None = None) -> list[StoredMessage]:
        """The newest ``limit`` messages, newest first, optionally of one thread."""
        if thread_id is None:
            return self._select("ORDER BY sent_at DESC, id DESC LIMIT ?", [limit])
        return self._select("WHERE thread_id = ? ORDER BY sent_at DESC, id DESC LIMIT ?", [thread_id, limit])

    def iter_all(self, batch: int = 500) -> Iterator[StoredMessage]:
        """Every message, oldest first, decrypted batch by batch (memory stays flat)."""
        after: tuple[int, str] = (-1, "")
        while True:
            rows = self._select(
                "WHERE (sent_at, id) > (?, ?) ORDER BY sent_at, id LIMIT ?", [after[0], after[1], batch]
            )
            yield from rows
            if len(rows) < batch:
                return
            after = (rows[-1].sent_at, rows[-1].id)

    def unread_counts(self) -> dict[str, int]:
        """Thread id → messages received and not yet read (plaintext columns only: nothing is decrypted)."""
        with self._vault._lock:
            db, _keys = self._vault._session()
            rows = db.execute("SELECT thread_id, count(*) FROM messages WHERE state = 'received' GROUP BY thread_id")
            return {row[0]: int(row[1]) for row in rows}

    def count(self) -> int:
        with self._vault._lock:
            db, _keys = self._vault._session()
            return int(db.execute("SELECT count(*) FROM messages").fetchone()[0])

    def _select(self, clause: str, params: list[Any]) -> list[StoredMessage]:
        with self._vault._lock:
            db, keys = self._vault._session()
            cursor = db.execute(
                "SELECT id, thread_id, author, sent_at, state, body, flagged, snoozed_until, reviewed"  # noqa: S608
                f" FROM messages {clause}",
                params,
            )
            out = []
            for message_id, thread_id, author, sent_at, state, sealed, flagged, snoozed, reviewed in cursor:
                cached = self._cache.get(message_id)
                if cached is not None and cached[0] == sealed:
                    body = cached[1]
                    self._cache.move_to_end(message_id)
                else:
                    body = keys.fields.open("messages", message_id, "body", sealed).decode("utf-8")
                    self._remember(message_id, sealed, body)
                out.append(
                    StoredMessage(
                        message_id, thread_id, author, sent_at, state, body, bool(flagged), snoozed, bool(reviewed)
                    )
                )
            return out

    def _remember(self, message_id: str, sealed: bytes, body: str) -> None:
        self._cache[message_id] = (sealed, body)
        self._cache.move_to_end(message_id)
        while len(self._cache) > _CACHE_ENTRIES:
            self._cache.popitem(last=False)
