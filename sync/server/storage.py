"""Server storage with SQLAlchemy Core: SQLite (WAL) by default, PostgreSQL for deployments that outgrow one
machine. Stateless processes share everything through the database, so several may serve one PostgreSQL.

Ordering (PROTOCOL.md §5): every push takes the single ``counter`` row's lock first and releases it at commit,
so ``seq`` values commit in order; a pull reads the committed counter ``H`` before it reads records, and returns
only ``seq <= H``. No cursor can pass a record that commits later.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from sync.protocol import STATUS_KIND, Record, content_digest
from sync.server.tables import (
    accounts,
    challenges,
    counter,
    device_seen,
    devices,
    invite_devices,
    invites,
    meta,
    metadata,
    record_audience,
    records,
    records_kind,
    tokens,
)

SCHEMA_VERSION = 1
TOKEN_TTL_S = 3600
SEEN_EVERY_S = 60  # a device's last sync is written at most once a minute
CHALLENGE_TTL_S = 120
ROLES = ("student", "mentor", "admin")


@dataclass(frozen=True)
class DeviceSession:
    """Who is calling: resolved from a bearer token on every request."""

    account: bytes
    device: bytes
    role: str


@dataclass(frozen=True)
class PushResult:
    accepted: int
    conflicts: list[bytes]


@dataclass(frozen=True)
class PullResult:
    records: list[Record]
    cursor: int
    more: bool


def _now() -> int:
    return int(time.time())


def _hash(secret: str | bytes) -> bytes:
    return hashlib.sha256(secret.encode() if isinstance(secret, str) else secret).digest()


def normalize_invite(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _pack_audience(audience: Sequence[bytes]) -> bytes:
    return b"".join(audience)


def _unpack_audience(packed: bytes | None) -> list[bytes] | None:
    if packed is None:
        return None
    return [packed[i : i + 16] for i in range(0, len(packed), 16)]


class Storage:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.writer = self._sqlite_engine(url, "BEGIN IMMEDIATE")
            self.reader = self._sqlite_engine(url, "BEGIN")
        else:
            self.writer = sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
            self.reader = self.writer
        self._seen: dict[bytes, int] = {}

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Storage:
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{(data_dir / 'server.db').resolve()}")

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

    # -- invites, accounts, devices ------------------------------------------------------------------------

    def create_invites(self, role: str, count: int = 1) -> list[str]:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        alphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
        codes = []
        with self._write() as conn:
            for _ in range(count):
                raw = "".join(secrets.choice(alphabet) for _ in range(12))
                codes.append("-".join(raw[i : i + 4] for i in range(0, 12, 4)))
                conn.execute(invites.insert().values(code_hash=_hash(raw), role=role, created_at=_now()))
        return codes

    def register(self, invite: str, name: str, sign_key: bytes, box_key: bytes | None) -> DeviceSession | None:
        """Spend ``invite`` on a new account with this first device; None when the invite is unknown or used.
        The same invite with the same ``sign_key`` again (a retry whose answer was lost) returns the same
        account and device, as long as that device is not revoked."""
        code_hash = _hash(normalize_invite(invite))
        with self._write() as conn:
            used = conn.execute(
                invites.update()
                .where(invites.c.code_hash == code_hash, invites.c.used_at.is_(None))
                .values(used_at=_now())
                .returning(invites.c.role)
            ).first()
            if used is None:
                return self._registered(conn, code_hash, sign_key)
            account, device = secrets.token_bytes(16), secrets.token_bytes(16)
            conn.execute(accounts.insert().values(id=account, role=used.role, created_at=_now()))
            conn.execute(
                devices.insert().values(
                    id=device, account_id=account, name=name, sign_key=sign_key, box_key=box_key, created_at=_now()
                )
            )
            conn.execute(invite_devices.insert().values(code_hash=code_hash, device_id=device))
        return DeviceSession(account, device, used.role)

    @staticmethod
    def _registered(conn: Connection, code_hash: bytes, sign_key: bytes) -> DeviceSession | None:
        """The device this spent invite made, if it has ``sign_key`` and is not revoked."""
        row = conn.execute(
            sa.select(devices.c.id, devices.c.account_id, devices.c.sign_key, accounts.c.role)
            .select_from(invite_devices.join(devices, devices.c.id == invite_devices.c.device_id))
            .join(accounts, accounts.c.id == devices.c.account_id)
            .where(invite_devices.c.code_hash == code_hash, devices.c.revoked_at.is_(None))
        ).first()
        if row is None or not secrets.compare_digest(row.sign_key, sign_key):
            return None
        return DeviceSession(row.account_id, row.id, row.role)

    def device_key(self, device: bytes) -> tuple[bytes, bool] | None:
        """(public signing key, revoked) of a device, or None."""
        with self.reader.connect() as conn:
            row = conn.execute(
                sa.select(devices.c.sign_key, devices.c.revoked_at).where(devices.c.id == device)
            ).first()
        return None if row is None else (row.sign_key, row.revoked_at is not None)

    def device_keys(self, device_ids: set[bytes]) -> dict[bytes, bytes]:
        with self.reader.connect() as conn:
            rows = conn.execute(sa.select(devices.c.id, devices.c.sign_key).where(devices.c.id.in_(device_ids)))
            return {row.id: row.sign_key for row in rows}

    def list_devices(self, account: bytes) -> list[dict[str, object]]:
        with self.reader.connect() as conn:
            rows = conn.execute(
                sa.select(devices).where(devices.c.account_id == account).order_by(devices.c.created_at)
            )
            return [
                {"device": r.id.hex(), "name": r.name, "created": r.created_at, "revoked": r.revoked_at is not None}
                for r in rows
            ]

    def revoke_device(self, device: bytes, account: bytes | None = None) -> bool:
        """Revoke ``device`` (restricted to ``account`` when given); its tokens stop working at once."""
        with self._write() as conn:
            where = [devices.c.id == device, devices.c.revoked_at.is_(None)]
            if account is not None:
                where.append(devices.c.account_id == account)
            done = conn.execute(devices.update().where(*where).values(revoked_at=_now())).rowcount
            conn.execute(tokens.delete().where(tokens.c.device_id == device))
        return bool(done)

    def seen(self, device: bytes) -> None:
        """Note that ``device`` synced now (what tells an admin "has not synced for a while" from
        "unresponsive"); written at most once a minute per device and process."""
        now = _now()
        if now - self._seen.get(device, 0) < SEEN_EVERY_S:
            return
        upsert = (sqlite_insert if self.is_sqlite else postgresql_insert)(device_seen).values(
            device_id=device, last_seen=now
        )
        with self._write() as conn:
            conn.execute(upsert.on_conflict_do_update(index_elements=["device_id"], set_={"last_seen": now}))
        self._seen[device] = now

    def presence(self) -> list[dict[str, object]]:
        """Every account with its role, when it joined, and its last sync from any active device (or None):
        metadata an admin needs, and nothing of what people wrote."""
        with self.reader.connect() as conn:
            rows = conn.execute(
                sa.select(
                    accounts.c.id,
                    accounts.c.role,
                    accounts.c.created_at,
                    sa.func.max(device_seen.c.last_seen).label("last_sync"),
                )
                .select_from(accounts)
                .outerjoin(devices, sa.and_(devices.c.account_id == accounts.c.id, devices.c.revoked_at.is_(None)))
                .outerjoin(device_seen, device_seen.c.device_id == devices.c.id)
                .group_by(accounts.c.id, accounts.c.role, accounts.c.created_at)
                .order_by(accounts.c.created_at, accounts.c.id)
            )
            return [
                {"account": r.id.hex(), "role": r.role, "joined": r.created_at, "last_sync": r.last_sync} for r in rows
            ]

    # -- challenge and token -------------------------------------------------------------------------------

    def new_challenge(self, device: bytes) -> tuple[bytes, int]:
        challenge, expires = secrets.token_bytes(32), _now() + CHALLENGE_TTL_S
        with self._write() as conn:
            conn.execute(challenges.delete().where(challenges.c.expires_at < _now()))
            conn.execute(challenges.insert().values(challenge=challenge, device_id=device, expires_at=expires))
        return challenge, expires

    def spend_challenge(self, device: bytes, challenge: bytes) -> bool:
        with self._write() as conn:
            return bool(
                conn.execute(
                    challenges.delete().where(
                        challenges.c.challenge == challenge,
                        challenges.c.device_id == device,
                        challenges.c.expires_at >= _now(),
                    )
                ).rowcount
            )

    def issue_token(self, device: bytes) -> tuple[str, int]:
        token, expires = secrets.token_urlsafe(32), _now() + TOKEN_TTL_S
        with self._write() as conn:
            conn.execute(tokens.delete().where(tokens.c.expires_at < _now()))
            conn.execute(tokens.insert().values(token_hash=_hash(token), device_id=device, expires_at=expires))
        return token, expires

    def session_for_token(self, token: str) -> tuple[DeviceSession | None, str]:
        """(session, "") or (None, reason) with reason one of ``unauthenticated``, ``token-expired``,
        ``device-revoked``."""
        with self.reader.connect() as conn:
            row = conn.execute(
                sa.select(
                    tokens.c.expires_at, devices.c.id, devices.c.account_id, devices.c.revoked_at, accounts.c.role
                )
                .join(devices, devices.c.id == tokens.c.device_id)
                .join(accounts, accounts.c.id == devices.c.account_id)
                .where(tokens.c.token_hash == _hash(token))
            ).first()
        if row is None:
            return None, "unauthenticated"
        if row.revoked_at is not None:
            return None, "device-revoked"
        if row.expires_at < _now():
            return None, "token-expired"
        return DeviceSession(row.account_id, row.id, row.role), ""

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
            if fresh:
                now = _now()
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
                if audience_rows:
                    conn.execute(record_audience.insert(), audience_rows)
                conn.execute(counter.update().where(counter.c.id == 1).values(value=high + len(fresh)))
        return PushResult(len(batch), [])

    def pull(self, session: DeviceSession, cursor: int, budget: int) -> PullResult:
        """Records after ``cursor`` whose audience includes the caller, not pushed by this device, in ``seq``
        order, up to about ``budget`` body bytes (at least one record when any is waiting)."""
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
                    sa.select(records).join(wanted, wanted.c.seq == records.c.seq).order_by(records.c.seq).limit(200)
                ).all()
                if not page:
                    position = high
                    break
                for row in page:
                    size = len(row.body) + 96
                    if out and used + size > budget:
                        return PullResult(out, position, True)
                    position = row.seq
                    if row.device == session.device:
                        continue
                    used += size
                    out.append(
                        Record(
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
                    )
                if len(page) < 200:
                    position = high
                    break
            return PullResult(out, max(position, cursor), False)
