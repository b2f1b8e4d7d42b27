"""The edge relay's data folder: sealed request and answer bundles and their clear headers, in one SQLite file.

It holds nothing a bundle's seal hides (PROTOCOL.md §13.6): the bytes as they came, and the header fields any
carrier reads (kind, programme, device, request id, sizes, created time). One row per distinct request file (keyed
by the SHA-256 of its bytes, so the same file brought twice is stored once), and per device the newest answer the
origin made for it plus the request to send again to refresh that answer.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    digest TEXT PRIMARY KEY,          -- SHA-256 of the whole file, hex
    arrival INTEGER NOT NULL UNIQUE,  -- arrival order
    request TEXT NOT NULL,            -- request id (header q), hex
    device TEXT NOT NULL,             -- device id (header d), hex
    created_ms INTEGER NOT NULL,      -- header at (the device's clock)
    received_ms INTEGER NOT NULL,     -- the relay's clock
    records INTEGER NOT NULL,
    blob_bytes INTEGER NOT NULL,
    size INTEGER NOT NULL,
    state TEXT NOT NULL,              -- queued | sent (the origin answered it)
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_state ON requests (state, arrival);
CREATE TABLE IF NOT EXISTS devices (
    device TEXT PRIMARY KEY,
    latest TEXT,                      -- digest of the newest request the origin answered: re-sent to refresh
    seen_ms INTEGER NOT NULL,         -- when a request of this device last came in (relay clock)
    refreshed_ms INTEGER,             -- when its answer was last asked for upstream (relay clock)
    answer_request TEXT,              -- the held answer: its request id (hex), header at, bytes
    answer_at INTEGER,
    answer BLOB
);
"""


@dataclass(frozen=True)
class Queued:
    digest: str
    request: str
    device: str
    data: bytes


@dataclass(frozen=True)
class Counts:
    queued: int
    queued_bytes: int
    devices: int
    answers: int


