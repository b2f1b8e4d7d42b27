"""Records that sync: the outbox the sync engine drains and the inbound records it applies, with each
server's pull cursor, all in the vault. Inbound records and the new cursor commit in one transaction, so a sync
cut anywhere, or an app killed mid-apply, is simply repeated: a record already applied is ignored by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.vault.store import Vault

STATES = frozenset({"outbox", "sent", "inbound", "applied", "rejected"})


@dataclass(frozen=True)
class StoredRecord:
    id: str  # 32 hex digits
    kind: str
    author: str  # account id, 32 hex digits
    hlc: int
    wire: bytes  # the encoded wire record; sealed at rest
    state: str = "outbox"
    note: str = ""


class RecordStore:
    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def enqueue(self, record: StoredRecord) -> None:
        """Queue a locally made record for pushing."""
        self._insert([record], "outbox", ignore_existing=False)

    def outbox(self, budget_bytes: int, limit: int = 500) -> list[StoredRecord]:
        """The oldest queued records whose wire sizes add up to at most ``budget_bytes`` (always at least one)."""
        with self._vault._lock:
            db, keys = self._vault._session()
            out, used = [], 0
            cursor = db.execute(
                "SELECT id, kind, author, hlc, size, wire FROM records WHERE state = 'outbox' ORDER BY rowid LIMIT ?",
                [limit],
            )
            for record_id, kind, author, hlc, size, sealed in cursor:
                if out and used + size > budget_bytes:
                    break
                used += size
                wire = keys.fields.open("records", record_id, "wire", sealed)
                out.append(StoredRecord(record_id, kind, author, hlc, wire, "outbox"))
            return out

    def outbox_totals(self) -> tuple[int, int]:
        """(records, bytes) waiting to be pushed."""
        with self._vault._lock:
            db, _keys = self._vault._session()
            count, size = db.execute(
                "SELECT count(*), coalesce(sum(size), 0) FROM records WHERE state = 'outbox'"
            ).fetchone()
            return int(count), int(size)

    def mark(self, ids: Sequence[str], state: str, note: str = "") -> None:
        if state not in STATES:
            raise ValueError(f"unknown record state {state!r}")
        with self._vault._lock:
            db, _keys = self._vault._session()
            with db.atomic():
                db.conn.executemany(
                    "UPDATE records SET state = ?, note = ? WHERE id = ? AND state = 'outbox'",
                    [(state, note, record_id) for record_id in ids],
                )

    def withdraw(self, record_id: str) -> bool:
        """Take a record back out of the outbox before it was pushed; False when it is already on its way."""
        with self._vault._lock:
            db, _keys = self._vault._session()
            with db.atomic():
                return db.execute("DELETE FROM records WHERE id = ? AND state = 'outbox'", [record_id]).rowcount == 1

    def mark_applied(self, ids: Sequence[str]) -> None:
        """Inbound records the app has taken in (opened, stored): not looked at again."""
        with self._vault._lock:
            db, _keys = self._vault._session()
            with db.atomic():
                db.conn.executemany(
                    "UPDATE records SET state = 'applied' WHERE id = ? AND state = 'inbound'", [(i,) for i in ids]
                )

    def cursor(self, server: str) -> int:
        with self._vault._lock:
            db, _keys = self._vault._session()
            row = db.execute("SELECT cursor FROM sync_cursors WHERE server = ?", [server]).fetchone()
            return int(row[0]) if row else 0

    def apply_inbound(self, server: str, records: Iterable[StoredRecord], cursor: int) -> int:
        """Store pulled records and the new cursor in one transaction; returns how many were new. The cursor
        never moves backwards."""
        return self._insert(list(records), "inbound", ignore_existing=True, server=server, cursor=cursor)

    def take_in(self, records: Iterable[StoredRecord]) -> int:
        """Store records that came another way than a sync (a content pack on a USB stick) as if pulled, in one
        transaction, no cursor moved; returns how many were new (a record already here is ignored by id)."""
        return self._insert(list(records), "inbound", ignore_existing=True)

    def get(self, record_id: str) -> StoredRecord | None:
        rows = self._select("WHERE id = ?", [record_id])
        return rows[0] if rows else None

    def by_state(self, state: str) -> list[StoredRecord]:
        return self._select("WHERE state = ? ORDER BY rowid", [state])

    def recent_kinds(self, count: int) -> set[str]:
        """Kinds of the ``count`` newest records taken in (from the plaintext column: nothing is decrypted)."""
        with self._vault._lock:
            db, _keys = self._vault._session()
            rows = db.execute(
                "SELECT kind FROM records WHERE state IN ('inbound', 'applied') ORDER BY rowid DESC LIMIT ?", [count]
            )
            return {row[0] for row in rows}

    def by_kind(self, kind: str) -> list[StoredRecord]:
        """Every record of ``kind`` (any state), oldest clock first."""
        return self._select("WHERE kind = ? ORDER BY hlc, id", [kind])

    def sent_since(self, kind: str, author: str, hlc: int, note: str = "") -> list[StoredRecord]:
        """``author``'s records of ``kind`` the server has, stamped at or after ``hlc``, with ``note``; oldest
        first (plaintext columns choose them: only those are decrypted)."""
        return self._select(
            "WHERE kind = ? AND author = ? AND state = 'sent' AND hlc >= ? AND note = ? ORDER BY hlc, id",
            [kind, author, hlc, note],
        )

    def note_sent(self, ids: Sequence[str], note: str) -> None:
        """Remember something about records the server has (e.g. that a later one replaced them)."""
        with self._vault._lock:
            db, _keys = self._vault._session()
            with db.atomic():
                db.conn.executemany(
                    "UPDATE records SET note = ? WHERE id = ? AND state = 'sent'", [(note, i) for i in ids]
                )

    def kind_mark(self, kind: str) -> tuple[int, int]:
        """(how many, newest rowid) of ``kind``: changes whenever a record of that kind comes or goes, so a
        cache of what was decrypted from them knows when it is stale (plaintext columns only)."""
        with self._vault._lock:
            db, _keys = self._vault._session()
            row = db.execute("SELECT count(*), coalesce(max(rowid), 0) FROM records WHERE kind = ?", [kind]).fetchone()
            return int(row[0]), int(row[1])

    def count(self) -> int:
        with self._vault._lock:
            db, _keys = self._vault._session()
            return int(db.execute("SELECT count(*) FROM records").fetchone()[0])

    def _insert(
        self,
        records: list[StoredRecord],
        state: str,
        *,
        ignore_existing: bool,
        server: str | None = None,
        cursor: int | None = None,
    ) -> int:
        with self._vault._lock:
            db, keys = self._vault._session()
            rows = [
                (
                    r.id,
                    r.kind,
                    r.author,
                    r.hlc,
                    state,
                    len(r.wire),
                    "",
                    keys.fields.seal("records", r.id, "wire", r.wire),
                )
                for r in records
            ]
            verb = "INSERT OR IGNORE" if ignore_existing else "INSERT"
            with db.atomic():
                before = db.conn.total_changes
                db.conn.executemany(
                    f"{verb} INTO records (id, kind, author, hlc, state, size, note, wire)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                inserted = db.conn.total_changes - before
                if server is not None and cursor is not None:
                    db.execute(
                        "INSERT INTO sync_cursors (server, cursor) VALUES (?, ?) ON CONFLICT(server)"
                        " DO UPDATE SET cursor = max(cursor, excluded.cursor)",
                        [server, cursor],
                    )
            return inserted

    def _select(self, clause: str, params: list[object]) -> list[StoredRecord]:
        with self._vault._lock:
            db, keys = self._vault._session()
            return [
                StoredRecord(
                    record_id,
                    kind,
                    author,
                    hlc,
                    keys.fields.open("records", record_id, "wire", sealed),
                    state,
                    note or "",
                )
                for record_id, kind, author, hlc, state, note, sealed in db.execute(
                    f"SELECT id, kind, author, hlc, state, note, wire FROM records {clause}",  # noqa: S608
                    params,
                )
            ]
