"""Answering a request bundle (PROTOCOL.md §13.2): an offline ``POST /v1/sync``, carried on a stick or by a relay.

One function, ``answer_request``, used by ``POST /v1/bundles`` and by ``osler-server import-bundle``: open the
bundle with the server's keys, check the device (known, not revoked, its signature, its account), take the blob
uploads, push the records through the same checks as an online push, prove the cursor, pull to the bundle's
budget, add the wanted blob pieces, and seal the answer to the device's registered box key. Every way a bundle
can be wrong ends in a ``ProtocolError`` with the status §13.2 gives it; nothing of its content is ever logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from sync.bundle import (
    MAX_BUNDLE_BYTES,
    MAX_BUNDLE_RECORDS,
    AnswerContent,
    BlobPiece,
    BundleError,
    OpenedRequest,
    Refusal,
    WantedBlob,
    open_request,
    write_answer,
)
from sync.clock import Clock, now_ms
from sync.envelope import BOX_PUBLIC_BYTES, EnvelopeError
from sync.protocol import BLOB_CHUNK, MAX_PUSH_RECORDS, ProtocolError, Record
from sync.server.blobstore import BlobStore, chunk_count
from sync.server.pushing import check_and_push
from sync.server.storage import DeviceSession, Storage

log = logging.getLogger("osler.server.bundles")
RECORD_OVERHEAD = 96  # what a pull counts per record beyond its body (storage.pull), so budgets agree
ANSWER_MARGIN = 1 << 20  # room in an answer for its header, refusals and framing: it stays under MAX_BUNDLE_BYTES

# What each BundleError becomes on the wire (§13.2): status and code.
_STATUS = {
    "not-a-bundle": (400, "bad-encoding"),
    "damaged": (400, "bad-encoding"),
    "too-large": (413, "too-large"),
    "newer-version": (422, "newer-version"),
    "other-programme": (422, "bundle-programme"),
    "not-for-me": (422, "invalid"),  # an answer bundle, sent to the server
    "wrong-device": (422, "invalid"),
    "invalid": (422, "invalid"),
    "bad-signature": (422, "bad-signature"),
}


class Pulse(Protocol):
    def pulse(self) -> None: ...


@dataclass
class Outcome:
    """What answering did, in counts (what the CLI prints; never content)."""

    device: bytes = b""
    pushed: int = 0
    accepted: int = 0
    refused: int = 0
    uploaded: int = 0
    pulled: int = 0
    blobs: int = 0
    unavailable: int = 0
    more: bool = False
    answer: bytes = field(default=b"", repr=False)


def _refused(error: BundleError) -> ProtocolError:
    status, code = _STATUS.get(error.code, (400, "bad-encoding"))
    return ProtocolError(status, code, error.detail)


def open_checked(storage: Storage, data: bytes) -> tuple[OpenedRequest, DeviceSession, bytes]:
    """Step 1: the opened request, who sent it, and the box key its answer is sealed to."""
    try:
        opened = open_request(data, storage.bundle_keys())
    except BundleError as error:
        raise _refused(error) from None
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError, MemoryError) as error:
        # whatever the bundle reader did not foresee is still a damaged bundle, not a server fault
        log.warning("a request bundle failed to open (%s)", type(error).__name__)
        raise ProtocolError(400, "bad-encoding", "this is not a readable sync bundle") from None
    header, content = opened.header, opened.content
    found = storage.signing_device(header.device)
    if found is None:
        raise ProtocolError(404, "not-found", "this bundle comes from a device this server does not know")
    session, sign_key, revoked = found
    if revoked:
        raise ProtocolError(401, "device-revoked", "this bundle comes from a revoked device")
    if content.device != header.device:
        raise ProtocolError(422, "invalid", "the bundle's content names another device than its header")
    if not opened.verify(sign_key):
        raise ProtocolError(422, "bad-signature", "the bundle's signature does not verify with its device's key")
    if content.account != session.account:
        raise ProtocolError(422, "invalid", "the bundle names another account than its device's")
    box_key = storage.device_box_key(header.device)
    if not box_key or len(box_key) != BOX_PUBLIC_BYTES:
        raise ProtocolError(422, "invalid", "this device registered no usable box key: no answer can be sealed to it")
    return opened, session, box_key


def _upload(blobs: BlobStore, session: DeviceSession, piece: BlobPiece) -> bool:
    """Step 2: store a piece's chunks as the account's upload; True when the blob is complete (published)."""
    try:
        if piece.first < 0 or piece.first >= max(1, chunk_count(piece.size)):
            return False
        missing: list[int] | None = None
        for offset in range(0, len(piece.data), BLOB_CHUNK):
            index = piece.first + offset // BLOB_CHUNK
            missing = blobs.put_chunk(
                piece.sha, piece.size, index, piece.data[offset : offset + BLOB_CHUNK], session.account
            )
        if missing is None:
            missing = blobs.missing(piece.sha, piece.size, session.account)
        return not missing
    except ProtocolError:  # a bad chunk, a hash that does not match: reported, the rest goes on
        return False
    except OSError as error:
        log.warning("a bundle upload could not be stored (%s)", type(error).__name__)
        return False


def _push(storage: Storage, session: DeviceSession, push: list[Record], clock: Clock) -> tuple[int, list[Refusal]]:
    """Step 3: in batches of at most MAX_PUSH_RECORDS, in order, each through the checks of an online push. A
    batch refused for some records is pushed again without them (each refusal recorded with its ids); a refusal
    naming none of the batch's records refuses the rest of the push, recorded with the ids of all of it."""
    accepted, refusals = 0, []
    for start in range(0, len(push), MAX_PUSH_RECORDS):
        batch = push[start : start + MAX_PUSH_RECORDS]
        while batch:
            try:
                accepted += check_and_push(storage, session, batch, clock)
                break
            except ProtocolError as refused:
                named = {bytes.fromhex(i) for i in refused.extra.get("ids") or ()}
                ids = [r.i for r in batch if r.i in named]
                if not ids:
                    rest = [r.i for r in batch] + [r.i for r in push[start + MAX_PUSH_RECORDS :]]
                    refusals.append(Refusal(refused.code, refused.detail, rest))
                    return accepted, refusals
                refusals.append(Refusal(refused.code, refused.detail, ids))
                batch = [r for r in batch if r.i not in named]
    return accepted, refusals