class StoreFull(Exception):
    """Keeping one more request would pass the relay's limit on queued bytes."""


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RelayStore:
    """Thread-safe (one connection, one lock): the app's requests and the forwarder share it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a 202 means the request survives a power cut
        self._db.executescript(_SCHEMA)

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> RelayStore:
        return cls(data_dir / "relay.db")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _tx(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, params)

    def add(
        self,
        data: bytes,
        *,
        request: bytes,
        device: bytes,
        created_ms: int,
        records: int,
        blob_bytes: int,
        now_ms: int,
        max_queued_bytes: int | None = None,
    ) -> tuple[str, bool]:
        """Keep a request file; ``(digest, new)``: ``new`` is False when these very bytes were already held.
        ``StoreFull`` (nothing kept) when the queued requests and this one would pass ``max_queued_bytes``."""
        digest = digest_of(data)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                held = self._tx("SELECT 1 FROM requests WHERE digest = ?", (digest,)).fetchone()
                if held is None and max_queued_bytes is not None:
                    queued = self._tx("SELECT COALESCE(SUM(size), 0) FROM requests WHERE state = 'queued'")
                    if queued.fetchone()[0] + len(data) > max_queued_bytes:
                        raise StoreFull
                if held is None:
                    arrival = self._tx("SELECT COALESCE(MAX(arrival), 0) + 1 FROM requests").fetchone()[0]
                    self._tx(
                        "INSERT INTO requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
                        (
                            digest,
                            arrival,
                            request.hex(),
                            device.hex(),
                            created_ms,
                            now_ms,
                            records,
                            blob_bytes,
                            len(data),
                            data,
                        ),
                    )
                self._tx(
                    "INSERT INTO devices (device, seen_ms) VALUES (?, ?) "
                    "ON CONFLICT (device) DO UPDATE SET seen_ms = excluded.seen_ms",
                    (device.hex(), now_ms),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return digest, held is None

    def state(self, digest: str) -> str | None:
        with self._lock:
            row = self._tx("SELECT state FROM requests WHERE digest = ?", (digest,)).fetchone()
        return row[0] if row else None

    def queued(self) -> list[Queued]:
        """Requests the origin has not answered yet, in arrival order."""
        with self._lock:
            rows = self._tx(
                "SELECT digest, request, device, data FROM requests WHERE state = 'queued' ORDER BY arrival"
            ).fetchall()
        return [Queued(*row) for row in rows]

    def answered(self, digest: str, answer: bytes, answer_at: int, now_ms: int) -> None:
        """The origin answered request ``digest`` with ``answer`` (made at ``answer_at``, origin clock): hold the
        answer when it is the device's newest, make this request the one to refresh when it is the device's newest
        answered request, and drop the bytes of the device's older answered requests."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._tx(
                    "SELECT device, request, created_ms FROM requests WHERE digest = ?", (digest,)
                ).fetchone()
                if row is None:
                    self._db.execute("COMMIT")
                    return
                device, request, created_ms = row
                self._tx("UPDATE requests SET state = 'sent' WHERE digest = ?", (digest,))
                self._tx(
                    "INSERT INTO devices (device, seen_ms) VALUES (?, ?) ON CONFLICT (device) DO NOTHING",
                    (device, now_ms),
                )
                self._tx(
                    "UPDATE devices SET answer = ?, answer_at = ?, answer_request = ? "
                    "WHERE device = ? AND (answer_at IS NULL OR answer_at <= ?)",
                    (answer, answer_at, request, device, answer_at),
                )
                latest = self._tx(
                    "SELECT r.digest, r.created_ms FROM devices d JOIN requests r ON r.digest = d.latest "
                    "WHERE d.device = ?",
                    (device,),
                ).fetchone()
                if latest is None or latest[1] <= created_ms:
                    self._tx(
                        "UPDATE devices SET latest = ?, refreshed_ms = ? WHERE device = ?", (digest, now_ms, device)
                    )
                self._tx(
                    "DELETE FROM requests WHERE device = ? AND state = 'sent' "
                    "AND digest != (SELECT latest FROM devices WHERE device = ?)",
                    (device, device),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def refused(self, digest: str) -> None:
        """The origin refused request ``digest`` for good (4xx: a revoked or unknown device, a bad signature): drop
        it, and stop refreshing with it."""
        with self._lock:
            self._tx("DELETE FROM requests WHERE digest = ?", (digest,))

    def answer_for(self, device: bytes) -> bytes | None:
        with self._lock:
            row = self._tx("SELECT answer FROM devices WHERE device = ?", (device.hex(),)).fetchone()
        return row[0] if row and row[0] is not None else None

    def answered_digest(self, digest: str) -> bool:
        return self.state(digest) == "sent"

    def to_refresh(self, before_ms: int, idle_before_ms: int, active_since_ms: int, max_size: int) -> list[Queued]:
        """Each device's newest answered request of at most ``max_size`` bytes whose answer was last asked for
        before ``before_ms`` (a device seen since ``active_since_ms``) or ``idle_before_ms`` (one away longer), the
        longest-waiting first."""
        with self._lock:
            rows = self._tx(
                "SELECT r.digest, r.request, r.device, r.data FROM devices d JOIN requests r ON r.digest = d.latest "
                "WHERE r.size <= ? AND (d.refreshed_ms IS NULL OR d.refreshed_ms <= "
                "CASE WHEN d.seen_ms >= ? THEN ? ELSE ? END) ORDER BY d.refreshed_ms",
                (max_size, active_since_ms, before_ms, idle_before_ms),
            ).fetchall()
        return [Queued(*row) for row in rows]

    def forget_before(self, seen_ms: int) -> int:
        """Drop the held answers and refresh requests of devices not seen since ``seen_ms`` (queued requests stay
        until the origin answers them); how many devices were forgotten."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._tx(
                    "DELETE FROM requests WHERE state = 'sent' AND device IN "
                    "(SELECT device FROM devices WHERE seen_ms < ?)",
                    (seen_ms,),
                )
                gone = self._tx(
                    "DELETE FROM devices WHERE seen_ms < ? AND device NOT IN "
                    "(SELECT device FROM requests WHERE state = 'queued')",
                    (seen_ms,),
                ).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return gone

    def counts(self) -> Counts:
        with self._lock:
            queued, queued_bytes = self._tx(
                "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM requests WHERE state = 'queued'"
            ).fetchone()
            devices, answers = self._tx("SELECT COUNT(*), COUNT(answer) FROM devices").fetchone()
        return Counts(queued, queued_bytes, devices, answers)
