"""The interface between the sync engine and local storage. ``sync`` never imports the desktop app: the app
hands the engine an object with these methods (the vault's adapter), and the engine needs nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sync.protocol import Record


class SyncStore(Protocol):
    def outbox(self, budget_bytes: int) -> list[Record]:
        """Oldest queued records first, their encoded sizes adding up to at most ``budget_bytes`` (at least one
        record when any is queued)."""

    def outbox_totals(self) -> tuple[int, int]:
        """(records, bytes) still queued."""

    def mark_sent(self, ids: Sequence[bytes]) -> None:
        """The server acknowledged these records."""

    def mark_rejected(self, ids: Sequence[bytes], reason: str) -> None:
        """The server refused these records for good; stop pushing them and keep the reason for the person."""

    def cursor(self) -> int:
        """The last applied server cursor (0 before the first pull)."""

    def apply(self, records: Sequence[Record], cursor: int) -> None:
        """Store inbound records and the new cursor in ONE transaction; records already present are ignored."""

    # Optional (a store without them never filters): ``catching_up() -> bool`` is true while a device linked or
    # restored fetches the account's history for the first time, so a pull asks the server to leave out the
    # epoch grants that do not name this device (``g: 1``, PROTOCOL.md §4); ``caught_up()`` is called once a
    # pull so filtered reached the end.
