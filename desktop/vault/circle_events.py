"""Circle events in the vault (PROTOCOL.md §11): one row per verified post, announcement, project change or leave,
its body sealed by the field cipher. Only what queries need is plain: ids, the circle, the kind, the ``ref`` (the
topic or project it belongs to), the author's account and device, and the hybrid time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.vault.store import Vault


@dataclass(frozen=True)
class StoredEvent:
    id: str
    circle: str
    kind: str
    ref: str
    author: str
    device: str
    hlc: int
    body: bytes  # msgpack of {"c": content, "r": the author's role when it arrived}


class CircleEventStore:
    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def put(self, event: StoredEvent) -> bool:
        """Keep ``event`` once; False when its id is there already."""
        with self._vault._lock:
            db, keys = self._vault._session()
            sealed = keys.fields.seal("circle_events", event.id, "body", event.body)
            with db.atomic():
                cursor = db.execute(
                    "INSERT OR IGNORE INTO circle_events (id, circle, kind, ref, author, device, hlc, body)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [event.id, event.circle, event.kind, event.ref, event.author, event.device, event.hlc, sealed],
                )
                return cursor.rowcount == 1

    def has(self, event_id: str) -> bool:
        with self._vault._lock:
            db, _keys = self._vault._session()
            return db.execute("SELECT 1 FROM circle_events WHERE id = ?", [event_id]).fetchone() is not None

    def find(self, circle: str, kind: str | None = None, ref: str | None = None) -> list[StoredEvent]:
        """Events of one circle (of one kind, of one ``ref``), in hybrid-time order: one indexed query."""
        sql, args = (
            "SELECT id, circle, kind, ref, author, device, hlc, body FROM circle_events WHERE circle = ?",
            [circle],
        )
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
            if ref is not None:
                sql += " AND ref = ?"
                args.append(ref)
        elif ref is not None:
            sql += " AND ref = ?"
            args.append(ref)
        sql += " ORDER BY hlc, id"
        with self._vault._lock:
            db, keys = self._vault._session()
            rows = db.execute(sql, args).fetchall()
            return [
                StoredEvent(i, c, k, r, a, d, h, keys.fields.open("circle_events", i, "body", b))
                for i, c, k, r, a, d, h, b in rows
            ]
