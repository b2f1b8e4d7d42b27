"""One library file fetched into the vault: the part list first, then the file as one streamed ``GET`` with
``Range``, each 64 KiB chunk checked against its entry in the part list as it arrives (PROTOCOL.md §7.1).

The part list is a blob of its own: the 32-byte SHA-256 of every 65,536-byte chunk, concatenated, named by its
SHA-256 in the signed catalogue entry (``parts``). It is fetched whole (20 MB file → 10 KB), checked against that
name, and kept in the vault so a restart does not fetch it again. A chunk whose hash is not its entry is dropped and
fetched again alone (a one-chunk ``Range``); a chunk that is still wrong after ``MAX_TRIES`` makes the download fail
with ``DamagedCopy`` (the server's copy is damaged), its good chunks kept. A cut keeps every whole chunk: only the
chunk in progress is fetched again. An item of one chunk (``parts`` empty) is checked against the file's SHA-256;
an older entry without a part list (v1) is checked as a whole at the end and fetched again from the start if wrong.
Runs on the download manager's thread; the caller says when to stop (pause, cancel, another item first).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop.domain.library_format import parts_match
from desktop.vault.blobs import CHUNK_SIZE, chunk_count_for
from desktop.vault.errors import VaultIntegrityError

if TYPE_CHECKING:
    from desktop.vault.store import Vault

MAX_TRIES = 3  # a chunk fetched this many times and still wrong: the server's copy is damaged
PIECE = 16 * 1024  # read size: a pause is noticed within this many bytes of the link


class DamagedCopy(Exception):
    """The server's copy does not match the signed entry (a chunk, the part list or the whole file)."""

    def __init__(self, sha: str, what: str) -> None:
        super().__init__(f"blob {sha[:12]}: {what}")
        self.what = what


@dataclass
class FetchStats:
    """What crossed the link for downloads (bodies only; the transport counts headers for the budget)."""

    body_bytes: int = 0  # every body byte received, part lists included
    dropped_bytes: int = 0  # received and thrown away: a chunk cut short, a chunk that failed its check
    bad_chunks: int = 0
    requests: int = 0


@dataclass(frozen=True)
class Target:
    """What the fetcher needs of a queued item (the entry's signed fields)."""

    sha256: str
    size: int
    parts: str
    title: str
    mime: str


def chunk_length(size: int, index: int) -> int:
    return min(CHUNK_SIZE, size - index * CHUNK_SIZE)


def missing_bytes(vault: Vault, target: Target) -> int:
    """Bytes of the file (and its part list) still to fetch."""
    info = vault.blobs.info(target.sha256)
    if info is None:
        file_bytes = target.size
    else:
        file_bytes = sum(chunk_length(target.size, i) for i in vault.blobs.missing_chunks(target.sha256))
    if target.parts:
        parts = vault.blobs.info(target.parts)
        if parts is None or not parts.complete:
            file_bytes += 32 * chunk_count_for(target.size)
    return file_bytes


