"""Content-addressed blob files under the server's data directory, filled chunk by chunk and verified whole.

Layout: ``blobs/<sha[:2]>/<sha>`` for complete blobs, ``blobs/partial/<sha>/<index>`` while uploading. Every
write is temp-file + rename, so a server killed mid-upload leaves only whole chunks; the upload resumes from
``missing()``. With several server processes the folder must be shared (or replaced by an object store).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
from pathlib import Path

from sync.protocol import BLOB_CHUNK, MAX_BLOB_BYTES, ProtocolError

_SHA = re.compile(r"^[0-9a-f]{64}$")


def chunk_count(size: int) -> int:
    return max(1, -(-size // BLOB_CHUNK))


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "partial").mkdir(parents=True, exist_ok=True)

    def _check(self, sha: str, size: int) -> None:
        if not _SHA.match(sha):
            raise ProtocolError(422, "invalid", "blob id must be 64 lowercase hex digits (SHA-256)")
        if not 0 <= size <= MAX_BLOB_BYTES:
            raise ProtocolError(413, "too-large", f"blobs are limited to {MAX_BLOB_BYTES} bytes")

    def path(self, sha: str) -> Path | None:
        if not _SHA.match(sha):
            raise ProtocolError(422, "invalid", "blob id must be 64 lowercase hex digits (SHA-256)")
        path = self.root / sha[:2] / sha
        return path if path.is_file() else None

    def missing(self, sha: str, size: int) -> list[int]:
        self._check(sha, size)
        if self.path(sha) is not None:
            return []
        partial = self.root / "partial" / sha
        have = {int(p.name) for p in partial.iterdir() if p.name.isdigit()} if partial.is_dir() else set()
        return [i for i in range(chunk_count(size)) if i not in have]

    def put_chunk(self, sha: str, size: int, index: int, data: bytes) -> list[int]:
        """Store one chunk; when it was the last missing one, verify and publish the blob. Returns what is
        still missing (empty = complete)."""
        self._check(sha, size)
        count = chunk_count(size)
        expected = size - (count - 1) * BLOB_CHUNK if index == count - 1 else BLOB_CHUNK
        if not 0 <= index < count or len(data) != expected:
            raise ProtocolError(422, "invalid", f"chunk {index} of a {size}-byte blob must be {expected} bytes")
        if self.path(sha) is not None:
            return []
        partial = self.root / "partial" / sha
        partial.mkdir(parents=True, exist_ok=True)
        _write_atomic(partial / str(index), data)
        missing = self.missing(sha, size)
        if not missing:
            self._publish(sha, size, partial)
        return missing

    def _publish(self, sha: str, size: int, partial: Path) -> None:
        digest = hashlib.sha256()
        final_dir = self.root / sha[:2]
        final_dir.mkdir(exist_ok=True)
        tmp = final_dir / f".{sha}.{secrets.token_hex(4)}.tmp"
        try:
            with tmp.open("wb") as out:
                for index in range(chunk_count(size)):
                    data = (partial / str(index)).read_bytes()
                    digest.update(data)
                    out.write(data)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != sha:
                shutil.rmtree(partial, ignore_errors=True)
                raise ProtocolError(422, "invalid", "the chunks do not hash to the blob id; upload again")
            os.replace(tmp, final_dir / sha)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        shutil.rmtree(partial, ignore_errors=True)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with tmp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
