"""Server storage with SQLAlchemy Core: SQLite (WAL) by default, PostgreSQL for deployments that outgrow one
machine. Stateless processes share everything through the database, so several may serve one PostgreSQL.

Ordering (PROTOCOL.md §5): every push takes the single ``counter`` row's lock first and releases it at commit,
so ``seq`` values commit in order; a pull reads the committed counter ``H`` before it reads records, and returns
only ``seq <= H``. No cursor can pass a record that commits later.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import msgpack
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, Row

from sync.clock import SYSTEM, Clock
from sync.protocol import STATUS_KIND, ProtocolError, Record, content_digest, parse_status
from sync.server.accounts import (  # noqa: F401 - re-exported: callers import them from here
    CHALLENGE_TTL_S,
    ROLES,
    SEEN_EVERY_S,
    TOKEN_TTL_S,
    AccountsMixin,
    DeviceSession,
    normalize_invite,
)
from sync.server.circles import CirclesMixin
from sync.server.deliveries import DeliveriesMixin
from sync.server.linking import LinksMixin
from sync.server.serverkeys import ServerKeysMixin
from sync.server.tables import counter, invites, meta, metadata, record_audience, records, records_kind, status_requests

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class PushResult:
    accepted: int
    conflicts: list[bytes]


@dataclass(frozen=True)
class PullResult:
    records: list[Record]
    cursor: int
    more: bool
    waiting: int | None = None  # with ``more``: records after ``cursor`` for this caller (an upper bound)


@dataclass(frozen=True)
class RequestParties:
    """Who a request is between, as its ``request`` status said (PROTOCOL.md §3.4), accounts as hex."""

    student: str
    mentor: str
    by: str

    @property
    def asked(self) -> str:
        return self.mentor if self.by == "student" else self.student


def _pack_audience(audience: Sequence[bytes]) -> bytes:
    return b"".join(audience)


def names_device(body: bytes, device: bytes) -> bool:
    """Whether an ``epoch-grant`` body's grant map ``g`` has an entry for ``device`` (its keys are device ids in
    hex: routing data, PROTOCOL.md §9.1). A body the server cannot read is sent, as before."""
    try:
        grants = msgpack.unpackb(body, raw=False).get("g")
    except (ValueError, TypeError, AttributeError, msgpack.ExtraData):
        return True
    return not isinstance(grants, dict) or device.hex() in grants


def record_of(row: Row) -> Record:
    """A stored row of the records table as the wire record a pull returns."""
    return Record(
        i=row.id,
        k=row.kind,
        a=row.author,
        d=row.device,
        t=_unpack_audience(row.audience),
        h=row.hlc,
        x=row.deleted,
        b=row.body,
        s=row.sig,
    )


def _unpack_audience(packed: bytes | None) -> list[bytes] | None:
    if packed is None:
        return None
    return [packed[i : i + 16] for i in range(0, len(packed), 16)]


class Storage(AccountsMixin, LinksMixin, DeliveriesMixin, CirclesMixin, ServerKeysMixin):
    def __init__(self, url: str, clock: Clock = SYSTEM) -> None:
        self.url, self.clock = url, clock
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.writer = self._sqlite_engine(url, "BEGIN IMMEDIATE")
            self.reader = self._sqlite_engine(url, "BEGIN")
        else:
            self.writer = sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
            self.reader = self.writer
        self._seen: dict[bytes, int] = {}

    @classmethod
    def for_data_dir(cls, data_dir: Path, clock: Clock = SYSTEM) -> Storage:
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{(data_dir / 'server.db').resolve()}", clock)

    @staticmethod
    def _sqlite_engine(url: str, begin: str) -> Engine:
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8)

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" event below owns transactions
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql(begin)

        return engine

    def create_schema(self) -> None:
        metadata.create_all(self.writer)
        with self.writer.begin() as conn:
            records_kind.create(conn, checkfirst=True)  # added after schema 1 shipped: existing databases too
            if "device_id" not in {c["name"] for c in sa.inspect(conn).get_columns("invites")}:
                kind = invites.c.device_id.type.compile(dialect=conn.dialect)  # added later too: which device spent it
                conn.exec_driver_sql(f"ALTER TABLE invites ADD COLUMN device_id {kind}")
            if "replaced" not in {c["name"] for c in sa.inspect(conn).get_columns("records")}:  # added later too
                conn.exec_driver_sql("ALTER TABLE records ADD COLUMN replaced BOOLEAN NOT NULL DEFAULT false")
            if conn.execute(sa.select(counter.c.value).where(counter.c.id == 1)).first() is None:
                conn.execute(counter.insert().values(id=1, value=0))
                conn.execute(meta.insert().values(key="schema", value=str(SCHEMA_VERSION)))

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.writer.begin() as conn:
            yield conn

    # -- records -------------------------------------------------------------------------------------------

    def push(self, session: DeviceSession, batch: Sequence[Record]) -> PushResult:
        """Store ``batch`` whole or not at all. Ids already stored with the same content are acknowledged
        again; any id stored with other content is a conflict and nothing is stored."""
        if not batch:
            return PushResult(0, [])
        digests = {r.i: content_digest(r, session.account, session.device) for r in batch}
        with self._write() as conn:
            # The counter row lock comes first: it orders this transaction against every other push.
            high = conn.execute(sa.select(counter.c.value).where(counter.c.id == 1).with_for_update()).scalar_one()
            stored = {
                row.id: row.digest
                for row in conn.execute(
                    sa.select(records.c.id, records.c.digest).where(records.c.id.in_(list(digests)))
                )
            }
            conflicts = [rid for rid, digest in stored.items() if digest != digests[rid]]
            if conflicts:
                return PushResult(0, conflicts)
            fresh: list[Record] = []
            seen: set[bytes] = set()
            for r in batch:
                if r.i not in stored and r.i not in seen:
                    seen.add(r.i)
                    fresh.append(r)
            self._check_circles(conn, session.account, fresh)  # raises before anything is written (§11.4)
            if fresh:
                now = self._now()
                rows, audience_rows = [], []
                for offset, r in enumerate(fresh, start=1):
                    seq = high + offset
                    audience = None if r.t is None else sorted(set(r.t) | {session.account})
                    rows.append(
                        {
                            "seq": seq,
                            "id": r.i,
                            "kind": r.k,
                            "author": session.account,
                            "device": session.device,
                            "public": audience is None,
                            "audience": None if r.t is None else _pack_audience(r.t),
                            "hlc": r.h,
                            "deleted": r.x,
                            "body": r.b,
                            "sig": r.s,
                            "digest": digests[r.i],
                            "received_at": now,
                        }
                    )
                    audience_rows.extend({"account_id": a, "seq": seq} for a in audience or ())
                conn.execute(records.insert(), rows)
                self._replace(conn, session, [r for r in fresh if r.r])
                self._note_requests(conn, [r for r in fresh if r.k == STATUS_KIND])
                if audience_rows:
                    conn.execute(record_audience.insert(), audience_rows)
                conn.execute(counter.update().where(counter.c.id == 1).values(value=high + len(fresh)))
        return PushResult(len(batch), [])

    def _replace(self, conn: Connection, session: DeviceSession, batch: list[Record]) -> None:
        """Mark the records each of ``batch`` replaces, where the replacing one may: same author account, same
        kind, same audience, not a tombstone, pushed before it. Anything else named is left as it is (the
        reader then gets both and keeps one copy of each message), never refused: a push must not stick."""
        for record in batch:
            named = list(dict.fromkeys(record.r or ()))
            audience = None if record.t is None else sorted(record.t)
            rows = conn.execute(
                sa.select(records.c.id, records.c.kind, records.c.author, records.c.audience, records.c.deleted).where(
                    records.c.id.in_(named), records.c.id != record.i
                )
            )
            qualified = [
                row.id
                for row in rows
                if row.author == session.account
                and row.kind == record.k
                and not row.deleted
                and (None if row.audience is None else sorted(_unpack_audience(row.audience) or ())) == audience
            ]
            if qualified:
                conn.execute(records.update().where(records.c.id.in_(qualified)).values(replaced=True))

    def _note_requests(self, conn: Connection, statuses: list[Record]) -> None:
        """Remember who each newly pushed request is between (the first word on a request id stands)."""
        rows = []
        for record in statuses:
            try:
                status = parse_status(record.b)
            except ProtocolError:
                continue
            if status.e == "request" and status.s and status.m and status.by:
                rows.append({"request_id": status.r, "student": status.s, "mentor": status.m, "by": status.by})
        if rows:
            insert = (sqlite_insert if self.is_sqlite else postgresql_insert)(status_requests)
            conn.execute(insert.on_conflict_do_nothing(index_elements=["request_id"]), rows)

    def request_parties(self, request_ids: set[str]) -> dict[str, RequestParties]:
        """The parties of each known request among ``request_ids``."""
        if not request_ids:
            return {}
        with self.reader.connect() as conn:
            rows = conn.execute(sa.select(status_requests).where(status_requests.c.request_id.in_(request_ids)))
            return {row.request_id: RequestParties(row.student, row.mentor, row.by) for row in rows}

    def high(self) -> int:
        """The committed counter: it moves when anything is pushed (one cheap query, for ``GET /v1/wait``)."""
        with self.reader.connect() as conn:
            return conn.execute(sa.select(counter.c.value).where(counter.c.id == 1)).scalar_one()

    def has_news(self, session: DeviceSession, cursor: int) -> bool:
        """Whether a pull after ``cursor`` would bring ``session`` at least one record."""
        return bool(self.pull(session, cursor, 1).records)

    def pull(self, session: DeviceSession, cursor: int, budget: int, grants_for_me_only: bool = False) -> PullResult:
        """Records after ``cursor`` whose audience includes the caller, not pushed by this device, in ``seq``
        order, up to about ``budget`` body bytes (at least one record when any is waiting). With
        ``grants_for_me_only`` (a pull's ``g: 1``, §4), ``epoch-grant`` records whose grant map has no entry for
        the calling device are left out too."""
        with self.reader.connect() as conn:
            high = conn.execute(sa.select(counter.c.value).where(counter.c.id == 1)).scalar_one()
            out: list[Record] = []
            used, position = 0, cursor
            while position < high:
                mine = sa.select(record_audience.c.seq).where(
                    record_audience.c.account_id == session.account,
                    record_audience.c.seq > position,
                    record_audience.c.seq <= high,
                )
                public = sa.select(records.c.seq).where(
                    records.c.public.is_(True), records.c.seq > position, records.c.seq <= high
                )
                if session.role == "admin":  # and the programme's status records (§3.4), once each
                    status = sa.select(records.c.seq).where(
                        records.c.kind == STATUS_KIND, records.c.seq > position, records.c.seq <= high
                    )
                    wanted = sa.union(mine, public, status).subquery()
                else:
                    wanted = sa.union_all(mine, public).subquery()
                page = conn.execute(
                    sa.select(records)
                    .join(wanted, wanted.c.seq == records.c.seq)
                    .where(records.c.replaced.is_(False))  # whoever would get one gets what replaced it, later
                    .order_by(records.c.seq)
                    .limit(200)
                ).all()
                if not page:
                    position = high
                    break
                for row in page:
                    size = len(row.body) + 96
                    if out and used + size > budget:
                        left = conn.execute(
                            sa.select(sa.func.count()).select_from(wanted).where(wanted.c.seq > position)
                        ).scalar_one()
                        return PullResult(out, position, True, int(left))
                    position = row.seq
                    if row.device == session.device:
                        continue
                    if grants_for_me_only and row.kind == "epoch-grant" and not names_device(row.body, session.device):
                        continue
                    used += size
                    out.append(record_of(row))
                if len(page) < 200:
                    position = high
                    break
            return PullResult(out, max(position, cursor), False)
