"""Content-addressed blob files under the server's data directory, filled chunk by chunk and verified whole.

Layout: ``blobs/<sha[:2]>/<sha>`` for complete blobs; ``blobs/partial/<account>/<sha>/<index>`` while one account
uploads (each account fills its own, so a stranger who knows the hash cannot spoil an upload in progress).

Publication is atomic and recoverable. Every chunk is written temp-file + rename; once an account's chunks are
all there, the blob is assembled into a temp file beside its final name, checked against its hash, fsynced and
renamed into place; only then is the partial folder removed (renamed aside first, then deleted). A server killed
at any step leaves either the whole blob, or a complete set of chunks that the next chunk or status call
publishes; start-up removes what a killed publication left over. Requests racing to publish the same blob each
build their own temp file, and a vanished partial folder or an "already published" blob counts as success. With
several server processes the folder must be shared (one file system, where rename is atomic).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import signal
from pathlib import Path

from sync.clock import SYSTEM, Clock
from sync.files import write_atomically
from sync.protocol import BLOB_CHUNK, MAX_BLOB_BYTES, ProtocolError

_SHA = re.compile(r"^[0-9a-f]{64}$")
_ACCOUNT = re.compile(r"^[0-9a-f]{32}$")
STALE_TMP_S = 3600  # a temp file this old belongs to no live request, whichever process made it
OPERATOR = bytes(16)  # the uploader of blobs put in by the server's own tools (the demo seed), not by an account
FAULT_ENV = "OSLER_SERVER_FAULT_FILE"
# Where a test may have the server SIGKILL itself while it publishes a blob (see ``_fault``).
FAULT_STEPS = ("chunk-stored", "assembling", "assembled", "published")


def chunk_count(size: int) -> int:
    return max(1, -(-size // BLOB_CHUNK))


def _fault(step: str) -> None:
    """A crash on purpose, for tests: when ``$OSLER_SERVER_FAULT_FILE`` names a file that holds ``step``, the file
    is removed and the process SIGKILLs itself, as a power cut would stop it. Unset in production: a no-op."""
    armed = os.environ.get(FAULT_ENV)
    if not armed:
        return
    try:
        wanted = Path(armed).read_text().strip()
    except OSError:
        return
    if wanted == step:
        Path(armed).unlink(missing_ok=True)
        os.kill(os.getpid(), signal.SIGKILL)


class BlobStore:
    def __init__(self, root: Path, clock: Clock = SYSTEM) -> None:
        self.root, self.clock = root, clock
        (root / "partial").mkdir(parents=True, exist_ok=True)
        self.sweep()

    def _check(self, sha: str, size: int) -> None:
        if not _SHA.match(sha):
            raise ProtocolError(422, "invalid", "blob id must be 64 lowercase hex digits (SHA-256)")
        if not 0 <= size <= MAX_BLOB_BYTES:
            raise ProtocolError(413, "too-large", f"blobs are limited to {MAX_BLOB_BYTES} bytes")

    def _final(self, sha: str) -> Path:
        return self.root / sha[:2] / sha

    def _partial(self, owner: bytes, sha: str) -> Path:
        return self.root / "partial" / owner.hex() / sha

    def path(self, sha: str) -> Path | None:
        if not _SHA.match(sha):
            raise ProtocolError(422, "invalid", "blob id must be 64 lowercase hex digits (SHA-256)")
        path = self._final(sha)
        return path if path.is_file() else None

    def missing(self, sha: str, size: int, owner: bytes = OPERATOR) -> list[int]:
        """The chunks ``owner`` has yet to send (none once the blob is published, by anyone). A complete set
        left unpublished (a server killed mid-publication) is published now."""
        self._check(sha, size)
        partial = self._partial(owner, sha)
        if self.path(sha) is not None:
            self._drop(partial)  # someone else published it: this account's upload is moot
            return []
        missing = self._still_missing(sha, size, partial)
        if missing:
            return missing
        try:
            published = self._publish(sha, size, partial)
        except ProtocolError:  # the chunks do not hash to the id: they were dropped, so send them all again
            return list(range(chunk_count(size)))
        return [] if published else self._still_missing(sha, size, partial)

    def put_chunk(self, sha: str, size: int, index: int, data: bytes, owner: bytes = OPERATOR) -> list[int]:
        """Store ``owner``'s chunk ``index``; when it was the last one missing, verify and publish the blob.
        Returns what is still missing (empty = complete)."""
        self._check(sha, size)
        count = chunk_count(size)
        expected = size - (count - 1) * BLOB_CHUNK if index == count - 1 else BLOB_CHUNK
        if not 0 <= index < count or len(data) != expected:
            raise ProtocolError(422, "invalid", f"chunk {index} of a {size}-byte blob must be {expected} bytes")
        partial = self._partial(owner, sha)
        for _attempt in range(3):
            if self.path(sha) is not None:
                self._drop(partial)
                return []
            try:
                partial.mkdir(parents=True, exist_ok=True)
                write_atomically(partial / str(index), data)
                break
            except (FileNotFoundError, FileExistsError):  # the folder was published or dropped under us: again
                continue
        else:
            raise ProtocolError(409, "conflict", "the upload changed under this request; ask which chunks are missing")
        _fault("chunk-stored")
        missing = self._still_missing(sha, size, partial)
        if missing:
            return missing
        return [] if self._publish(sha, size, partial) else self._still_missing(sha, size, partial)

    def _still_missing(self, sha: str, size: int, partial: Path) -> list[int]:
        """What ``partial`` lacks, or nothing once the blob is published. Read in that order: a racing request
        publishes before it drops the folder, so a folder found emptied means the blob is there."""
        missing = _missing_in(partial, size)
        if missing and self.path(sha) is not None:
            self._drop(partial)  # a leftover, e.g. re-created by a chunk that arrived after publication
            return []
        return missing

    def _publish(self, sha: str, size: int, partial: Path) -> bool:
        """Assemble, verify and rename into place. True when the blob is published (by this call or a racing
        one); False when chunks vanished and it is not (the caller reports what is missing). A mismatch drops the
        chunks and is a 422."""
        final = self._final(sha)
        final.parent.mkdir(exist_ok=True)
        tmp = final.parent / f".{sha}.{secrets.token_hex(4)}.tmp"
        try:
            digest = hashlib.sha256()
            with tmp.open("wb") as out:
                for index in range(chunk_count(size)):
                    try:
                        data = (partial / str(index)).read_bytes()
                    except FileNotFoundError:
                        return final.is_file()
                    digest.update(data)
                    out.write(data)
                    _fault("assembling")
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != sha:
                self._drop(partial)
                raise ProtocolError(422, "invalid", "the chunks do not hash to the blob id; upload again")
            _fault("assembled")
            try:
                os.replace(tmp, final)
            except FileNotFoundError:  # a racing request published first and tidied this temp file away
                return final.is_file()
            _fsync_dir(final.parent)
            _fault("published")
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        for leftover in final.parent.glob(f".{sha}.*.tmp"):  # from a publication killed half way
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        self._drop(partial)
        return True

    @staticmethod
    def _drop(partial: Path) -> None:
        """Remove a partial folder: renamed aside first (atomic), so a racing writer either finished before or
        finds the folder gone, never half of it."""
        aside = partial.with_name(f".drop-{partial.name}-{secrets.token_hex(4)}")
        try:
            os.rename(partial, aside)
        except FileNotFoundError:
            return
        except OSError:  # e.g. not empty target on an odd file system: delete in place
            shutil.rmtree(partial, ignore_errors=True)
            return
        shutil.rmtree(aside, ignore_errors=True)

    def sweep(self) -> None:
        """At start-up: remove what a killed publication left over (partial folders of published blobs, folders
        renamed aside, stale temp files) and partial folders of the old layout (``partial/<sha>``, resumed by
        uploading again). A complete but unpublished set is kept: the next call about it publishes it."""
        cutoff = self.clock.time() - STALE_TMP_S
        for tmp in self.root.glob("??/.*.tmp"):
            with contextlib.suppress(OSError):
                if self._final(tmp.name[1:65]).is_file() or tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
        for entry in (self.root / "partial").iterdir():
            if _SHA.match(entry.name):
                shutil.rmtree(entry, ignore_errors=True)
                continue
            if not (_ACCOUNT.match(entry.name) and entry.is_dir()):
                continue
            for upload in entry.iterdir():
                if upload.name.startswith(".drop-") or (_SHA.match(upload.name) and self._final(upload.name).is_file()):
                    shutil.rmtree(upload, ignore_errors=True)


def _missing_in(partial: Path, size: int) -> list[int]:
    try:
        have = {int(name) for name in os.listdir(partial) if name.isdigit()}
    except FileNotFoundError:
        have = set()
    return [i for i in range(chunk_count(size)) if i not in have]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
