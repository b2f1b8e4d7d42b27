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

import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.domain.bundle_blobs import CHUNK, BundleBlobs
from desktop.domain.content_packs import programme_id
from desktop.i18n import _
from sync import bundle
from sync.files import write_atomically
from sync.protocol import pack_record, unpack_record

if TYPE_CHECKING:
    from desktop.domain.carry import Carried
    from desktop.domain.offline_context import OfflineContext

log = logging.getLogger(__name__)
KEY_SECRET = "bundle-server-key"  # noqa: S105 - the vault entry's name: the server's PUBLIC bundle keys
REQUESTS_SECRET = "bundle-requests"  # noqa: S105 - the vault entry's name: what each request carried
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
    more: bool = False  # the server holds more than the answer's budget carried: another round trip brings it


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


def checked_header(data: bytes, kind: str, programme: str, other_kind: str) -> bundle.Header:
    """The clear header of a bundle this Osler may use as ``kind`` ("request" to carry, "answer" to import):
    readable (else the sentence for its ``BundleError``), of that kind (else ``other_kind``, a translated
    sentence), of this ``programme``. Whose device it is for, the caller checks."""
    try:
        header = bundle.read_header(data)
    except bundle.BundleError as exc:
        raise refusal(exc) from None
    if header.kind != kind:
        raise BundleRefused(other_kind)
    if header.programme != programme:
        raise BundleRefused(_("This bundle belongs to another programme."), "other-programme")
    return header


class Bundles:
    def __init__(self, session: OfflineContext) -> None:
        self.session = session
        self.vault, self.program = session.vault, session.program
        self.blobs = BundleBlobs(session)

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
        uploads, up_owners = self.blobs.uploads(budget - used)
        wants, want_owners = self.blobs.wants()
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
            write_atomically(path, data, suffix=".part")
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
        header = checked_header(data, "answer", self.programme, _("This is a request for the server, not an answer."))
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
        blobs = self.blobs.store(answer, kept.get("want", {}))
        self.blobs.settle_uploads(answer, kept)
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
            held = self.vault.records.count()
            moves = (
                answer.cursor is not None
                and answer.from_cursor is not None
                and answer.from_cursor <= current < answer.cursor
            )
            cursor = answer.cursor if moves and answer.cursor is not None else current
            if answer.records or cursor != current:
                store.apply(answer.records, cursor)
            new = self.vault.records.count() - held  # records held already are ignored by id
            if moves and not answer.more and kept.get("g"):
                getattr(store, "caught_up", lambda: None)()
            left = self._requests()
            left.pop(answer.request.hex(), None)
            self._keep_requests(left)
        nothing = not (new or sent_now or refused or blobs or cursor != current)
        session.after_sync(new)
        return Applied(new, len(sent_now), refused, blobs, nothing, bool(answer.more) and moves)
