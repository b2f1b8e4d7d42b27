"""Receiving (PROTOCOL.md §9): what ``Messaging.take_in`` does after every sync. It opens grants (keys kept
sealed in the vault), messages (stored decrypted in the vault, which seals them at rest), read receipts and the
server's delivery marks (PROTOCOL.md §4.5), which move the person's own messages to read and delivered. A mixin
of ``Messaging``: it uses the vault, the person's account and the thread bookkeeping that class keeps."""

from __future__ import annotations

import logging

import msgpack

from desktop.domain import keyring
from desktop.domain.message_format import MAX_GROUP, MAX_TEXT, ORDER, Peer, bundle_ids
from desktop.vault import StoredMessage
from desktop.vault.records import StoredRecord
from sync import envelope
from sync.protocol import DELIVERED_KIND, MARKED_KINDS, SERVER_ID, Record, unpack_record

log = logging.getLogger(__name__)
WAITING = "waiting"  # a grant whose key neither its entries nor the keyring give yet
ACCOUNT_KINDS = ("keyring", "account-key")


class Receiving:
    def take_in(self) -> set[str]:
        """Open what sync brought; returns the ids of threads that changed. One local transaction: the
        acknowledgements, what was opened, the records marked applied and the receipts owed for them land
        together, so a crash half way leaves everything to be taken in again, never a receipt lost."""
        with self.vault.transaction():
            return self._take_in()

    def _take_in(self) -> set[str]:
        changed: set[str] = set()
        applied_marks: list[str] = []
        bundles = self._bundles()
        acknowledged = [r.id for r in self.vault.records.by_state("sent") if r.id in bundles]
        for record_id in acknowledged:
            info = bundles.pop(record_id)
            for message_id in info.get("ids") or [item["i"].hex() for item in info["items"]]:
                current = self.vault.messages.get(message_id)
                if current is not None and current.state == "queued":
                    self.vault.messages.set_state(current.id, "sent")
                    changed.add(current.thread_id)
        if acknowledged:
            self._save_bundles(bundles)
        inbound = self.vault.records.by_state("inbound")
        applied: list[str] = self._take_account_records(inbound)
        grants = [r for r in inbound if r.kind == "epoch-grant"]
        for stored in inbound:
            if stored.kind == DELIVERED_KIND:
                changed |= self._take_mark(unpack_record(stored.wire))
                applied_marks.append(stored.id)
        others = [r for r in inbound if r.kind in ("message", "group-message", "receipt", *self.handlers)]
        for stored in grants:
            thread = self._take_grant(unpack_record(stored.wire), stored.author)
            if thread is WAITING:
                continue  # for the account's keyring to bring its key
            if thread:
                changed.add(thread)
            applied.append(stored.id)
        known_peers: dict[str, Peer] | None = None  # looked up once, and only if a group message came
        for stored in others:
            record = unpack_record(stored.wire)
            try:
                thread_bytes, epoch = envelope.envelope_epoch(record.b)
            except envelope.EnvelopeError:
                applied.append(stored.id)  # malformed: never shown
                self.refused += 1
                continue
            thread = thread_bytes.hex()
            key = self.vault.get_secret(f"epoch:{thread}:{epoch}")
            if key is None:
                continue  # its grant has not arrived yet
            if known_peers is None and record.k == "group-message":
                known_peers = self.peers()
            if record.k == "group-message" and not self._signed_by_author(record, known_peers.get(stored.author)):
                log.warning("group message %s is not signed by its author's published key; not shown", stored.id)
                applied.append(stored.id)
                self.refused += 1
                continue
            try:
                content = msgpack.unpackb(envelope.open_sealed(key, record.i, record.k, record.b), raw=False)
            except (envelope.EnvelopeError, ValueError, msgpack.ExtraData):
                log.warning("record %s of kind %s did not open; it is not shown", stored.id, record.k)
                applied.append(stored.id)
                self.refused += 1
                continue
            applied.append(stored.id)
            if record.k in self.handlers:
                if isinstance(content, dict):
                    self.handlers[record.k](content, stored.author)
                    changed.add(thread)
                continue
            if record.k == "receipt":
                self._take_receipt(content, stored.author)
                changed.add(thread)
                continue
            if isinstance(content, dict) and isinstance(content.get("b"), list):
                for item, message_id in zip(content["b"], bundle_ids(record.i, content), strict=False):  # ≤ 500
                    if message_id is not None:
                        stamp = item.get("h") if isinstance(item, dict) else None  # a repack keeps each one's
                        hlc = stamp if isinstance(stamp, int) and 0 < stamp <= record.h else record.h
                        self._take_message(message_id, thread, stored.author, hlc, item)
                changed.add(thread)
                continue
            text = content.get("x") if isinstance(content, dict) else None
            if not isinstance(text, str):
                continue
            target = content.get("edit") or content.get("delete")
            if isinstance(target, bytes):
                original = self.vault.messages.get(target.hex())
                if original is not None and original.author == stored.author:  # only authors change their words
                    self._apply_change(original, text[:MAX_TEXT], "edited" if content.get("edit") else "deleted")
                    changed.add(original.thread_id)
                continue
            self._take_message(stored.id, thread, stored.author, record.h, content)
            changed.add(thread)
        self.vault.records.mark_applied(applied + applied_marks)
        self._retire_received_epochs(changed, others, set(applied))
        return changed

    def _take_account_records(self, inbound: list[StoredRecord]) -> list[str]:
        """The person's own account records, first: a new generation of the account secret (after a revoke on
        another device), then keyring records (epoch keys the account's devices share). What cannot open yet
        (a keyring of a generation not received) waits; anything not from this account is dropped."""
        applied: list[str] = []
        ordered = sorted(
            (r for r in inbound if r.kind in ACCOUNT_KINDS), key=lambda r: (r.kind != "account-key", r.hlc)
        )
        for stored in ordered:
            record = unpack_record(stored.wire)
            if stored.author != self.me:
                applied.append(stored.id)
                self.refused += 1
                continue
            if record.k == "account-key":
                self._take_account_key(record)
                applied.append(stored.id)
            elif keyring.take_keyring(self.vault, record.i, record.b) is not None:
                applied.append(stored.id)
            else:
                try:
                    generation = envelope.keyring_generation(record.b)
                except envelope.EnvelopeError:
                    generation = -1
                newest = keyring.current(self.vault)
                if generation < 0 or (newest is not None and generation <= newest.generation):
                    applied.append(stored.id)  # damaged, or of a generation this device will never hold
                    self.refused += 1
        return applied

    def _take_account_key(self, record: Record) -> bool:
        """A new generation made by a device that revoked another: this device's entry opens to the chain."""
        creds = self.program.credentials
        try:
            doc = msgpack.unpackb(record.b, raw=False)
            generation, identity, signature = int(doc["g"]), bytes(doc["i"]), bytes(doc["c"])
            sealed = doc["k"].get(creds.device.hex())
        except (ValueError, KeyError, TypeError, AttributeError, msgpack.ExtraData):
            return False
        if not isinstance(sealed, bytes):
            return False  # not for this device
        old = keyring.generation_keys(self.vault, generation - 1)
        if old is None or not envelope.verify_chain(
            old.identity_public, creds.account, generation, identity, signature
        ):
            log.warning("a new account generation that does not follow from the one known; ignored")
            return False
        try:
            payload = envelope.open_account_secrets(sealed, self.program.box, creds.account, creds.device, generation)
            links, publics, _doc = keyring.unpack_chain(payload)
        except (envelope.EnvelopeError, ValueError, KeyError, TypeError, msgpack.ExtraData):
            return False
        if envelope.AccountKeys(dict(links)[generation], generation).identity_public != identity:
            return False
        keyring.store_chain(self.vault, links, publics)
        return True

    def _retire_received_epochs(self, threads: set[str], others: list[StoredRecord], applied: set[str]) -> None:
        waiting: dict[str, set[int]] = {}
        for stored in others:
            if stored.id not in applied:
                try:
                    thread_bytes, epoch = envelope.envelope_epoch(unpack_record(stored.wire).b)
                except envelope.EnvelopeError:
                    continue
                waiting.setdefault(thread_bytes.hex(), set()).add(epoch)
        for thread in threads:
            meta = self.vault.threads.get(thread)
            if meta is not None and len(meta.get("epochs", {})) > 2:
                self._retire_epochs(thread, meta, waiting.get(thread, set()))
                self._save_thread(thread, meta)

    def _signed_by_author(self, record: Record, peer: Peer | None) -> bool:
        """Every member holds a group's key, so a group message must also carry its author's signature, checked
        here against the key the author published (the server checked it against the registered one too)."""
        if peer is None or record.a is None or record.d is None:
            return False
        devices = self.device_peers().get(peer.account, [peer])  # type: ignore[attr-defined] - cached
        signer = next((p for p in devices if p.device == record.d.hex()), None)
        return signer is not None and envelope.verify_record(signer.sign, record, record.a, record.d)

    def _take_message(self, message_id: str, thread: str, author: str, hlc: int, item: dict) -> StoredMessage | None:
        """Store one arrived message (once); returns it when it is new and someone else's."""
        text = item.get("x")
        if not isinstance(text, str) or self.vault.messages.get(message_id) is not None:
            return None
        self._take_attachment(message_id, item.get("a"))
        for key, hook in self.item_hooks.items():  # type: ignore[attr-defined] - Messaging's
            if key in item:
                hook(message_id, author, item[key])
        mine = author == self.me  # written on another of this person's devices
        message = StoredMessage(message_id, thread, author, hlc >> 16, "sent" if mine else "received", text[:MAX_TEXT])
        self.vault.messages.put(message)
        if self._search is not None:
            self._index(message.id, message.body)
        meta = self.vault.threads.get(thread)
        if meta is not None:
            self._save_thread(thread, meta, message.sent_at)
        return None if mine else message

    def _take_attachment(self, message_id: str, wire: object) -> None:
        if not isinstance(wire, dict) or message_id in self.attachments():
            return
        try:
            name, size, sha, key = str(wire["n"])[:200], int(wire["s"]), str(wire["h"]), wire["k"]
        except (KeyError, TypeError, ValueError):
            return
        if not isinstance(key, bytes) or len(key) != 32 or len(sha) != 64 or not 0 <= size <= envelope.MAX_ATTACHMENT:
            return
        mime = str(wire.get("m", "application/octet-stream"))[:100]
        entry = {"name": name, "size": size, "sha": sha, "key": key.hex(), "mime": mime, "state": "remote", "plain": ""}
        self._set_attachment(message_id, entry)

    def _take_grant(self, record, author: str) -> str | None:  # type: ignore[no-untyped-def]
        try:
            doc = msgpack.unpackb(record.b, raw=False)
            thread_bytes, epoch, members = doc["t"], int(doc["e"]), [str(m) for m in doc["m"]]
            grants: dict = doc["g"]
        except (ValueError, KeyError, TypeError, msgpack.ExtraData):
            return None
        if (
            not isinstance(thread_bytes, bytes)
            or len(thread_bytes) != 16
            or author not in members
            or self.me not in members
        ):
            return None
        grant = grants.get(self.program.credentials.device.hex())
        thread = thread_bytes.hex()
        creds = self.program.credentials
        try:
            if isinstance(grant, bytes):
                key = envelope.open_grant(grant, self.program.box, thread_bytes, epoch, creds.account, creds.device)
            else:  # made before this device was linked, or by a peer who did not know it yet: the keyring's key
                key = self.vault.get_secret(f"epoch:{thread}:{epoch}")
                if key is None:
                    return WAITING
            title = doc.get("n", "")  # grants made before titles were sealed carry it in clear
            if "s" in doc:
                title = msgpack.unpackb(envelope.open_sealed(key, record.i, record.k, doc["s"]), raw=False)["n"]
        except (envelope.EnvelopeError, ValueError, KeyError, TypeError, msgpack.ExtraData):
            log.warning("an epoch grant for thread %s did not open; ignored", thread)
            return None
        keyring.keep_epoch_key(self.vault, thread, epoch, key)
        meta = self.vault.threads.get(thread) or {"members": members, "title": "", "epochs": {}}
        meta["members"] = sorted(set(members))
        meta["title"] = str(title)[:80]
        meta["group"] = len(members) > 2 or bool(meta.get("group"))
        meta["epochs"][str(epoch)] = meta["members"]
        meta["current"] = epoch
        meta["granted"] = sorted(d for d in grants if isinstance(d, str))  # a reply re-keys if the devices differ
        meta["epoch_started"] = record.h >> 16  # the epoch's age counts from its grant, not from its arrival
        self._save_thread(thread, meta, record.h >> 16)
        return thread

    def _take_mark(self, record: Record) -> set[str]:
        """A delivery mark from the server (PROTOCOL.md §4.5): a device of the reader holds this person's
        message record ``i`` and all before it. Only the server makes them (it refuses them from anyone else)."""
        if record.a != SERVER_ID:
            return set()
        try:
            content = msgpack.unpackb(record.b, raw=False)
        except (ValueError, msgpack.ExtraData):
            return set()
        mark = content.get("i") if isinstance(content, dict) else None
        ids = self._own_message_ids(mark.hex()) if isinstance(mark, bytes) and len(mark) == 16 else []
        if not ids:
            return set()
        self._up_to(bytes.fromhex(ids[-1]), "delivered")
        message = self.vault.messages.get(ids[-1])
        return {message.thread_id} if message is not None else set()

    def open_sealed_record(self, record: Record) -> tuple[str, int, object] | None:
        """(thread, epoch, content) of a record sealed for a conversation under an epoch key this device holds;
        None when it is not such a record or cannot be opened here."""
        try:
            thread_bytes, epoch = envelope.envelope_epoch(record.b)
            key = self.vault.get_secret(f"epoch:{thread_bytes.hex()}:{epoch}")
            if key is None:
                return None
            content = msgpack.unpackb(envelope.open_sealed(key, record.i, record.k, record.b), raw=False)
        except (envelope.EnvelopeError, ValueError, msgpack.ExtraData):
            return None
        return thread_bytes.hex(), epoch, content

    def _own_message_ids(self, record_id: str) -> list[str]:
        """The ids of the messages in one of this person's own message records (empty for anything else)."""
        stored = self.vault.records.get(record_id)
        if stored is None or stored.author != self.me or stored.kind not in MARKED_KINDS:
            return []
        record = unpack_record(stored.wire)
        opened = self.open_sealed_record(record)
        if opened is None:
            return []
        content = opened[2]
        if isinstance(content, dict) and isinstance(content.get("b"), list):
            return [i for i in bundle_ids(record.i, content) if i is not None]
        if isinstance(content, dict) and "edit" not in content and "delete" not in content:
            return [record_id]
        return []

    def _take_receipt(self, content: dict, author: str) -> None:
        state = content.get("s") if isinstance(content, dict) else None
        if state not in ("delivered", "read"):
            return
        for raw in content.get("m", [])[:1000]:  # the list of every message id, as receipts were before watermarks
            if not isinstance(raw, bytes):
                continue
            message = self.vault.messages.get(raw.hex())
            if message is not None and message.author == self.me and ORDER.get(message.state, 0) < ORDER[state]:
                self.vault.messages.set_state(message.id, state)
        for pair in content.get("w", [])[:MAX_GROUP]:
            if isinstance(pair, list) and len(pair) == 2 and pair[0] == bytes.fromhex(self.me):
                self._up_to(pair[1], state)

    def _up_to(self, mark: object, state: str) -> None:
        """Move one's own messages of the marked message's thread, up to and including it, to ``state``;
        never one still queued (it cannot have been seen), never backwards."""
        if not isinstance(mark, bytes) or len(mark) != 16:
            return
        marked = self.vault.messages.get(mark.hex())
        if marked is None or marked.author != self.me:
            return
        for message in self.vault.messages.in_thread(marked.thread_id):  # oldest first, as written
            if message.author == self.me and message.state != "queued" and ORDER[message.state] < ORDER[state]:
                self.vault.messages.set_state(message.id, state)
            if message.id == marked.id:
                break
