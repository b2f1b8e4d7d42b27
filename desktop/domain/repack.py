"""Repacking what an online sender sent one record at a time (PROTOCOL.md §4.4).

A mentor who is online sends each message as soon as it is written: one sealed record each, every one with its
own compression, padding, tag and frame (about 290 bytes down for a 350-byte message, against about 150 inside a
bundle). A student who was away for the week then downloads a hundred of them. So, before a sync, the sender's
app takes its own messages of one conversation that the server has had for a while (``REPACK_AFTER_MS``) and
nobody has confirmed receiving (no delivery receipt), and sends them again as one bundle that *replaces* those
records: the server stops handing the old ones out, and a reader who has not taken them gets the bundle
instead. A reader who had taken some already gets them again inside the bundle and keeps one copy of each
(message ids do not change).

The price: each repacked message is uploaded twice by its author, once alone and once in the bundle, and never
more (a bundle that replaced others is never repacked). Messages with an attachment, edits, and group messages
(signed by their authors) stay as they were.
"""

from __future__ import annotations

import logging

import msgpack

from desktop.domain.message_format import BUNDLE_BYTES, BUNDLE_ITEMS, BUNDLE_SEALED, bundle_ids
from desktop.domain.messaging import Messaging
from sync.protocol import unpack_record

log = logging.getLogger(__name__)

REPACK_AFTER_MS = 30 * 60 * 1000  # sent this long ago and still not received: its reader is away
LOOK_BACK_MS = 14 * 24 * 3600 * 1000  # older records are left alone (and not decrypted again at every sync)
REPLACED = "replaced"  # the note on a sent record a repack replaced


def repack(messaging: Messaging, now_ms: int) -> int:
    """Queue one bundle per conversation (and epoch) for every two or more of this person's message records
    that qualify; returns how many records the queued bundles replace. One local transaction."""
    vault = messaging.vault
    with vault.transaction():
        groups: dict[tuple[str, int], list[tuple[bytes, int, list[dict]]]] = {}
        since = max(0, now_ms - LOOK_BACK_MS) << 16
        for stored in vault.records.sent_since("message", messaging.me, since):
            if (stored.hlc >> 16) > now_ms - REPACK_AFTER_MS:
                break  # oldest first: the rest are newer still
            found = _repackable(messaging, stored.wire)
            if found is not None:
                thread, epoch, items = found
                groups.setdefault((thread, epoch), []).append((bytes.fromhex(stored.id), stored.hlc, items))
        replaced = 0
        for (thread, epoch), records in groups.items():
            meta = vault.threads.get(thread) or {}
            if meta.get("current") != epoch or meta.get("group"):
                continue  # sealed for an older epoch (or a group): the same readers are not certain
            while len(records) >= 2:
                taken = _fill(messaging, thread, records)
                if len(taken) < 2:
                    break
                records = records[len(taken) :]
                replaced += len(taken)
        return replaced


def _repackable(messaging: Messaging, wire: bytes) -> tuple[str, int, list[dict]] | None:
    """(thread, epoch, items with their ids and stamps) of one of this person's sent message records, when
    every message in it is still only "sent" and none has an attachment; None otherwise."""
    record = unpack_record(wire)
    if record.r or record.x:
        return None  # a repack itself (each message travels at most twice), or a tombstone
    opened = messaging.open_sealed_record(record)
    if opened is None:
        return None
    thread, epoch, content = opened
    if not isinstance(content, dict) or not isinstance(content.get("b"), list):
        return None  # an edit, a delete, or a message from before bundles
    items = []
    for item, message_id in zip(content["b"], bundle_ids(record.i, content), strict=False):
        message = messaging.vault.messages.get(message_id) if message_id else None
        if message is None or message.state != "sent" or not isinstance(item, dict) or item.get("a"):
            return None
        items.append({**item, "i": bytes.fromhex(message_id), "h": item.get("h", record.h)})
    return thread, epoch, items


def _fill(messaging: Messaging, thread: str, records: list[tuple[bytes, int, list[dict]]]) -> list[bytes]:
    """Queue one bundle with as many of ``records`` (oldest first) as fit; returns the ids it replaces."""
    taken: list[bytes] = []
    items: list[dict] = []
    size = 0
    for record_id, _hlc, more in records:
        grown = size + sum(len(msgpack.packb(i, use_bin_type=True)) for i in more)
        if taken and (grown > BUNDLE_BYTES or len(items) + len(more) > BUNDLE_ITEMS):
            break
        taken.append(record_id)
        items += more
        size = grown
    while len(taken) >= 2:
        record = messaging._record(thread, "message", {"b": items})
        if len(record.b) <= BUNDLE_SEALED:
            messaging._enqueue(record.model_copy(update={"r": taken}))
            messaging.vault.records.note_sent([i.hex() for i in taken], REPLACED)
            log.info("repacked %d records of thread %s into one", len(taken), thread)
            return taken
        keep = len(taken) // 2  # too large once sealed: half as many
        items = [i for r in records[:keep] for i in r[2]]
        taken = taken[:keep]
    return []
