"""The blobs of this device's sync bundles (bundles.py, PROTOCOL.md §13.3): what a request uploads (library files
and their part lists, then sealed attachments, in whole chunks from where the server's copy stops) and wants
(the attachments auto-download would fetch, the library download queue from each file's first missing chunk),
and what an answer brings: pieces stored in the vault, each checked (an attachment whole against its message, a
part list against its file's entry, a library file's chunks against its part list), uploads settled."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.domain.download_fetch import chunk_length
from desktop.domain.downloads import DONE, FAILED
from desktop.domain.library import UPLOADS
from desktop.domain.library_format import parts_match
from desktop.vault.blobs import chunk_count_for
from sync import bundle, envelope
from sync.clock import utcnow

if TYPE_CHECKING:
    from desktop.domain.offline_context import OfflineContext

log = logging.getLogger(__name__)
UPLOAD_FROM = "bundle-upload-from"  # vault entry: blob → the chunk its next piece starts at
CHUNK = 65_536  # blob pieces hold whole chunks (PROTOCOL.md §13.1)


def sealed_size(plain: int) -> int:
    """The size of an attachment sealed by ``envelope.seal_attachment``: a 16-byte tag per chunk."""
    return plain + 16 * max(1, -(-plain // envelope.ATTACHMENT_CHUNK))


class BundleBlobs:
    def __init__(self, session: OfflineContext) -> None:
        self.session, self.vault = session, session.vault

    def _upload_from(self) -> dict[str, int]:
        raw = self.vault.get_secret(UPLOAD_FROM)
        return json.loads(raw) if raw else {}

    def uploads(self, budget: int) -> tuple[list[bundle.BlobPiece], dict[str, list]]:
        """Library files (and part lists) published here, then sealed attachments, while the budget lasts: each
        from the chunk an earlier answer said the server still lacks, in whole chunks (a blob larger than one
        bundle goes over several)."""
        pieces: list[bundle.BlobPiece] = []
        owners: dict[str, list] = {}
        progress = self._upload_from()

        def add(sha: str, size: int, chunks: Callable[[int, int], bytes], owner: list) -> None:
            nonlocal budget
            first = progress.get(sha, 0)
            if first * CHUNK >= size:
                first = 0
            left = size - first * CHUNK
            length = left if left <= budget else (budget // CHUNK) * CHUNK
            if size == 0 or length <= 0:
                return
            count = -(-length // CHUNK)
            pieces.append(bundle.BlobPiece(sha, size, first, chunks(first, count)))
            owners[sha] = owner
            budget -= length

        raw = self.vault.get_secret(UPLOADS)
        for sha in json.loads(raw) if raw else []:
            info = self.vault.blobs.info(sha)
            if info is not None and info.complete:
                add(sha, info.size, lambda first, count, s=sha: self._vault_chunks(s, first, count), ["library"])
        messaging = self.session.messaging
        for message_id, entry in messaging.pending_uploads() if messaging is not None else []:
            if budget < min(CHUNK, sealed_size(entry["size"])):
                break
            sealed = messaging.sealed_attachment(entry)
            sha = hashlib.sha256(sealed).hexdigest()
            add(sha, len(sealed), lambda f, n, b=sealed: b[f * CHUNK : (f + n) * CHUNK], ["attachment", message_id])
        return pieces, owners

    def _vault_chunks(self, sha: str, first: int, count: int) -> bytes:
        """Chunks ``first`` .. ``first + count - 1`` of a blob held in the vault, read one at a time."""
        out = bytearray()
        for index, chunk in enumerate(self.vault.blobs.read(sha)):
            if index >= first + count:
                break
            if index >= first:
                out += chunk
        return bytes(out)

    def wants(self) -> tuple[list[bundle.WantedBlob], dict[str, list]]:
        """What an online sync would fetch: attachments auto-download would fetch (from the first chunk not yet
        gathered), then the library download queue (a file's part list when not held, then the file from its
        first missing chunk)."""
        session, wants, owners = self.session, [], {}
        if session.messaging is not None:
            attachments = session.messaging.attachments()
            for message_id, entry in session.settings.auto_downloads(attachments, utcnow(session.wall)):
                held = self._partial(entry["sha"]).stat().st_size if self._partial(entry["sha"]).exists() else 0
                wants.append(bundle.WantedBlob(entry["sha"], sealed_size(entry["size"]), held // CHUNK))
                owners[entry["sha"]] = ["attachment", message_id]
        blobs = self.vault.blobs
        for entry in session.downloads.entries():
            if entry.state in (DONE, FAILED):
                continue
            if entry.parts:
                held = blobs.info(entry.parts)
                if held is None or not held.complete:
                    wants.append(bundle.WantedBlob(entry.parts, 32 * chunk_count_for(entry.size), 0))
                    owners[entry.parts] = ["parts", entry.sha256]
            info = blobs.info(entry.sha256)
            missing = blobs.missing_chunks(entry.sha256) if info is not None else [0]
            if missing:
                wants.append(bundle.WantedBlob(entry.sha256, entry.size, missing[0]))
                owners[entry.sha256] = ["library", entry.parts, entry.title, entry.mime]
        return wants, owners

    def settle_uploads(self, answer: bundle.AnswerContent, kept: dict) -> None:
        """Uploads the server holds whole: no longer pending (an attachment ``uploaded``, a library blob off the
        list), as after an online upload. One not whole yet goes on from the chunk after the piece carried (or
        from the start, when the piece reached the blob's end and the server still lacks some of it)."""
        messaging, owners, carried = self.session.messaging, kept.get("up", {}), kept.get("pieces", {})
        progress = self._upload_from()
        for sha, complete in answer.uploaded:
            owner = owners.get(sha)
            if owner is None:
                continue
            if not complete:
                _first, end, size = carried.get(sha, [0, 0, 0])
                progress[sha] = end if end * CHUNK < size else 0
                continue
            progress.pop(sha, None)
            if owner[0] == "attachment" and messaging is not None:
                entry = messaging.attachment(owner[1])
                if entry is not None and entry["state"] == "pending-upload":
                    messaging.uploaded(owner[1])
            elif owner[0] == "library":
                with self.vault.transaction():
                    raw = self.vault.get_secret(UPLOADS)
                    left = [s for s in (json.loads(raw) if raw else []) if s != sha]
                    self.vault.put_secret(UPLOADS, json.dumps(left).encode())
        self.vault.put_secret(UPLOAD_FROM, json.dumps(progress).encode())

    def store(self, answer: bundle.AnswerContent, owners: dict[str, list]) -> int:
        """Wanted blob pieces into the vault: an attachment whole (checked against its message), a part list
        whole (checked against its file's entry), a library file's chunks each checked against its part list."""
        stored, messaging, blobs = 0, self.session.messaging, self.vault.blobs
        for piece in answer.blobs:
            owner = owners.get(piece.sha) or self._owner_of(piece.sha)
            try:
                if owner is None:
                    continue
                if owner[0] == "attachment" and messaging is not None:
                    stored += self._store_attachment_piece(piece, owner[1])
                elif owner[0] == "parts":
                    entry = next((e for e in self.session.downloads.entries() if e.sha256 == owner[1]), None)
                    if entry is not None and parts_match(piece.data, entry.size, piece.sha):
                        blobs.put_bytes(piece.data, mime="application/x-osler-parts")
                        stored += 1
                elif owner[0] == "library":
                    stored += self._store_library_piece(piece, owner)
                    self.session.downloads.arrived(piece.sha)
            except Exception as exc:  # a piece that does not match is dropped: the next sync fetches it
                log.info("a carried blob piece was dropped: %s", type(exc).__name__)
        return stored

    def _partial(self, sha: str) -> Path:
        """Where a sealed attachment's pieces gather until it is whole: the file an online download resumes from
        too (engine.download_blob's ``.part``); sealed, so nothing readable touches the disk."""
        return Path(self.session.data_dir) / "downloads" / f"{sha}.part"

    def _store_attachment_piece(self, piece: bundle.BlobPiece, message_id: str) -> int:
        """A piece of a sealed attachment: kept whole at once, or added to its partial file until whole, then
        opened into the vault (``store_downloaded`` checks it against its message)."""
        messaging = self.session.messaging
        entry = messaging.attachment(message_id) if messaging is not None else None
        if messaging is None or entry is None or entry["state"] == "downloaded":
            return 0
        if piece.first == 0 and len(piece.data) == piece.size:
            messaging.store_downloaded(message_id, piece.data)
            return 1
        partial = self._partial(piece.sha)
        partial.parent.mkdir(parents=True, exist_ok=True)
        held = partial.stat().st_size if partial.exists() else 0
        start = piece.first * CHUNK
        if start > held or start + len(piece.data) <= held:
            return 0  # a gap (an answer to an older request) or nothing new: asked for again from what is held
        with open(partial, "r+b" if partial.exists() else "wb") as out:
            out.seek(start)
            out.write(piece.data)
        if start + len(piece.data) < piece.size:
            return 1
        try:
            messaging.store_downloaded(message_id, partial.read_bytes())
        finally:
            partial.unlink(missing_ok=True)  # stored, or wrong as a whole: fetched again from the start
        return 1

    def _owner_of(self, sha: str) -> list | None:
        _wants, owners = self.wants()
        return owners.get(sha)

    def _store_library_piece(self, piece: bundle.BlobPiece, owner: list) -> int:
        _kind, parts, title, mime = owner
        blobs = self.vault.blobs
        hashes: list[bytes] | None = None
        if parts:
            held = blobs.info(parts)
            if held is None or not held.complete:
                return 0  # nothing to check the chunks against: fetched again
            raw = blobs.read_all(parts)
            hashes = [raw[i : i + 32] for i in range(0, len(raw), 32)]
        elif chunk_count_for(piece.size) == 1:
            hashes = [bytes.fromhex(piece.sha)]
        if hashes is None:
            return 0
        blobs.begin(piece.sha, piece.size, piece.sha, title, mime)
        missing, offset, index, put = set(blobs.missing_chunks(piece.sha)), 0, piece.first, 0
        while offset < len(piece.data) and index < len(hashes):
            n = chunk_length(piece.size, index)
            chunk = piece.data[offset : offset + n]
            if len(chunk) != n or hashlib.sha256(chunk).digest() != hashes[index]:
                break
            if index in missing:
                blobs.put_chunk(piece.sha, index, chunk)
                put += 1
            offset, index = offset + n, index + 1
        return 1 if put else 0
