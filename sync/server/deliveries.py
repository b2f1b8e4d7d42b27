"""Delivery marks (PROTOCOL.md §4.5): the server tells an author which of their messages a reader's device holds,
from what that device already says in every request (its cursor), so a reader sends no receipt for delivery.

A device's cursor in a sync or wait request proves it committed every record up to it (a client stores pulled
records and the cursor together). When a device's proven cursor moves past an author's messages addressed to its
account, the server makes one small ``delivered`` record for that author: ``{r: reader account, i: the newest
such record id}``. It travels like any record (the author's pull, their held wait wakes for it), and costs the
reader nothing.
"""

from __future__ import annotations

import hashlib

import msgpack
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from sync.protocol import DELIVERED_KIND, MARKED_KINDS, SERVER_ID, new_record_id
from sync.server.accounts import DeviceSession
from sync.server.tables import counter, deliveries, device_cursors, record_audience, records


class DeliveriesMixin:
    """Mixed into ``Storage``: needs ``writer``, ``reader``, ``is_sqlite``, ``_write`` and ``_now``."""

    def confirm(self, session: DeviceSession, cursor: int) -> bool:
        """``session``'s device holds every record up to ``cursor`` (capped at what exists). Makes the delivery
        marks that follow; True when it made any (waiting authors should look again)."""
        with self.reader.connect() as conn:  # type: ignore[attr-defined]
            known = conn.execute(
                sa.select(device_cursors.c.cursor).where(device_cursors.c.device_id == session.device)
            ).scalar()
        if known is not None and cursor <= known:
            return False  # the usual case: nothing new proven, no write
        with self._write() as conn:  # type: ignore[attr-defined]
            # the counter row lock first, as a push takes it: marks are records, and take their seq in order
            high = conn.execute(sa.select(counter.c.value).where(counter.c.id == 1).with_for_update()).scalar_one()
            known = conn.execute(
                sa.select(device_cursors.c.cursor).where(device_cursors.c.device_id == session.device)
            ).scalar()
            proven = min(cursor, high)
            if known is not None and proven <= known:
                return False
            marks = self._marks(conn, session.account, known or 0, proven)
            self._upsert(conn, device_cursors, {"device_id": session.device, "cursor": proven}, ["device_id"])
            for offset, (author, seq, record_id) in enumerate(marks, start=1):
                self._mark(conn, high + offset, author, session.account, record_id)
                self._upsert(conn, deliveries, {"author": author, "reader": session.account, "seq": seq}, None)
            if marks:
                conn.execute(counter.update().where(counter.c.id == 1).values(value=high + len(marks)))
            return bool(marks)

    def _marks(self, conn: Connection, reader: bytes, after: int, upto: int) -> list[tuple[bytes, int, bytes]]:
        """(author, seq, record id) of each author's newest message to ``reader`` in (after, upto], where it is
        newer than the author's last mark for this reader."""
        newest = (
            sa.select(records.c.author, sa.func.max(records.c.seq).label("seq"))
            .join(record_audience, record_audience.c.seq == records.c.seq)
            .where(
                record_audience.c.account_id == reader,
                record_audience.c.seq > after,
                record_audience.c.seq <= upto,
                records.c.author != reader,
                records.c.kind.in_(MARKED_KINDS),
                records.c.replaced.is_(False),
            )
            .group_by(records.c.author)
        )
        found = {row.author: row.seq for row in conn.execute(newest)}
        if not found:
            return []
        marked = {
            row.author: row.seq
            for row in conn.execute(
                sa.select(deliveries.c.author, deliveries.c.seq).where(
                    deliveries.c.reader == reader, deliveries.c.author.in_(list(found))
                )
            )
        }
        fresh = {author: seq for author, seq in found.items() if seq > marked.get(author, -1)}
        ids = {
            row.seq: row.id
            for row in conn.execute(sa.select(records.c.seq, records.c.id).where(records.c.seq.in_(fresh.values())))
        }
        return [(author, seq, ids[seq]) for author, seq in sorted(fresh.items())]

    def _mark(self, conn: Connection, seq: int, author: bytes, reader: bytes, record_id: bytes) -> None:
        now = self._now()  # type: ignore[attr-defined]
        body = msgpack.packb({"r": reader, "i": record_id}, use_bin_type=True)
        conn.execute(
            records.insert().values(
                seq=seq,
                id=new_record_id(now * 1000),
                kind=DELIVERED_KIND,
                author=SERVER_ID,
                device=SERVER_ID,
                public=False,
                audience=author,
                hlc=(now * 1000) << 16,
                deleted=False,
                body=body,
                sig=None,
                digest=hashlib.sha256(body).digest(),
                received_at=now,
            )
        )
        conn.execute(record_audience.insert().values(account_id=author, seq=seq))

    def _upsert(self, conn: Connection, table: sa.Table, values: dict, keys: list[str] | None) -> None:
        keys = keys or [c.name for c in table.primary_key.columns]
        insert = (sqlite_insert if self.is_sqlite else postgresql_insert)(table).values(**values)  # type: ignore[attr-defined]
        changed = {k: v for k, v in values.items() if k not in keys}
        conn.execute(insert.on_conflict_do_update(index_elements=keys, set_=changed))
