"""End-to-end encrypted conversations (PROTOCOL.md §9), as plain Python over the vault and the outbox.

A thread has members and epochs. Sending makes sure the current epoch's key has been granted to every member
device (an ``epoch-grant`` record, signed), then seals the message under it. After every sync, ``take_in()``
opens what arrived: grants (keys kept sealed in the vault), messages (stored decrypted in the vault, which
seals them at rest), read receipts and the server's delivery marks (moving the person's own messages to read and
delivered). A reader sends no delivery receipt: its next request's cursor tells the server, which marks it
(PROTOCOL.md §4.5). Whatever cannot be opened yet (its grant has not arrived) waits for the next sync.

States of one's own message: queued → sent (the server has it) → delivered (a member's device holds it) →
read. Received messages are ``received`` until the person opens the thread, then ``read``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import msgpack

from desktop.domain import directory, keyring, voice
from desktop.domain.message_format import (  # noqa: F401 - re-exported: callers import them from here
    BUNDLE_BYTES,
    BUNDLE_ITEMS,
    BUNDLE_SEALED,
    EPOCH_LIFETIME_MS,
    MAX_GROUP,
    MAX_TEXT,
    ORDER,
    MissingKeys,
    Peer,
    Thread,
    bundle_ids,
    card_keys,
    direct_thread_id,
)
from desktop.domain.receiving import Receiving
from desktop.domain.search import WordIndex
from desktop.domain.sync_adapter import Program
from desktop.domain.trust import Trust
from desktop.domain.voice import NoteAttachment
from desktop.vault import StoredMessage, Vault
from desktop.vault.faults import crash_point
from desktop.vault.records import StoredRecord
from sync import envelope
from sync.clock import now_ms as wall_ms
from sync.protocol import (
    HybridClock,
    Record,
    new_record_id,
    pack_record,
)

__all__ = ["FileAttachment", "Messaging", "MissingKeys", "Peer", "StoredMessage", "Thread"]  # StoredMessage: UI
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileAttachment:
    """A file to attach that is already in memory (a library item read from the vault): never written out."""

    name: str
    data: bytes
    mime: str


class Messaging(Receiving, Trust):
    def __init__(self, vault: Vault, program: Program, clock: HybridClock) -> None:
        if program.box is None:
            raise ValueError("this device has no encryption key; join the programme again")
        self.vault, self.program, self.clock = vault, program, clock
        self.me = program.credentials.account.hex()
        self._search: WordIndex | None = None
        self.refused = 0  # records addressed here that did not open (damaged or forged): counted, never shown
        self.handlers: dict[str, Callable[[dict, str], None]] = {}  # other sealed kinds, e.g. "mentorship"
        # fields a message may carry besides its text (e.g. "l": a library entry shared privately): key → hook
        # called with (message id, author, value) when such a message is stored, sent here or arrived
        self.item_hooks: dict[str, Callable[[str, str, object], None]] = {}
        self._devices: tuple[tuple[int, int], dict[str, list[Peer]]] | None = None
        keyring.ensure(vault)  # a device from before accounts had a secret makes one now

    # -- people and their keys ------------------------------------------------------------------------------

    def peers(self) -> dict[str, Peer]:
        """One device of everyone whose card publishes keys, this person included, by account: one pass over the
        directory, for callers that look up several people (``device_peers`` has every device)."""
        found = {card.account: Peer(card.account, *card.keys) for card in directory.cards(self.vault) if card.keys}
        found[self.me] = self.my_peer()
        return found

    def device_peers(self) -> dict[str, list[Peer]]:
        """Every certified device of everyone whose card lists devices, by account (PROTOCOL.md §10): what a
        grant goes to. This device is always among the person's own. Read again only when a card came or went
        (every send asks: its thread's devices may have changed)."""
        mark = self.vault.records.kind_mark("card")
        if self._devices is not None and self._devices[0] == mark:
            return self._devices[1]
        found: dict[str, list[Peer]] = {}
        for card in directory.cards(self.vault):
            if card.devices:
                found[card.account] = [Peer(card.account, e.device, e.sign, e.box) for e in card.devices]
        me = self.my_peer()
        found[self.me] = [me, *(p for p in found.get(self.me, []) if p.device != me.device)]
        self._devices = (mark, found)
        return found

    def peer(self, account: str) -> Peer | None:
        return self.peers().get(account)

    def my_peer(self) -> Peer:
        creds = self.program.credentials
        return Peer(self.me, creds.device.hex(), creds.key.public_bytes(), self.program.box.public_bytes())

    # -- threads --------------------------------------------------------------------------------------------

    def start_direct(self, account: str) -> str:
        thread = direct_thread_id(self.me, account)
        if self.vault.threads.get(thread) is None:
            self._save_thread(thread, {"members": sorted({self.me, account}), "title": "", "epochs": {}})
        return thread

    def start_group(self, title: str, accounts: Iterable[str]) -> str:
        members = sorted({self.me, *accounts})
        if not 2 <= len(members) <= MAX_GROUP:
            raise ValueError(f"a group has 2 to {MAX_GROUP} people")
        thread = secrets.token_hex(16)
        self._save_thread(thread, {"members": members, "title": title.strip()[:80], "epochs": {}, "group": True})
        return thread

    def _save_thread(self, thread: str, meta: dict, updated_at: int | None = None) -> None:
        self.vault.threads.put(thread, meta, updated_at)

    def threads(self) -> list[Thread]:
        """Every conversation with its unread count and latest message: one message decrypted per thread."""
        unread = self.vault.messages.unread_counts()
        out = []
        for thread_id, meta, updated in self.vault.threads.all():
            if "circle" in meta:  # a circle's state (circles.py): not a conversation
                continue
            latest = self.vault.messages.newest(1, thread_id)
            out.append(
                Thread(
                    thread_id,
                    tuple(meta["members"]),
                    meta.get("title", ""),
                    updated,
                    unread.get(thread_id, 0),
                    latest[0] if latest else None,
                )
            )
        return out

    def thread(self, thread_id: str) -> dict | None:
        return self.vault.threads.get(thread_id)

    # -- sending --------------------------------------------------------------------------------------------

    def _epoch(self, thread: str, force: bool = False) -> tuple[int, bytes]:
        """The thread's current epoch, or a new one granted to every certified device of every member when the
        members or their devices changed, none exists yet, or ``force`` (a revoke re-keys every thread)."""
        meta = self.vault.threads.get(thread)
        if meta is None:
            raise KeyError(f"no thread {thread}")
        current = meta.get("current")
        fresh = wall_ms(self.clock.wall) - meta.get("epoch_started", 0) < EPOCH_LIFETIME_MS
        known = self.device_peers()
        missing = [a for a in meta["members"] if not known.get(a)]
        if missing:
            raise MissingKeys(missing)
        devices = sorted(p.device for a in meta["members"] for p in known[a])
        granted = meta.get("granted")
        same_devices = devices == granted if granted is not None else len(devices) == len(meta["members"])
        if not force and current is not None and fresh and meta["epochs"].get(str(current)) == meta["members"]:
            key = self.vault.get_secret(f"epoch:{thread}:{current}")
            if key is not None and same_devices:
                return current, key
        epoch, key = secrets.randbits(32), envelope.new_epoch_key()
        thread_bytes = bytes.fromhex(thread)
        grants = {
            p.device: envelope.grant_epoch(
                key, p.box, thread_bytes, epoch, bytes.fromhex(p.account), bytes.fromhex(p.device)
            )
            for a in meta["members"]
            for p in known[a]
        }
        # What the server may see is the routing audience (the members' account ids, also in "m" for older
        # clients) and the device ids; the title is sealed under the epoch key being granted (PROTOCOL.md §9.1).
        record_id = new_record_id()
        title = msgpack.packb({"n": meta.get("title", "")}, use_bin_type=True)
        sealed = envelope.seal(key, epoch, thread_bytes, record_id, "epoch-grant", title)
        body = msgpack.packb(
            {"t": thread_bytes, "e": epoch, "m": meta["members"], "g": grants, "s": sealed}, use_bin_type=True
        )
        audience = [bytes.fromhex(a) for a in meta["members"]]
        self._enqueue(Record(i=record_id, k="epoch-grant", t=audience, h=self.clock.now(), b=body), signed=True)
        crash_point("epoch:grant-queued")
        keyring.keep_epoch_key(self.vault, thread, epoch, key)
        meta["epochs"][str(epoch)] = meta["members"]
        self._retire_epochs(thread, meta, keep=(current, epoch))
        meta["current"] = epoch
        meta["granted"] = devices
        meta["epoch_started"] = wall_ms(self.clock.wall)
        self._save_thread(thread, meta)
        return epoch, key

    def _retire_epochs(self, thread: str, meta: dict, keep: Iterable[int | None]) -> None:
        """Drop the keys of epochs before the previous one once nothing sealed under them waits to be opened
        (the previous epoch's key stays, for messages still in flight when the epoch changed)."""
        keep = {str(k) for k in keep if k is not None} | {str(e) for e in list(meta["epochs"])[-2:]}
        for old in list(meta["epochs"]):
            if old not in keep:
                self.vault.delete_secret(f"epoch:{thread}:{old}")
                del meta["epochs"][old]

    def send(
        self,
        thread: str,
        text: str,
        attachment: Path | NoteAttachment | FileAttachment | None = None,
        extra: dict | None = None,
    ) -> str:
        """Seal ``text`` (and an attached file, or a voice note held in memory) for the thread's members and queue
        it; works offline. The file is kept in the vault and uploaded, sealed under its own key, at the next sync.
        A voice note (audio/ogg) is checked first (voice.check: VoiceError, nothing sealed). Returns the id.

        One local transaction: the message, the bundle record that replaces the previous one in the outbox, the
        bundle list, the attachment and the thread all land together, or (exception, crash) none of them."""
        with self.vault.transaction():
            return self._write(thread, text, attachment, extra or {})

    def _write(
        self, thread: str, text: str, attachment: Path | NoteAttachment | FileAttachment | None, extra: dict
    ) -> str:
        text = text.strip()
        if (not text and attachment is None) or len(text) > MAX_TEXT:
            raise ValueError(f"a message is 1 to {MAX_TEXT} characters")
        item: dict = {**{k: v for k, v in extra.items() if k in self.item_hooks}, "x": text}
        entry = None
        if attachment is not None:
            source = attachment if isinstance(attachment, (NoteAttachment, FileAttachment)) else Path(attachment)
            entry, item["a"] = self._attach(source)
            crash_point("send:attachment-stored")
        message_id = self._bundle(thread, item)
        if entry is not None:
            self._set_attachment(message_id, {**entry, "state": "pending-upload"})
        for key, value in extra.items():
            if key in self.item_hooks:
                self.item_hooks[key](message_id, self.me, value)
        now = wall_ms(self.clock.wall)
        self.vault.messages.put(StoredMessage(message_id, thread, self.me, now, "queued", text))
        crash_point("send:message-stored")
        self.vault.threads.put_draft(thread, "")
        crash_point("send:draft-cleared")
        meta = self.vault.threads.get(thread) or {}
        self._save_thread(thread, meta, now)
        if self._search is not None:
            self._index(message_id, text)
        return message_id

    def _bundle(self, thread: str, item: dict) -> str:
        """Queued messages of one thread travel as one sealed bundle: a message written while the previous one
        still waits in the outbox replaces that record with one carrying both, so a week of offline writing
        costs one header, one tag and one record frame instead of one per message. Returns the message's id,
        derived from the chain's origin (its first record id) and the item's index, so it never travels and
        stays the same however often the bundle is replaced (``bundle_ids``)."""
        epoch, _key = self._epoch(thread)  # never merge across epochs: a newcomer must not read older messages
        bundles = self._bundles()
        record_id = new_record_id()
        items, size, origin = [item], len(msgpack.packb(item, use_bin_type=True)), record_id
        content: dict = {"b": items}
        record = None
        for old_id, info in list(bundles.items()):
            fits = info["size"] + size <= BUNDLE_BYTES and len(info["items"]) < BUNDLE_ITEMS  # attachment keys too
            if info["thread"] != thread or info.get("epoch") != epoch or not fits or info.get("full"):
                continue
            joined = bytes.fromhex(info.get("origin", old_id))  # a bundle from before derived ids: its own id
            merged = {"o": joined, "b": [*info["items"], item]}
            sealed = self._record(thread, "message", merged, record_id=record_id)
            if len(sealed.b) > BUNDLE_SEALED:
                info["full"] = True  # full once compressed: this message starts a new bundle, and so will later ones
                continue
            if self.vault.records.withdraw(old_id):  # still waiting: take its messages along
                items, size, origin, content, record = merged["b"], info["size"] + size, joined, merged, sealed
                del bundles[old_id]
                crash_point("bundle:withdrawn")
                break
        ids = bundle_ids(record_id, content)
        self._enqueue(record or self._record(thread, "message", content, record_id=record_id))
        crash_point("bundle:queued")
        info = {"thread": thread, "epoch": epoch, "items": items, "size": size, "origin": origin.hex(), "ids": ids}
        bundles[record_id.hex()] = info
        self._save_bundles(bundles)
        crash_point("bundle:saved")
        return str(ids[-1])

    def _bundles(self) -> dict[str, dict]:
        """Outgoing bundle records not yet acknowledged: record id → thread and the messages inside."""
        raw = self.vault.get_secret("bundles")
        return msgpack.unpackb(raw, raw=False) if raw else {}

    def _save_bundles(self, bundles: dict[str, dict]) -> None:
        self.vault.put_secret("bundles", msgpack.packb(bundles, use_bin_type=True))

    # -- attachments ------------------------------------------------------------------------------------------

    def _attach(self, source: Path | NoteAttachment | FileAttachment) -> tuple[dict, dict]:
        if isinstance(source, NoteAttachment):
            voice.check(source.data)  # before anything is sealed: a note over the limits raises VoiceError
            name, data, mime = source.name, source.data, source.mime
        elif isinstance(source, FileAttachment):  # already in memory (read from the vault): no copy on disk
            name, data, mime = source.name, source.data, source.mime
        else:
            if source.stat().st_size > envelope.MAX_ATTACHMENT:
                raise ValueError("attachments are limited to 25 MB")
            name, data = source.name, source.read_bytes()
            mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        size = len(data)
        if size > envelope.MAX_ATTACHMENT:
            raise ValueError("attachments are limited to 25 MB")
        key = envelope.new_attachment_key()
        sealed_sha = hashlib.sha256(envelope.seal_attachment(key, data)).hexdigest()
        plain_sha = self.vault.blobs.put_bytes(data, name, mime).id
        entry = {
            "name": name[:200],
            "size": size,
            "sha": sealed_sha,
            "key": key.hex(),
            "mime": mime,
            "plain": plain_sha,
        }
        wire = {"n": entry["name"], "s": size, "h": sealed_sha, "k": key, "m": mime}
        return entry, wire

    # -- what the Messages view reads and keeps ----------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """False once the vault is locked (a background task finishing late must not touch it)."""
        return not self.vault.is_locked

    def in_thread(self, thread_id: str) -> list[StoredMessage]:
        return self.vault.messages.in_thread(thread_id)

    def message(self, message_id: str) -> StoredMessage | None:
        return self.vault.messages.get(message_id)

    def draft(self, thread_id: str) -> str:
        return self.vault.threads.draft(thread_id)

    def put_draft(self, thread_id: str, text: str) -> None:
        self.vault.threads.put_draft(thread_id, text)

    def export_attachment(self, message_id: str, destination: Path) -> bool:
        """Write the attachment of ``message_id`` to ``destination``; False when it is not on this computer."""
        entry = self.attachment(message_id)
        if entry is None or entry["state"] not in ("downloaded", "pending-upload", "uploaded"):
            return False
        self.vault.blobs.export(entry["plain"], destination)
        return True

    def attachment_bytes(self, message_id: str) -> bytes | None:
        """The attachment's plaintext, read from the vault into memory (a voice note to play); None when it is
        not on this computer. Nothing is written outside the vault."""
        entry = self.attachment(message_id)
        if entry is None or entry["state"] not in ("downloaded", "pending-upload", "uploaded"):
            return None
        return self.vault.blobs.read_all(entry["plain"])

    def attachments(self) -> dict[str, dict]:
        """message id → {name, size, sha (of the sealed file, its name on the server), key, mime, state, plain}."""
        raw = self.vault.get_secret("attachments")
        return json.loads(raw) if raw else {}

    def attachment(self, message_id: str) -> dict | None:
        return self.attachments().get(message_id)

    def _set_attachment(self, message_id: str, entry: dict) -> None:
        current = self.attachments()
        current[message_id] = entry
        self.vault.put_secret("attachments", json.dumps(current).encode())

    def pending_uploads(self) -> list[tuple[str, dict]]:
        return [(m, e) for m, e in self.attachments().items() if e["state"] == "pending-upload"]

    def sealed_attachment(self, entry: dict) -> bytes:
        """The bytes to upload: the vault's copy sealed under the attachment's key (the same every time)."""
        return envelope.seal_attachment(bytes.fromhex(entry["key"]), self.vault.blobs.read_all(entry["plain"]))

    def uploaded(self, message_id: str) -> None:
        entry = self.attachments()[message_id]
        self._set_attachment(message_id, {**entry, "state": "uploaded"})

    def store_downloaded(self, message_id: str, sealed: bytes) -> None:
        """Open a downloaded attachment with its key and keep it in the vault; a mismatch raises."""
        entry = self.attachments()[message_id]
        if hashlib.sha256(sealed).hexdigest() != entry["sha"]:
            raise envelope.EnvelopeError("the downloaded attachment does not match its message")
        data = envelope.open_attachment(bytes.fromhex(entry["key"]), sealed)
        with self.vault.transaction():
            info = self.vault.blobs.put_bytes(data, entry["name"], entry["mime"])
            self._set_attachment(message_id, {**entry, "state": "downloaded", "plain": info.id})

    def _sealed_record(self, thread: str, kind: str, content: dict, audience: list[str] | None = None) -> str:
        record = self._record(thread, kind, content, audience)
        self._enqueue(record)
        return record.i.hex()

    def _record(
        self, thread: str, kind: str, content: dict, audience: list[str] | None = None, record_id: bytes | None = None
    ) -> Record:
        """``content`` sealed for the thread's current epoch, as a record (signed when it is a group message)."""
        epoch, key = self._epoch(thread)
        meta = self.vault.threads.get(thread) or {}
        group = bool(meta.get("group"))
        wire_kind = "group-message" if (group and kind == "message") else kind
        record_id = record_id or new_record_id()
        body = envelope.seal(
            key, epoch, bytes.fromhex(thread), record_id, wire_kind, msgpack.packb(content, use_bin_type=True)
        )
        to = [bytes.fromhex(a) for a in (audience or meta.get("members", [self.me]))]
        record = Record(i=record_id, k=wire_kind, t=to, h=self.clock.now(), b=body)
        if wire_kind == "group-message":  # every member holds the key: the author signs too
            creds = self.program.credentials
            record = creds.key.sign_record(record, creds.account, creds.device)
        return record

    def _enqueue(self, record: Record, signed: bool = False) -> None:
        if signed:
            creds = self.program.credentials
            record = creds.key.sign_record(record, creds.account, creds.device)
        self.vault.records.enqueue(StoredRecord(record.i.hex(), record.k, self.me, record.h, pack_record(record)))

    def edit(self, message_id: str, text: str) -> None:
        """Change one's own message: a new record that replaces its text everywhere it arrived."""
        self._change(message_id, {"x": text.strip()[:MAX_TEXT], "edit": bytes.fromhex(message_id)}, "edited")

    def delete(self, message_id: str) -> None:
        """Withdraw one's own message: a new record that blanks it everywhere it arrived."""
        self._change(message_id, {"x": "", "delete": bytes.fromhex(message_id)}, "deleted")

    def _change(self, message_id: str, content: dict, mark: str) -> None:
        message = self.vault.messages.get(message_id)
        if message is None or message.author != self.me:
            raise ValueError("only your own messages can be changed")
        if mark == "edited" and not content["x"]:
            raise ValueError("an edited message needs text")
        with self.vault.transaction():  # the change record and the changed copy land together
            self._sealed_record(message.thread_id, "message", content)
            self._apply_change(message, content["x"], mark)

    def _apply_change(self, message: StoredMessage, text: str, mark: str) -> None:
        self.vault.messages.put(
            StoredMessage(message.id, message.thread_id, message.author, message.sent_at, message.state, text)
        )
        marks = self.marks()
        marks[message.id] = mark
        self.vault.put_secret("message-marks", json.dumps(marks).encode())

    def marks(self) -> dict[str, str]:
        """message id → "edited" or "deleted"."""
        raw = self.vault.get_secret("message-marks")
        return json.loads(raw) if raw else {}

    def mark_read(self, thread: str) -> int:
        """The person opened the thread: their copies become read, and the authors get a read receipt."""
        with self.vault.transaction():  # read here, and the receipt that says so, together
            unread = [m for m in self.vault.messages.in_thread(thread) if m.state == "received"]
            for message in unread:
                self.vault.messages.set_state(message.id, "read")
            self._receipt(thread, unread, "read")
        return len(unread)

    def _receipt(self, thread: str, messages: list[StoredMessage], state: str) -> None:
        """A receipt is a watermark per author: "delivered/read up to this message of yours", the last of
        ``messages`` (in the order they were taken in or shown) by each author — 32 bytes per author, whatever
        the number of messages (PROTOCOL.md §9.1)."""
        marks: dict[str, str] = {}
        for message in messages:
            if message.author != self.me:
                marks[message.author] = message.id
        if not marks:
            return
        authors = sorted(marks)
        content = {"s": state, "w": [[bytes.fromhex(a), bytes.fromhex(marks[a])] for a in authors]}
        try:
            with self.vault.transaction():  # nested: a receipt that cannot be sealed leaves nothing behind
                self._sealed_record(thread, "receipt", content, audience=[self.me, *authors])
        except MissingKeys:
            log.info("receipt for thread %s waits: a member has no keys yet", thread)

    # -- search ---------------------------------------------------------------------------------------------

    def _index(self, message_id: str, text: str) -> None:
        assert self._search is not None
        self._search.add(message_id, text)

    def search(self, query: str, limit: int = 100) -> list[StoredMessage]:
        """Messages containing every word of ``query`` in any script (folded, stemmed, prefix: ``search.py``),
        newest first. The index lives in memory only: built on the first search after unlocking, dropped with
        this object on lock."""
        if self._search is None:
            self._search = WordIndex()
            for message in self.vault.messages.iter_all():
                self._index(message.id, message.body)
        hits = self._search.find(query)
        found_messages = [m for m in (self.vault.messages.get(i) for i in hits) if m is not None]
        return sorted(found_messages, key=lambda m: m.sent_at, reverse=True)[:limit]
