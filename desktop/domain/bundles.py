"""This device's own sync bundles (``session.bundles``, PROTOCOL.md §13.3): a sync carried on a USB stick.

A **request** is what an online sync would send first (library files and their part lists, sealed attachments,
then the outbox) and what it would fetch (its cursor, the attachments auto-download would fetch, the library
download queue from each file's first missing chunk), sealed to the programme server's bundle key
(``sync/bundle.py``), which the session fetched after an online sync and keeps in the vault. The record ids a
request carried are kept in the vault under its request id, so that its answer marks exactly those sent (or
rejected, with the server's reason).

Importing an **answer** is a sync: blob pieces first (each stored on its own, whole chunks checked), then in ONE
vault transaction the marks, the pulled records and the cursor, with the cursor rule: records are always applied
(ignored by id when present); the cursor moves to the answer's ``c`` only when the request's cursor ``c0`` is at
or before the current cursor and ``c`` is after it. Then the same handling as after an online sync
(``Session.after_sync``). Importing the same answer twice, or an old answer after a newer one, changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.domain.content_packs import programme_id
from desktop.domain.download_fetch import chunk_length
from desktop.domain.library import UPLOADS
from desktop.domain.library_format import parts_match
from desktop.i18n import _
from desktop.vault.blobs import chunk_count_for
from sync import bundle, envelope
from sync.protocol import pack_record, unpack_record

if TYPE_CHECKING:
    from desktop.domain.carry import Carried
    from desktop.domain.session import Session

log = logging.getLogger(__name__)
KEY_SECRET = "bundle-server-key"  # noqa: S105 - the vault entry's name: the server's PUBLIC bundle keys
REQUESTS_SECRET = "bundle-requests"  # noqa: S105 - the vault entry's name: what each request carried
UPLOAD_FROM = "bundle-upload-from"  # vault entry: blob → the chunk its next piece starts at
CHUNK = 65_536  # blob pieces hold whole chunks (PROTOCOL.md §13.1)
DEFAULT_BUDGET = bundle.DEFAULT_BUDGET
KEEP_REQUESTS = 50  # requests whose answers may still come back (the oldest forgotten beyond)


class BundleRefused(Exception):
    """A bundle this Osler will not use, with a translated sentence for the person (``message``)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message, self.code = message, code


@dataclass(frozen=True)
class Exported:
    path: Path | None
    data: bytes | None
    records: int
    blob_bytes: int
    size: int


@dataclass(frozen=True)
class Applied:
    records_in: int  # new records taken in
    accepted: int  # of this device's records, now marked sent
    refused: int  # of this device's records, refused for good (marked rejected)
    blobs: int  # blob pieces stored
    nothing_new: bool  # an answer already imported (or older than what this device has): nothing changed


def refusal(error: Exception) -> BundleRefused:
    """The sentence a person reads for a ``bundle.BundleError`` (its code), never its English detail."""
    code = getattr(error, "code", "")
    sentences = {
        "not-a-bundle": _("This file is not an Osler sync bundle."),
        "damaged": _("This bundle is damaged or was cut short. Ask for it to be copied again."),
        "too-large": _("This bundle is too large to be an Osler sync bundle."),
        "newer-version": _("This bundle was made by a newer Osler. Update Osler to use it."),
        "other-programme": _("This bundle belongs to another programme."),
        "wrong-device": _("This bundle is for another device."),
        "bad-signature": _("This bundle is not signed by your programme's server."),
        "not-for-me": _("This bundle is for another device."),
    }
    return BundleRefused(
        sentences.get(code, _("This bundle is damaged or was cut short. Ask for it to be copied again.")), code
    )


