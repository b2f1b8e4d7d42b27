"""Large files (learning material, attachments) stored as encrypted fixed-size chunks inside the vault.

A blob is declared first (size and SHA-256 of its plaintext, known from the message or catalogue that names it),
then filled chunk by chunk in any order: a download cut half way resumes from ``missing_chunks()``. Reading
checks that every chunk is present, authentic, in its place, that the last one carries the last-chunk flag, and
that the whole matches the declared SHA-256; anything else is a ``VaultIntegrityError`` naming the blob.
Plaintext columns are the blob's row key, its size and chunk count (the data saver decides on size); name, type
and hash are sealed. Callers name a blob by their own id (often the SHA-256 of its plaintext); the row key is an
HMAC of that id under a key derived from the data key, so the file never shows which known files it holds.
Sealed fields and chunks stay bound to the caller's id.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.vault.errors import VaultIntegrityError
from desktop.vault.fsutil import atomic_write

if TYPE_CHECKING:
    from desktop.vault.store import Vault

CHUNK_SIZE = 64 * 1024
_INFO_COUNTED = (
    "SELECT size, chunk_count, meta, (SELECT count(*) FROM blob_chunks WHERE blob_id = blobs.id)"
    " FROM blobs WHERE id = ?"
)
_INFO_DECLARED = "SELECT size, chunk_count, meta, -1 FROM blobs WHERE id = ?"
MAX_BLOB_BYTES = 4 * 1024**3


@dataclass(frozen=True)
class BlobInfo:
    id: str
    size: int
    chunk_count: int
    name: str
    mime: str
    sha256: str
    stored_chunks: int

    @property
    def complete(self) -> bool:
        return self.stored_chunks == self.chunk_count


def chunk_count_for(size: int) -> int:
    """An empty blob still has one (empty, last) chunk, so its end is authenticated like any other."""
    return max(1, -(-size // CHUNK_SIZE))


class BlobStore:
    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def begin(self, blob_id: str, size: int, sha256: str, name: str = "", mime: str = "") -> BlobInfo:
        """Declare a blob to be filled; declaring the same blob again is a no-op (resume)."""
        if not 0 <= size <= MAX_BLOB_BYTES:
            raise ValueError(f"blob size {size} outside 0..{MAX_BLOB_BYTES}")
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("sha256 must be 64 lowercase hex digits")
        with self._vault._lock:
            db, keys = self._vault._session()
            existing = self.info(blob_id)
            if existing is not None:
                if (existing.size, existing.sha256) != (size, sha256):
                    raise ValueError(f"blob {blob_id} was declared with a different size or hash")
                return existing
            meta = {"name": name, "mime": mime, "sha256": sha256, "size": size}
            sealed = keys.fields.seal("blobs", blob_id, "meta", json.dumps(meta).encode())
            with db.atomic():
                db["blobs"].insert(
                    {
                        "id": keys.blob_row(blob_id),
                        "size": size,
                        "chunk_count": chunk_count_for(size),
                        "created_at": int(time.time() * 1000),
                        "meta": sealed,
                    }
                )
            return BlobInfo(blob_id, size, chunk_count_for(size), name, mime, sha256, 0)

    def put_chunk(self, blob_id: str, index: int, data: bytes) -> None:
        """Store chunk ``index`` (idempotent: the same chunk again replaces it)."""
        self.put_chunks(blob_id, [(index, data)])

    def put_chunks(self, blob_id: str, chunks: Sequence[tuple[int, bytes]]) -> None:
        """Store several chunks in one transaction: every one checked and sealed like ``put_chunk``, one commit
        (an import from a content pack commits every few MiB instead of every 64 KiB)."""
        with self._vault._lock:
            db, keys = self._vault._session()
            info = self._declared(blob_id)
            row_key = keys.blob_row(blob_id)
            rows = []
            for index, data in chunks:
                last = index == info.chunk_count - 1
                expected = info.size - index * CHUNK_SIZE if last else CHUNK_SIZE
                if not 0 <= index < info.chunk_count or len(data) != expected:
                    raise ValueError(f"chunk {index} of blob {blob_id} must be {expected} bytes")
                rows.append((row_key, index, keys.chunks.seal(blob_id, index, last, data)))
            with db.atomic():
                db.conn.executemany("INSERT OR REPLACE INTO blob_chunks (blob_id, idx, data) VALUES (?, ?, ?)", rows)

    def missing_chunks(self, blob_id: str) -> list[int]:
        with self._vault._lock:
            db, keys = self._vault._session()
            info = self._require(blob_id)
            row_key = keys.blob_row(blob_id)
            have = {row[0] for row in db.execute("SELECT idx FROM blob_chunks WHERE blob_id = ?", [row_key])}
            return [i for i in range(info.chunk_count) if i not in have]

    def info(self, blob_id: str) -> BlobInfo | None:
        return self._info(blob_id, count=True)

    def _declared(self, blob_id: str) -> BlobInfo:
        """What ``begin`` declared, checked like ``info``, without counting the chunks stored (a scan of the
        blob's rows: the cost that dominated writing a large blob a batch at a time)."""
        info = self._info(blob_id, count=False)
        if info is None:
            raise KeyError(f"no blob {blob_id}")
        return info

    def _info(self, blob_id: str, *, count: bool) -> BlobInfo | None:
        with self._vault._lock:
            db, keys = self._vault._session()
            row = db.execute(_INFO_COUNTED if count else _INFO_DECLARED, [keys.blob_row(blob_id)]).fetchone()
            if row is None:
                return None
            size, chunk_count, sealed, stored = row
            meta = json.loads(keys.fields.open("blobs", blob_id, "meta", sealed))
            if meta.get("size") != size or chunk_count != chunk_count_for(size):
                raise VaultIntegrityError("blobs", blob_id, "size", "stored size does not match the sealed size")
            return BlobInfo(blob_id, size, chunk_count, meta["name"], meta["mime"], meta["sha256"], stored)

    def read(self, blob_id: str) -> Iterator[bytes]:
        """Yield the plaintext chunk by chunk; raises ``VaultIntegrityError`` on any defect, the hash check
        coming after the last chunk, so callers that keep the data must wait for the end (see ``export``)."""
        info = self._require(blob_id)
        digest = hashlib.sha256()
        for index in range(info.chunk_count):
            with self._vault._lock:
                db, keys = self._vault._session()
                row = db.execute(
                    "SELECT data FROM blob_chunks WHERE blob_id = ? AND idx = ?", [keys.blob_row(blob_id), index]
                ).fetchone()
                if row is None:
                    raise VaultIntegrityError("blob_chunks", blob_id, f"chunk {index}", "incomplete: chunk missing")
                plain = keys.chunks.open(blob_id, index, index == info.chunk_count - 1, row[0])
            digest.update(plain)
            yield plain
        if digest.hexdigest() != info.sha256:
            raise VaultIntegrityError("blobs", blob_id, "content", "SHA-256 does not match")

    def read_all(self, blob_id: str) -> bytes:
        return b"".join(self.read(blob_id))

    def put_bytes(self, data: bytes, name: str = "", mime: str = "") -> BlobInfo:
        """Keep ``data`` whole, named by its SHA-256 (the same bytes kept twice are stored once)."""
        sha = hashlib.sha256(data).hexdigest()
        info = self.begin(sha, len(data), sha, name, mime)
        for index in self.missing_chunks(info.id):
            self.put_chunk(info.id, index, data[index * CHUNK_SIZE : (index + 1) * CHUNK_SIZE])
        return self._require(info.id)

    def import_file(self, path: Path, name: str | None = None, mime: str = "") -> BlobInfo:
        """Copy a local file into the vault, encrypted; returns its info (id is a fresh UUID)."""
        path = Path(path)
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(CHUNK_SIZE), b""):
                digest.update(block)
        size = path.stat().st_size
        blob_id = uuid.uuid4().hex
        self.begin(blob_id, size, digest.hexdigest(), name or path.name, mime)
        with path.open("rb") as handle:
            for index in range(chunk_count_for(size)):
                self.put_chunk(blob_id, index, handle.read(CHUNK_SIZE))
        info = self._require(blob_id)
        if not info.complete:
            raise ValueError(f"{path} changed while it was being imported")
        return info

    def export(self, blob_id: str, destination: Path) -> None:
        """Write the verified plaintext to ``destination`` atomically: a damaged blob leaves no file."""
        atomic_write(Path(destination), self.read(blob_id))

    def delete(self, blob_id: str) -> None:
        with self._vault._lock:
            db, keys = self._vault._session()
            row_key = keys.blob_row(blob_id)
            with db.atomic():
                db.execute("DELETE FROM blob_chunks WHERE blob_id = ?", [row_key])
                db.execute("DELETE FROM blobs WHERE id = ?", [row_key])

    def _require(self, blob_id: str) -> BlobInfo:
        info = self.info(blob_id)
        if info is None:
            raise KeyError(f"no blob {blob_id}")
        return info
