"""The server's bundle keys (PROTOCOL.md §13.2): request bundles are sealed to their box half, answers signed with
their sign half. Made once per programme and kept in the database, so every process of a deployment agrees."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from sync.envelope import ServerKeys
from sync.server.tables import devices, server_keys

BUNDLE_KEYS = "bundle"


class ServerKeysMixin:
    """Mixed into ``Storage``: needs ``reader``, ``is_sqlite``, ``_write`` and ``_now``."""

    reader: Engine
    is_sqlite: bool
    _bundle_keys: ServerKeys | None = None
    _keys_lock = threading.Lock()

    def _write(self) -> AbstractContextManager[Connection]: ...  # provided by Storage

    def _now(self) -> int: ...  # provided by AccountsMixin

    def bundle_keys(self) -> ServerKeys:
        """This server's bundle keys: made on first use (insert-if-absent, then read, so processes racing to make
        them all end with the one that was stored first), then cached."""
        cached = self._bundle_keys
        if cached is not None:
            return cached
        with self._keys_lock:
            if self._bundle_keys is None:
                self._bundle_keys = ServerKeys.from_private_bytes(self._stored_key(BUNDLE_KEYS))
            return self._bundle_keys

    def _stored_key(self, name: str) -> bytes:
        with self.reader.connect() as conn:
            raw = conn.execute(sa.select(server_keys.c.private).where(server_keys.c.name == name)).scalar()
        if raw is not None:
            return raw
        fresh = ServerKeys.generate().private_bytes()
        insert = (sqlite_insert if self.is_sqlite else postgresql_insert)(server_keys)
        with self._write() as conn:
            conn.execute(
                insert.values(name=name, private=fresh, created=self._now()).on_conflict_do_nothing(
                    index_elements=["name"]
                )
            )
            return conn.execute(sa.select(server_keys.c.private).where(server_keys.c.name == name)).scalar_one()

    def device_box_key(self, device: bytes) -> bytes | None:
        """The box key ``device`` registered (what its answer bundles are sealed to), or None."""
        with self.reader.connect() as conn:
            return conn.execute(sa.select(devices.c.box_key).where(devices.c.id == device)).scalar()