def sealed_size(plain: int) -> int:
    """The size of an attachment sealed by ``envelope.seal_attachment``: a 16-byte tag per chunk."""
    return plain + 16 * max(1, -(-plain // envelope.ATTACHMENT_CHUNK))


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` at ``path``, whole or not at all (a stick pulled out mid-write leaves the old file or none)."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        with open(temp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


class Bundles:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.vault, self.program = session.vault, session.program

    # -- the server's key ----------------------------------------------------------------------------------

    @property
    def programme(self) -> str:
        return programme_id(self.program)

    def server_keys(self) -> tuple[bytes, bytes] | None:
        """(box public, sign public) of the server's bundle key, once an online sync fetched it."""
        raw = self.vault.get_secret(KEY_SECRET)
        if not raw:
            return None
        doc = json.loads(raw)
        return bytes.fromhex(doc["box"]), bytes.fromhex(doc["sign"])

    def ready(self) -> bool:
        """Holds the server's bundle key: a request can be made (else: sync online once first)."""
        return self.server_keys() is not None

    def keep_server_keys(self, box: bytes, sign: bytes) -> None:
        self.vault.put_secret(KEY_SECRET, json.dumps({"box": box.hex(), "sign": sign.hex()}).encode())

    def fetch_server_keys(self) -> bool:
        """After a successful online sync: fetch the bundle key when this device does not hold it."""
        if self.ready():
            return False
        box, sign = self.session.transport.bundle_key()
        self.keep_server_keys(box, sign)
        return True

    # -- requests ------------------------------------------------------------------------------------------

    def _requests(self) -> dict[str, dict]:
        raw = self.vault.get_secret(REQUESTS_SECRET)
        return json.loads(raw) if raw else {}

    def _keep_requests(self, kept: dict[str, dict]) -> None:
        if len(kept) > KEEP_REQUESTS:
            kept = dict(sorted(kept.items(), key=lambda kv: kv[1].get("at", 0))[-KEEP_REQUESTS:])
        self.vault.put_secret(REQUESTS_SECRET, json.dumps(kept).encode())

    def _upload_from(self) -> dict[str, int]:
        raw = self.vault.get_secret(UPLOAD_FROM)
        return json.loads(raw) if raw else {}

    def _uploads(self, budget: int) -> tuple[list[bundle.BlobPiece], dict[str, list]]:
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

    def _wants(self, budget: int = bundle.MAX_BUNDLE_BYTES) -> tuple[list[bundle.WantedBlob], dict[str, list]]:
        """What an online sync would fetch: attachments auto-download would fetch (those that fit the answer's
        budget: an attachment is kept only whole), then the library download queue (a file's part list when not
        held, then the file from its first missing chunk: pieces of it are kept)."""
        from desktop.domain.downloads import DONE, FAILED
        from desktop.domain.session import AUTO_DOWNLOAD_BYTES
        from sync.clock import utcnow

        session, wants, owners = self.session, [], {}
        settings = session.settings
        if session.messaging is not None:
            for message_id, entry in session.messaging.attachments().items():
                small = entry["size"] <= AUTO_DOWNLOAD_BYTES
                if (
                    entry["state"] == "remote"
                    and (small or not settings.data_saver)
                    and settings.may_download(entry["size"], utcnow(session.wall))
                    and sealed_size(entry["size"]) <= budget
                ):
                    wants.append(bundle.WantedBlob(entry["sha"], sealed_size(entry["size"]), 0))
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

    def make_request(self, budget: int = DEFAULT_BUDGET) -> bytes:
        """A sealed request bundle: records first within ``budget``, then uploads while it lasts; the answer may
        be ``budget`` bytes too. Remembers what it carried (vault) for its answer."""
        keys = self.server_keys()
        if keys is None:
            raise BundleRefused(_("Sync online once first: this device does not yet hold your programme's key."))
        budget = max(bundle.MIN_BUDGET, min(budget, bundle.MAX_BUNDLE_BYTES - 64 * 1024))
        store = self.session.store
        queued = self.vault.records.outbox(budget, limit=bundle.MAX_BUNDLE_RECORDS)  # not one sync batch: all
        push = [unpack_record(r.wire) for r in queued]
        used = sum(len(pack_record(r)) for r in push)
        uploads, up_owners = self._uploads(budget - used)
        wants, want_owners = self._wants(budget)
        request_id = secrets.token_bytes(16)
        created = self.session.now_ms()
        creds = self.program.credentials
        catching_up = getattr(store, "catching_up", lambda: False)()
        content = bundle.RequestContent(
            account=creds.account,
            device=creds.device,
            request=request_id,
            created_ms=created,
            push=push,
            cursor=store.cursor(),
            grants_only=bool(catching_up),
            budget=budget,
            uploads=uploads,
            wants=wants,
        )
        data = bundle.write_request(content, self.programme, keys[0], creds.key)
        with self.vault.transaction():
            kept = self._requests()
            kept[request_id.hex()] = {
                "at": created,
                "g": bool(catching_up),
                "ids": [r.i.hex() for r in push],
                "up": {p.sha: up_owners[p.sha] for p in uploads},
                "pieces": {p.sha: [p.first, p.first + -(-len(p.data) // CHUNK), p.size] for p in uploads},
                "want": {w.sha: want_owners[w.sha] for w in wants},
            }
            self._keep_requests(kept)
        return data

    def export_request(self, folder: Path, budget: int = DEFAULT_BUDGET) -> Exported:
        """The request written to ``folder`` (a USB stick) atomically, under ``bundle.file_name``."""
        data = self.make_request(budget)
        header = bundle.read_header(data)
        path = Path(folder) / bundle.file_name(header)
        try:
            write_atomically(path, data)
        except OSError:
            raise BundleRefused(_("The bundle could not be written to that folder.")) from None
        return Exported(path, data, header.records, header.blob_bytes, len(data))

    # -- answers -------------------------------------------------------------------------------------------

    def import_file(self, path: Path) -> Applied | Carried:
        """A file from a stick: this device's answer is applied; another device's request of this programme is
        taken to carry (``session.carry.take``)."""
        try:
            data = Path(path).read_bytes()
        except OSError:
            raise BundleRefused(_("That file could not be read.")) from None
        try:
            header = bundle.read_header(data)
        except bundle.BundleError as exc:
            raise refusal(exc) from None
        if header.kind == "request":
            if header.device == self.program.credentials.device:
                raise BundleRefused(_("This is this device's own request: give it to someone who will sync online."))
            return self.session.carry.take(data)
        return self.import_answer(data)

    def import_answer(self, data: bytes) -> Applied:
        creds = self.program.credentials
        keys = self.server_keys()
        try:
            header = bundle.read_header(data)
        except bundle.BundleError as exc:
            raise refusal(exc) from None
        if header.kind != "answer":
            raise BundleRefused(_("This is a request for the server, not an answer."))
        if header.programme != self.programme:
            raise BundleRefused(_("This bundle belongs to another programme."), "other-programme")
        if header.device != creds.device:
            raise BundleRefused(_("This bundle is for another device."), "wrong-device")
        if keys is None or self.program.box is None:
            raise BundleRefused(_("Sync online once first: this device does not yet hold your programme's key."))
        try:
            _header, answer = bundle.open_answer(data, self.program.box, keys[1], creds.device, self.programme)
        except bundle.BundleError as exc:
            raise refusal(exc) from None
        return self._apply(answer)

    def _apply(self, answer: bundle.AnswerContent) -> Applied:
        session, store = self.session, self.session.store
        kept = self._requests().get(answer.request.hex(), {})
        blobs = self._store_blobs(answer, kept.get("want", {}))
        self._settle_uploads(answer, kept)
        with self.vault.transaction():
            current = store.cursor()
            refused_ids = {i.hex() for r in answer.refused for i in r.ids}
            carried = [i for i in kept.get("ids", []) if i not in refused_ids]
            sent = carried[: max(0, answer.accepted)]
            still = {r.id for r in self.vault.records.by_state("outbox")}
            sent_now = [i for i in sent if i in still]
            self.vault.records.mark(sent_now, "sent")
            refused = 0
            for r in answer.refused:
                ids = [i.hex() for i in r.ids if i.hex() in still]
                if ids:
                    self.vault.records.mark(ids, "rejected", f"{r.code}: {r.detail}")
                    refused += len(ids)
            new = [r for r in answer.records if self.vault.records.get(r.i.hex()) is None]
            moves = (
                answer.cursor is not None
                and answer.from_cursor is not None
                and answer.from_cursor <= current < answer.cursor
            )
            cursor = answer.cursor if moves and answer.cursor is not None else current
            if answer.records or cursor != current:
                store.apply(answer.records, cursor)
            if moves and not answer.more and kept.get("g"):
                getattr(store, "caught_up", lambda: None)()
            left = self._requests()
            left.pop(answer.request.hex(), None)
            self._keep_requests(left)
        nothing = not (new or sent_now or refused or blobs or cursor != current)
        session.after_sync(len(new))
        return Applied(len(new), len(sent_now), refused, blobs, nothing)

    def _settle_uploads(self, answer: bundle.AnswerContent, kept: dict) -> None:
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

    def _store_blobs(self, answer: bundle.AnswerContent, owners: dict[str, list]) -> int:
        """Wanted blob pieces into the vault: an attachment whole (checked against its message), a part list
        whole (checked against its file's entry), a library file's chunks each checked against its part list."""
        stored, messaging, blobs = 0, self.session.messaging, self.vault.blobs
        for piece in answer.blobs:
            owner = owners.get(piece.sha) or self._owner_of(piece.sha)
            try:
                if owner is None:
                    continue
                if owner[0] == "attachment" and messaging is not None:
                    entry = messaging.attachment(owner[1])
                    if entry is None or entry["state"] == "downloaded" or piece.first or len(piece.data) != piece.size:
                        continue
                    messaging.store_downloaded(owner[1], piece.data)
                    stored += 1
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

    def _owner_of(self, sha: str) -> list | None:
        _wants, owners = self._wants()
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