class Fetcher:
    def __init__(
        self,
        vault: Vault,
        transport: Any,
        authorized: Callable[[Callable[[Any], Any]], Any],
        stats: FetchStats,
    ) -> None:
        self.vault, self.transport, self.authorized, self.stats = vault, transport, authorized, stats

    def _get(self, sha: str, offset: int, end: int | None) -> Any:
        self.stats.requests += 1
        return self.authorized(lambda token: self.transport.get_blob(sha, offset, token, end))

    def part_hashes(self, target: Target) -> list[bytes] | None:
        """Each chunk's expected SHA-256, or None for an old entry without a part list."""
        count = chunk_count_for(target.size)
        if not target.parts:
            return [bytes.fromhex(target.sha256)] if count == 1 else None
        blobs = self.vault.blobs
        held = blobs.info(target.parts)
        if held is None or not held.complete:
            response = self._get(target.parts, 0, None)
            data = bytearray()
            for piece in self.transport.blob_pieces(response, PIECE):
                self.stats.body_bytes += len(piece)
                data += piece
            if not parts_match(bytes(data), target.size, target.parts):
                self.stats.dropped_bytes += len(data)
                raise DamagedCopy(target.sha256, "the part list does not match the signed entry")
            blobs.put_bytes(bytes(data), mime="application/x-osler-parts")
        data = blobs.read_all(target.parts)
        return [data[i : i + 32] for i in range(0, len(data), 32)]

    def fetch(self, target: Target, stop: Callable[[bool], bool], progress: Callable[[int], None]) -> bool:
        """Fetch what is missing; True when the file is whole and verified, False when ``stop`` said so.
        ``stop(at_chunk_end)`` is asked after every piece (pause, cancel) and at every chunk's end (True: a
        higher-priority item may take over there). ``progress(n)`` is told of each good chunk's length."""
        blobs = self.vault.blobs
        blobs.begin(target.sha256, target.size, target.sha256, target.title, target.mime)
        hashes = self.part_hashes(target)
        tries: dict[int, int] = {}
        while missing := blobs.missing_chunks(target.sha256):
            if stop(True):
                return False
            if target.size == 0:
                blobs.put_chunk(target.sha256, 0, b"")
                break
            first = last = missing[0]
            wanted = set(missing)
            while last + 1 in wanted and not tries.get(last + 1):  # a chunk that failed goes alone
                last += 1
            if tries.get(first):
                last = first
            if not self._stream(target, first, last, hashes, tries, stop, progress):
                return False
        return self._verify(target, hashes is None)

    def _stream(
        self,
        target: Target,
        first: int,
        last: int,
        hashes: list[bytes] | None,
        tries: dict[int, int],
        stop: Callable[[bool], bool],
        progress: Callable[[int], None],
    ) -> bool:
        """One ``GET`` for chunks ``first``..``last``; False when told to stop. A cut raises ``Offline``."""
        size, blobs = target.size, self.vault.blobs
        whole_to_end = last == chunk_count_for(size) - 1
        end = None if whole_to_end else (last + 1) * CHUNK_SIZE - 1
        response = self._get(target.sha256, first * CHUNK_SIZE, end)
        skip = first * CHUNK_SIZE if response.status_code == 200 else 0  # a server that ignored the range
        buffer, index = bytearray(), first
        pieces = self.transport.blob_pieces(response, PIECE)
        try:
            for piece in pieces:
                self.stats.body_bytes += len(piece)
                if skip:
                    dropped = min(skip, len(piece))
                    self.stats.dropped_bytes += dropped
                    piece, skip = piece[dropped:], skip - dropped
                buffer += piece
                while index <= last and len(buffer) >= chunk_length(size, index):
                    n = chunk_length(size, index)
                    data = bytes(buffer[:n])
                    del buffer[:n]
                    if hashes is None or hashlib.sha256(data).digest() == hashes[index]:
                        blobs.put_chunk(target.sha256, index, data)
                        progress(n)
                    else:
                        self.stats.bad_chunks += 1
                        self.stats.dropped_bytes += n
                        tries[index] = tries.get(index, 0) + 1
                        if tries[index] >= MAX_TRIES:
                            raise DamagedCopy(target.sha256, f"chunk {index} does not match the part list")
                    index += 1
                    if index <= last and stop(True):
                        self.stats.dropped_bytes += len(buffer)
                        return False
                if index > last:
                    break
                if stop(False):
                    self.stats.dropped_bytes += len(buffer)
                    return False
        except BaseException:
            self.stats.dropped_bytes += len(buffer)  # the chunk in progress: fetched again, alone of all
            raise
        finally:
            pieces.close()
        return True

    def _verify(self, target: Target, whole_only: bool) -> bool:
        """Every chunk and the SHA-256 of the whole, read back from the vault."""
        try:
            for _chunk in self.vault.blobs.read(target.sha256):
                pass
        except VaultIntegrityError:
            self.vault.blobs.delete(target.sha256)  # no part list to say which chunk: from the start next time
            if whole_only:
                raise
            raise DamagedCopy(target.sha256, "the file does not match the signed entry") from None
        return True
