"""A library file on a real server for the download manager's tests and benchmark: the plain file and its part
list (the SHA-256 of each 64 KiB chunk, concatenated) uploaded as blobs, and the catalogue entry's fields."""

from __future__ import annotations

import random
from dataclasses import dataclass

from desktop.domain.library_format import parts_of
from desktop.vault.blobs import CHUNK_SIZE
from sync.client.engine import SyncEngine


@dataclass(frozen=True)
class Item:
    """The fields of a catalogue entry the download manager reads (core's LibraryItem has them all)."""

    id: str
    title: str
    size: int
    sha256: str
    parts: str
    mime: str = "application/pdf"


def file_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def publish(engine: SyncEngine, data: bytes, title: str) -> Item:
    """Upload ``data`` and its part list; the entry's fields (``parts`` empty for a one-chunk file)."""
    sha = engine.upload_blob(data)
    parts = engine.upload_blob(parts_of(data)) if len(data) > CHUNK_SIZE else ""
    return Item(id=f"item-{sha[:8]}", title=title, size=len(data), sha256=sha, parts=parts)