def _pull(
    storage: Storage, session: DeviceSession, cursor: int, budget: int, grants_only: bool
) -> tuple[list[Record], int, bool, int | None, int]:
    """Step 4: records after ``cursor`` while the budget lasts, at most MAX_BUNDLE_RECORDS: (records, new cursor,
    more, waiting, bytes used). A pull brings at least one record even past its budget: only the first may."""
    out: list[Record] = []
    used, more, waiting = 0, False, None
    while True:
        left = min(budget - used, (MAX_BUNDLE_RECORDS - len(out)) * RECORD_OVERHEAD)
        if left < RECORD_OVERHEAD:
            more = True  # the budget or the record count is spent: the rest comes with the next bundle
            break
        pulled = storage.pull(session, cursor, left, grants_for_me_only=grants_only)
        size = sum(len(r.b) + RECORD_OVERHEAD for r in pulled.records)
        if out and size > budget - used:
            more = True  # its one record does not fit what is left: it comes next time (the cursor stays)
            break
        out.extend(pulled.records)
        used += size
        cursor, more, waiting = pulled.cursor, pulled.more, pulled.waiting
        if not more or left == budget - used + size:
            break  # done, or stopped by the byte budget itself (not the record count)
    return out, cursor, more, waiting if more else None, used


def _wanted(blobs: BlobStore, wants: list[WantedBlob], budget: int) -> tuple[list[BlobPiece], list[str]]:
    """Step 5: whole chunks of each wanted blob from its first wanted chunk, in order, while the budget lasts;
    the hashes of wanted blobs this server does not hold."""
    pieces, unavailable = [], []
    for want in wants:
        try:
            path = blobs.path(want.sha)
        except ProtocolError:
            path = None
        size = path.stat().st_size if path is not None else -1
        if path is None or size != want.size:
            unavailable.append(want.sha)
            continue
        first = max(0, want.first)
        start = first * BLOB_CHUNK
        room = (budget // BLOB_CHUNK) * BLOB_CHUNK  # whole chunks only
        if start >= size or room <= 0:
            continue
        length = min(size - start, room)
        with path.open("rb") as f:
            f.seek(start)
            data = f.read(length)
        pieces.append(BlobPiece(want.sha, size, first, data))
        budget -= len(data)
    return pieces, unavailable


def answer_request(storage: Storage, blobs: BlobStore, clock: Clock, live: Pulse | None, data: bytes) -> bytes:
    """The sealed answer bundle to the request bundle ``data`` (see ``import_request``)."""
    return import_request(storage, blobs, clock, live, data).answer


def import_request(storage: Storage, blobs: BlobStore, clock: Clock, live: Pulse | None, data: bytes) -> Outcome:
    """Answer a request bundle: the outcome in counts, with the sealed answer bundle in ``answer``. Raises
    ``ProtocolError`` (the status and code of §13.2) when the bundle is refused as a whole; nothing is stored
    then."""
    opened, session, box_key = open_checked(storage, data)
    content = opened.content
    storage.seen(session.device)
    outcome = Outcome(device=session.device, pushed=len(content.push))
    uploaded = []
    for piece in content.uploads:  # attachments before the messages that name them, as online
        complete = _upload(blobs, session, piece)
        uploaded.append((piece.sha, complete))
        outcome.uploaded += complete
    accepted, refusals = _push(storage, session, list(content.push), clock)
    outcome.accepted, outcome.refused = accepted, sum(len(r.ids) for r in refusals)
    if accepted and live is not None:
        live.pulse()  # waiting clients of this process look again (GET /v1/wait)
    budget = min(content.budget, MAX_BUNDLE_BYTES - ANSWER_MARGIN)
    records: list[Record] = []
    cursor, more, waiting, used = None, False, None, 0
    if content.cursor is not None:
        if storage.confirm(session, content.cursor) and live is not None:
            live.pulse()  # authors waiting for their delivery marks look again
        records, cursor, more, waiting, used = _pull(storage, session, content.cursor, budget, content.grants_only)
    pieces, unavailable = _wanted(blobs, list(content.wants), budget - used)
    answer = AnswerContent(
        request=content.request,
        created_ms=now_ms(clock),
        accepted=accepted,
        refused=refusals,
        records=records,
        from_cursor=content.cursor,
        cursor=cursor,
        more=more,
        waiting=waiting,
        uploaded=uploaded,
        blobs=pieces,
        unavailable=unavailable,
    )
    outcome.pulled, outcome.blobs, outcome.unavailable, outcome.more = len(records), len(pieces), len(unavailable), more
    try:
        outcome.answer = write_answer(answer, opened.header, storage.bundle_keys(), box_key)
    except EnvelopeError:  # a registered box key of the right length that is still not a key
        raise ProtocolError(422, "invalid", "this device's registered box key is not usable") from None
    return outcome
